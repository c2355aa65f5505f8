import { webhookEvent } from "../webhooks/emit";
import { publishRevokedKeys } from "../../identity/api-key-credentials";
import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { isUniqueViolation, runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { enqueueEmails } from "../../email/queue";
import { accessChanged } from "../../identity/grants";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";
import { auditInsert, auditInsertEach } from "../../audit/audit.repo";
import { outboxInsertIf } from "../../email/outbox.repo";
import { emails } from "../../email/templates";
import { classifyImportedHash } from "../auth/password-hash";
import { profilePatchFrom } from "../profile/profile.service";
import { userViewChanged } from "../users/user-view-cache";
import type { UserStatus } from "../../db/tables";
import {
  endSessionsOnNewHash,
  existingUsersByEmail,
  grantImportedRoles,
  insertImportedUsers,
  storedHashDiffers,
  updateImportedProfiles,
  updateImportedUsers,
  type ImportedProfile,
  type NewImportedUser,
} from "./admin-import.repo";
import { assignableRole, isSuperuserActor, publishEndedSessions, statusChangePlan, targetGuard } from "./admin-lifecycle.service";
import { ImportUserRow, type ImportFailureCode, type ImportInput, type ImportResult } from "./admin-import.schemas";
import { inviteStatements } from "./admin-users.service";
import { NO_PASSWORD } from "../../identity/sign-in-methods";
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
 * users, one audit row per created or changed user and one event with the counts), with set-based
 * statements over JSON parameters. `upsert` changes an existing user's hash, status, verification
 * or roles only for a superuser caller (else the row fails `forbidden`). An upserted user whose
 * hash changes loses every session and API key in that batch and is emailed, as with a password change.
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
    if (row.password_hash !== undefined) {
      const kind = classifyImportedHash(row.password_hash);
      if (kind === null) return fail(index, row.email, "invalid_password_hash");
      if (kind === "too_costly") return fail(index, row.email, "hash_too_costly");
    }
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
  const createdAudit: { userId: string; details: Record<string, unknown> }[] = [];
  const updatedAudit: { userId: string; details: Record<string, unknown> }[] = [];
  const hashChanges: { userId: string; passwordHash: string; email: string; fullName: string }[] = [];
  const superuser = isSuperuserActor(actor);
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
      if (current.id === actor.userId || (current.isSuperuser === 1 && !superuser)) {
        fail(index, row.email, "forbidden");
        continue;
      }
      // What only a superuser may change on an existing account: the hash (a takeover), the
      // status, the verification and the roles. A value equal to the stored one is no change.
      const held = new Set(JSON.parse(current.roleIds || "[]") as string[]);
      const change = {
        password: row.password_hash !== undefined && row.password_hash !== current.passwordHash,
        status: row.status !== undefined && row.status !== current.status,
        verified: row.email_verified !== undefined && row.email_verified !== (current.emailVerified === 1),
        roles: roleIds.filter((id) => !held.has(id)),
      };
      if (!superuser && (change.password || change.status || change.verified || change.roles.length > 0)) {
        fail(index, row.email, "forbidden");
        continue;
      }
      userUpdates.push({
        id: current.id,
        fullName: row.full_name,
        phone: row.phone,
        accountType: row.account_type,
        ...(change.verified ? { emailVerified: row.email_verified, emailVerifiedAt: row.email_verified ? now : null } : {}),
        ...(change.password ? { passwordHash: row.password_hash, passwordChangedAt: now } : {}),
        updatedAt: now,
      });
      if (Object.keys(profile).length) profileUpdates.push({ userId: current.id, ...profile, updatedAt: now });
      if (change.status) statusTargets.set(row.status!, [...(statusTargets.get(row.status!) ?? []), current.id]);
      for (const roleId of change.roles) grants.push({ id: newId("uro", now.getTime()), userId: current.id, roleId, grantedBy: actor.userId, grantedAt: now });
      if (change.password) hashChanges.push({ userId: current.id, passwordHash: row.password_hash!, email: current.email, fullName: row.full_name });
      updatedAudit.push({
        userId: current.id,
        details: {
          mode: input.mode,
          created: false,
          fields: Object.keys(row).filter((k) => k !== "email"),
          password_changed: change.password,
          ...(change.status ? { status: row.status } : {}),
          ...(change.verified ? { email_verified: row.email_verified } : {}),
          ...(change.roles.length ? { roles_granted: roles.filter((r) => change.roles.includes((roleOf.get(r) as { id: string }).id)) } : {}),
        },
      });
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
    createdAudit.push({ userId: id, details: { mode: input.mode, created: true, password_set: row.password_hash !== undefined, ...(roles.length ? { roles_granted: roles } : {}) } });
  }

  const inviteParts = await Promise.all(invites.map((u) => inviteStatements(ctx, u)));
  const statusPlans = [...statusTargets].map(([status, ids]) => statusChangePlan(ctx, actor, ACTION_FOR_STATUS[status], ids, { via: "import" }));
  const result: ImportResult = { created: newUsers.length, updated: userUpdates.length, skipped, failed: failed.sort((a, b) => a.index - b.index) };

  // Before the updates: they compare the imported hashes with the stored ones. Only a
  // superuser's rows carry a new hash (see above); the "password changed" email goes out only if
  // the hash still differs when the batch runs.
  const sessionEnds = endSessionsOnNewHash(db, hashChanges, now);
  const changedMails = await Promise.all(
    hashChanges.map((h) =>
      outboxInsertIf(
        ctx,
        { to: h.email, userId: h.userId, email: emails.passwordChanged({ name: h.fullName, when: now.toISOString(), ip: ctx.ip, byAdministrator: true }) },
        storedHashDiffers(h.userId, h.passwordHash),
      ),
    ),
  );
  // Every change to an existing user is held by the statement itself: never the caller's own
  // account, a superuser's only for a superuser (a user made superuser after the read above is
  // left alone), so no pre-read can be raced into a takeover.
  const guard = targetGuard(ctx, actor);
  const statements: Statement[] = [
    ...sessionEnds.sessions,
    ...sessionEnds.mfaSteps,
    ...sessionEnds.apiKeys,
    ...changedMails.map((m) => m.statement),
    ...insertImportedUsers(db, newUsers, newProfiles, newUsers.map(() => newId("pwh", now.getTime())), now),
    // The per-user audit rows of updates are decided before the updates, by the same guard.
    ...auditInsertEach(db, ctx, updatedAudit, { action: "admin.user_imported", actorId: actor.userId }, guard),
    ...updateImportedUsers(db, userUpdates, guard),
    ...updateImportedProfiles(db, profileUpdates, guard),
    ...grantImportedRoles(db, grants),
    ...inviteParts.flatMap((p) => p.statements),
    ...auditInsertEach(db, ctx, createdAudit, { action: "admin.user_imported", actorId: actor.userId }),
    auditInsert(db, ctx, {
      userId: null,
      actorId: actor.userId,
      action: "admin.users_imported",
      details: { mode: input.mode, rows: input.users.length, created: result.created, updated: result.updated, skipped, failed: failed.length, invited: invites.length, roles_granted: grants.length },
    }),
    // One platform `user.imported` per import that created or updated users (ids and counts: no
    // hash, no personal field), committed with it.
    ...(result.created + result.updated > 0
      ? await webhookEvent(ctx, {
          type: "user.imported",
          scope: "platform",
          data: { mode: input.mode, created: result.created, updated: result.updated, skipped, failed: failed.length, created_ids: newUsers.map((u) => u.id), updated_ids: touched },
        })
      : []),
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
  const keysStart = sessionEnds.sessions.length + sessionEnds.mfaSteps.length;
  const revokedKeys = (results.slice(keysStart, keysStart + sessionEnds.apiKeys.length) as { keyHash: string }[][]).flat();
  await Promise.all([
    publishEndedSessions(ctx, endedSessions),
    publishRevokedKeys(ctx, revokedKeys.map((k) => k.keyHash)),
    ...statusPlans.map((plan, i) => plan.publish(results, planOffsets[i]!)),
  ]);
  for (const id of touched) {
    accessChanged(id);
    userViewChanged(id);
  }
  const mailIds = [...inviteParts.map((p) => p.outboxId), ...changedMails.map((m) => m.id)];
  if (mailIds.length) ctx.waitUntil(enqueueEmails(ctx.env, mailIds));
  return result;
}
