import type { UserActor } from "../../platform/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { isUniqueViolation } from "../../platform/db";
import { newId } from "../../platform/ids";
import { enqueueEmails } from "../../email/queue";
import { accessChanged } from "../access/access.service";
import { IMPLICIT_ROLE } from "../access/access.repo";
import { auditInsert } from "../audit/audit.repo";
import { classifyImportedHash } from "../auth/password-hash";
import { runBatch, type Statement } from "../auth/sessions.service";
import { profilePatchFrom } from "../profile/profile.service";
import { userViewChanged } from "../users/user-view";
import type { UserStatus } from "../users/users.tables";
import {
  endSessionsOnNewHash,
  existingUsersByEmail,
  grantImportedRoles,
  insertImportedUsers,
  updateImportedProfiles,
  updateImportedUsers,
  type ImportedProfile,
  type NewImportedUser,
} from "./admin-import.repo";
import { assignableRole, isSuperuserActor, publishEndedSessions, statusChangePlan } from "./admin-lifecycle.service";
import { ImportUserRow, type ImportFailureCode, type ImportInput, type ImportResult } from "./admin-import.schemas";
import { inviteStatements, NO_PASSWORD } from "./admin-users.service";
import type { LifecycleAction } from "./admin-users.schemas";

const ACTION_FOR_STATUS: Record<UserStatus, LifecycleAction> = { active: "activate", inactive: "deactivate", suspended: "suspend" };

/** A role name → its id, or why rows naming it fail (checked once per distinct name). */
async function resolveRoles(ctx: RequestContext, actor: UserActor, names: Set<string>) {
  const resolved = new Map<string, { id: string } | ImportFailureCode>();
  for (const name of names) {
    try {
      resolved.set(name, await assignableRole(ctx, actor, name));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      resolved.set(name, err.code === "validation_failed" ? "unknown_role" : "forbidden");
    }
  }
  return resolved;
}

const emailOf = (raw: unknown) =>
  raw && typeof raw === "object" && typeof (raw as { email?: unknown }).email === "string" ? (raw as { email: string }).email : null;

/**
 * POST /admin/users/import. Every row is validated on its own and reported (`failed` with its index
 * and code); the rows that pass are written in ONE batch (users, profiles, preferences, password
 * history, role grants, set-password links for users without a hash, status changes of upserted
 * users, one audit event with the counts), with set-based statements over JSON parameters. An
 * upserted user whose hash changes loses every session in that batch, as with a password change.
 * Idempotent by email. A concurrent import that creates one of the same emails first → 409
 * `conflict` and nothing of this request is written (retrying it is safe).
 */
export async function importUsers(ctx: RequestContext, actor: UserActor, input: ImportInput): Promise<ImportResult> {
  const { db, now } = ctx;
  const failed: ImportResult["failed"] = [];
  const fail = (index: number, email: string | null, code: ImportFailureCode) => failed.push({ index, email, code });

  // 1. Each row on its own: shape, duplicates inside the request, hash format.
  const valid: { index: number; row: ImportUserRow; roles: string[] }[] = [];
  const seen = new Set<string>();
  input.users.forEach((raw, index) => {
    const parsed = ImportUserRow.safeParse(raw);
    if (!parsed.success) return fail(index, emailOf(raw), "validation_failed");
    const row = parsed.data;
    if (seen.has(row.email)) return fail(index, row.email, "duplicate_in_request");
    seen.add(row.email);
    if (row.password_hash !== undefined && classifyImportedHash(row.password_hash) === null) return fail(index, row.email, "invalid_password_hash");
    valid.push({ index, row, roles: [...new Set(row.roles ?? [])].filter((r) => r !== IMPLICIT_ROLE) });
  });

  // 2. Roles (once per distinct name) and existing accounts (one query).
  const roleOf = await resolveRoles(ctx, actor, new Set(valid.flatMap((v) => v.roles)));
  const existing = new Map((valid.length ? await existingUsersByEmail(db, valid.map((v) => v.row.email), now) : []).map((u) => [u.email, u]));

  const newUsers: NewImportedUser[] = [];
  const newProfiles: ImportedProfile[] = [];
  const grants: { id: string; userId: string; roleId: string; grantedBy: string; grantedAt: Date }[] = [];
  const invites: { id: string; email: string; fullName: string }[] = [];
  const userUpdates: (Partial<NewImportedUser> & { id: string })[] = [];
  const profileUpdates: (Partial<ImportedProfile> & { userId: string })[] = [];
  const statusTargets = new Map<UserStatus, string[]>();
  const touched: string[] = [];
  let skipped = 0;

  for (const { index, row, roles } of valid) {
    const roleFailure = roles.map((r) => roleOf.get(r)).find((r): r is ImportFailureCode => typeof r === "string");
    if (roleFailure) {
      fail(index, row.email, roleFailure);
      continue;
    }
    const roleIds = roles.map((r) => (roleOf.get(r) as { id: string }).id);
    const profile = row.profile ? profilePatchFrom(row.profile) : {};
    const current = existing.get(row.email);
    if (current && input.mode === "skip") {
      skipped++;
      continue;
    }
    if (current) {
      if (current.id === actor.userId || (current.isSuperuser === 1 && !isSuperuserActor(actor))) {
        fail(index, row.email, "forbidden");
        continue;
      }
      userUpdates.push({
        id: current.id,
        fullName: row.full_name,
        phone: row.phone,
        accountType: row.account_type,
        ...(row.email_verified !== undefined ? { emailVerified: row.email_verified, emailVerifiedAt: row.email_verified ? now : null } : {}),
        ...(row.password_hash !== undefined ? { passwordHash: row.password_hash, passwordChangedAt: now } : {}),
        updatedAt: now,
      });
      if (Object.keys(profile).length) profileUpdates.push({ userId: current.id, ...profile, updatedAt: now });
      if (row.status) statusTargets.set(row.status, [...(statusTargets.get(row.status) ?? []), current.id]);
      for (const roleId of roleIds) grants.push({ id: newId("uro", now.getTime()), userId: current.id, roleId, grantedBy: actor.userId, grantedAt: now });
      touched.push(current.id);
      continue;
    }
    const id = newId("usr", now.getTime());
    const emailVerified = row.email_verified ?? false;
    newUsers.push({
      id,
      email: row.email,
      passwordHash: row.password_hash ?? NO_PASSWORD,
      fullName: row.full_name,
      phone: row.phone ?? null,
      emailVerified,
      emailVerifiedAt: emailVerified ? now : null,
      status: row.status ?? "active",
      accountType: row.account_type ?? "free",
      passwordChangedAt: now,
      createdAt: row.created_at ? new Date(row.created_at) : now,
      updatedAt: now,
    });
    newProfiles.push({ userId: id, ...profile, createdAt: now, updatedAt: now });
    for (const roleId of roleIds) grants.push({ id: newId("uro", now.getTime()), userId: id, roleId, grantedBy: actor.userId, grantedAt: now });
    if (row.password_hash === undefined) invites.push({ id, email: row.email, fullName: row.full_name });
  }

  const inviteParts = await Promise.all(invites.map((u) => inviteStatements(ctx, u)));
  const statusPlans = [...statusTargets].map(([status, ids]) => statusChangePlan(ctx, actor, ACTION_FOR_STATUS[status], ids, { via: "import" }));
  const result: ImportResult = { created: newUsers.length, updated: userUpdates.length, skipped, failed: failed.sort((a, b) => a.index - b.index) };

  // Before the updates: they compare the imported hashes with the stored ones.
  const sessionEnds = endSessionsOnNewHash(
    db,
    userUpdates.flatMap((u) => (u.passwordHash === undefined ? [] : [{ userId: u.id, passwordHash: u.passwordHash }])),
    now,
  );
  const statements: Statement[] = [
    ...sessionEnds.sessions,
    ...sessionEnds.mfaSteps,
    ...insertImportedUsers(db, newUsers, newProfiles, newUsers.map(() => newId("pwh", now.getTime())), now),
    ...updateImportedUsers(db, userUpdates),
    ...updateImportedProfiles(db, profileUpdates),
    ...grantImportedRoles(db, grants),
    ...inviteParts.flatMap((p) => p.statements),
    auditInsert(db, ctx, {
      userId: null,
      actorId: actor.userId,
      action: "admin.users_imported",
      details: { mode: input.mode, rows: input.users.length, created: result.created, updated: result.updated, skipped, failed: failed.length, invited: invites.length, roles_granted: grants.length },
    }),
  ];
  const planOffsets: number[] = [];
  for (const plan of statusPlans) {
    planOffsets.push(statements.length);
    statements.push(...plan.statements);
  }

  let results: unknown[];
  try {
    results = await runBatch(ctx, statements);
  } catch (err) {
    if (isUniqueViolation(err, "users.email")) throw new AppError("conflict", "Another request created one of these users meanwhile; retry the import");
    throw err;
  }
  const endedSessions = (results.slice(0, sessionEnds.sessions.length) as { id: string; lastUsedAt: Date }[][]).flat();
  await Promise.all([publishEndedSessions(ctx, endedSessions), ...statusPlans.map((plan, i) => plan.publish(results, planOffsets[i]!))]);
  for (const id of touched) {
    accessChanged(id);
    userViewChanged(id);
  }
  if (inviteParts.length) ctx.waitUntil(enqueueEmails(ctx.env, inviteParts.map((p) => p.outboxId)));
  return result;
}
