import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { isUniqueViolation, runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { outboxInsert, outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails, tokenLink } from "../../email/templates";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { issueOneTimeToken } from "../auth/one-time-tokens.repo";
import { hashPassword } from "../auth/password-hash";
import { assertPasswordAcceptable } from "../auth/passwords.service";
import { userViewChanged } from "../users/user-view-cache";
import { findUserByEmail, insertUserStatements } from "../users/users.repo";
import { isSuperuserActor, statusChangePlan, targetGuard } from "./admin-lifecycle.service";
import { signInMethodsOf } from "./admin-factors.service";
import { passkeySummary } from "../auth/passkeys.repo";
import { sql, type SQL } from "drizzle-orm";
import { signInGuard } from "../../platform/sign-in-guard-client";
import { loginGuardKey } from "../auth/login.service";
import { mfaGuardKey } from "../auth/mfa.service";
import { isSuperuser, loadAdminUser, searchUsers, stillPasswordless, userExists, userForInvite, type UserListRow } from "./admin-users.repo";
import { clearLoginFailures, updateUserFields } from "../users/users.repo";
import type { AdminUserSearchQuery, AdminUserView, CreateUserInput, LifecycleAction, UpdateUserInput } from "./admin-users.schemas";
import { HOUR } from "../../platform/time";

import { NO_PASSWORD } from "../../identity/sign-in-methods";

const iso = (v: Date | number | null | undefined) => (v === null || v === undefined ? null : new Date(v).toISOString());

function effectiveRoles(json: string): string[] {
  const assigned = (JSON.parse(json || "[]") as string[]).filter((r) => r !== IMPLICIT_ROLE).sort();
  return [IMPLICIT_ROLE, ...assigned];
}

const toListItem = (r: UserListRow) => ({
  id: r.id,
  email: r.email,
  email_verified: r.email_verified === 1,
  full_name: r.full_name,
  phone: r.phone,
  status: r.status,
  account_type: r.account_type,
  two_factor_enabled: r.two_factor_enabled === 1,
  roles: effectiveRoles(r.roles_json),
  created_at: iso(r.created_at)!,
  last_login_at: iso(r.last_login_at),
  locked_until: iso(r.locked_until),
  deletion_requested_at: iso(r.deletion_requested_at),
});

/** GET /admin/users: one page, sorted, with the total (one round trip). */
export async function searchUsersAsAdmin(ctx: RequestContext, query: AdminUserSearchQuery) {
  const { rows, total } = await searchUsers(ctx.db, query, ctx.now);
  return { items: rows.map(toListItem), total, page: query.page, page_size: query.page_size };
}

/** GET /admin/users/{id}: the full admin view, or 404. */
export async function adminUserView(ctx: RequestContext, userId: string): Promise<AdminUserView> {
  const [loaded, passkeys] = await Promise.all([loadAdminUser(ctx.db, userId, ctx.now), passkeySummary(ctx.db, userId)]);
  if (!loaded) throw new AppError("not_found", "User not found");
  const methods = signInMethodsOf(ctx, { passwordSet: loaded.user.passwordSet === 1, twoFactorEnabled: loaded.user.twoFactorEnabled }, passkeys);
  const { user: u, roles, sessions, apiKeys, organizations, profile, sessionList, apiKeyList } = loaded;
  const now = ctx.now.getTime();
  const live = roles.filter((r) => r.expiresAt === null || r.expiresAt.getTime() > now).map((r) => r.role);
  return {
    id: u.id,
    email: u.email,
    email_verified: u.emailVerified,
    full_name: u.fullName,
    phone: u.phone,
    status: u.status,
    account_type: u.accountType,
    two_factor_enabled: u.twoFactorEnabled,
    roles: [IMPLICIT_ROLE, ...live.filter((r) => r !== IMPLICIT_ROLE)],
    created_at: u.createdAt.toISOString(),
    last_login_at: iso(u.lastLoginAt),
    locked_until: iso(u.lockedUntil),
    deletion_requested_at: iso(u.deletionRequestedAt),
    email_verified_at: iso(u.emailVerifiedAt),
    password_set: u.passwordSet === 1,
    password_changed_at: u.passwordSet === 1 ? iso(u.passwordChangedAt) : null,
    failed_login_attempts: u.failedLoginAttempts,
    last_login_ip: u.lastLoginIp,
    updated_at: u.updatedAt.toISOString(),
    role_assignments: roles.map((r) => ({
      role: r.role,
      granted_at: r.grantedAt.toISOString(),
      granted_by: r.grantedBy,
      expires_at: iso(r.expiresAt),
      active: r.expiresAt === null || r.expiresAt.getTime() > now,
    })),
    sessions: {
      active: sessions.active,
      last_used_at: iso(sessions.lastUsedAt as Date | number | null),
      last_sign_in_country: sessions.lastCountry,
      last_sign_in_city: sessions.lastCity,
      countries: (JSON.parse(sessions.countries || "[]") as string[]).sort(),
    },
    sessions_list: sessionList.map((s) => ({
      id: s.id,
      device_name: s.deviceName,
      ip_address: s.ipAddress,
      country: s.country,
      city: s.city,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
    })),
    sign_in_methods: methods,
    api_keys: { active: apiKeys.active },
    api_keys_list: apiKeyList.map((k) => ({
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      scopes: k.scopes,
      created_at: k.createdAt.toISOString(),
      last_used_at: iso(k.lastUsedAt),
      expires_at: iso(k.expiresAt),
    })),
    organizations: organizations.map((o) => ({ organization_id: o.organizationId, name: o.name, role: o.role })),
    profile: profile && {
      company_name: profile.companyName,
      designation: profile.designation,
      head_office_city: profile.headOfficeCity,
      head_office_state: profile.headOfficeState,
      timezone: profile.timezone,
      language_preference: profile.languagePreference,
    },
  };
}

/** The set-password link for a password-less account: token + email, as statements for a batch (admin creation, resend and the import). */
export async function inviteStatements(ctx: RequestContext, user: { id: string; email: string; fullName: string }, onlyIf?: SQL) {
  const { db, now, config } = ctx;
  const issued = issueOneTimeToken(
    db,
    // `verifies_email`: the link reached the inbox, so setting the password also verifies it.
    { userId: user.id, purpose: "password_reset", ttlMs: config.ADMIN_INVITE_TTL_HOURS * HOUR, data: { verifies_email: true }, onlyIf },
    now,
  );
  const message = {
    to: user.email,
    userId: user.id,
    email: emails.accountInvite({ name: user.fullName, url: tokenLink(config, "reset-password", issued.token), hours: config.ADMIN_INVITE_TTL_HOURS }),
  };
  const mail = onlyIf ? await outboxInsertIf(ctx, message, onlyIf) : await outboxInsert(ctx, message);
  return { statements: [...issued.statements, mail.statement] as Statement[], outboxId: mail.id };
}

/**
 * POST /admin/users. With a password: policy-checked and hashed like a registration. Without one:
 * the account gets an unusable hash and a single-use set-password link by email. User, profile,
 * preferences, token, email and audit are one batch. 409 `conflict` for a taken email.
 */
export async function createUserAsAdmin(ctx: RequestContext, actor: UserActor, input: CreateUserInput): Promise<string> {
  const { db, now, env } = ctx;
  if (input.password !== undefined) await assertPasswordAcceptable(ctx.config, input.password, { email: input.email, fullName: input.full_name });
  if (await findUserByEmail(db, input.email, now)) throw new AppError("conflict", "An account with this email already exists");
  const id = newId("usr", now.getTime());
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : NO_PASSWORD;
  const invite = input.password === undefined ? await inviteStatements(ctx, { id, email: input.email, fullName: input.full_name }) : null;
  const [insertUser, ...rest] = insertUserStatements(
    db,
    { id, email: input.email, passwordHash, fullName: input.full_name, phone: input.phone ?? null, emailVerified: input.email_verified },
    now,
  );
  try {
    await runBatch(ctx, [
      insertUser,
      ...rest,
      ...(input.account_type !== "free" ? [updateUserFields(db, id, { accountType: input.account_type }, now)] : []),
      ...(invite?.statements ?? []),
      auditInsert(db, ctx, {
        userId: id,
        actorId: actor.userId,
        action: "admin.user_created",
        details: { email_verified: input.email_verified, account_type: input.account_type, password_set: input.password !== undefined },
      }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err, "users.email")) throw new AppError("conflict", "An account with this email already exists");
    throw err;
  }
  if (invite) ctx.waitUntil(enqueueEmails(env, [invite.outboxId]));
  return id;
}

/** POST /admin/users/{id}/resend-invite: a new set-password link (earlier ones stop working). */
export async function resendInvite(ctx: RequestContext, actor: UserActor, userId: string): Promise<void> {
  const { db } = ctx;
  const user = await userForInvite(db, userId);
  if (!user) throw new AppError("not_found", "User not found");
  // Like every admin action: not on oneself, and a superuser's account only by a superuser.
  await assertMayChange(ctx, actor, userId);
  if (user.passwordSet === 1) throw new AppError("conflict", "This user has already set a password");
  // The reads above only pick the answer; every statement holds the rule itself.
  const guard = sql`${userExists(userId)} AND ${targetGuard(ctx, actor)(sql`${userId}`)} AND ${stillPasswordless(userId)}`;
  const invite = await inviteStatements(ctx, user, guard);
  const results = await runBatch(ctx, [...invite.statements, auditInsertIf(db, ctx, { userId, actorId: actor.userId, action: "admin.invite_resent" }, guard)]);
  if ((results[invite.statements.length - 1] as D1Result).meta.changes === 0) {
    await assertMayChange(ctx, actor, userId);
    if (!(await userForInvite(db, userId))) throw new AppError("not_found", "User not found");
    throw new AppError("conflict", "This user has already set a password");
  }
  ctx.waitUntil(enqueueEmails(ctx.env, [invite.outboxId]));
}

/** Administrators change other accounts; a superuser's account only a superuser changes. */
async function assertMayChange(ctx: RequestContext, actor: UserActor, userId: string): Promise<void> {
  if (userId === actor.userId) throw new AppError("forbidden", "Administrators cannot change their own account through /admin");
  if (!isSuperuserActor(actor) && (await isSuperuser(ctx.db, userId, ctx.now))) throw new AppError("forbidden", "Only a superuser changes a superuser");
}

const ACTION_FOR_STATUS = { active: "activate", inactive: "deactivate", suspended: "suspend" } as const satisfies Record<string, LifecycleAction>;

/**
 * PATCH /admin/users/{id}: fields and status in one batch. A status change has exactly the effect
 * of the matching lifecycle route (sessions end, tokens and keys stop at once).
 */
export async function updateUserAsAdmin(ctx: RequestContext, actor: UserActor, userId: string, input: UpdateUserInput): Promise<void> {
  const { db, now } = ctx;
  await assertMayChange(ctx, actor, userId);
  // The read above only picks the answer; the statements hold the rule themselves.
  const guard = targetGuard(ctx, actor)(sql`${userId}`);
  const fields = { fullName: input.full_name, accountType: input.account_type, emailVerified: input.email_verified };
  const statements: Statement[] = [
    updateUserFields(db, userId, fields, now, guard),
    auditInsertIf(db, ctx, { userId, actorId: actor.userId, action: "admin.user_updated", details: { fields: Object.keys(input) } }, sql`${userExists(userId)} AND ${guard}`),
  ];
  const plan = input.status ? statusChangePlan(ctx, actor, ACTION_FOR_STATUS[input.status], [userId]) : null;
  const results = await runBatch(ctx, [...statements, ...(plan?.statements ?? [])]);
  if ((results[0] as unknown[]).length === 0) {
    await assertMayChange(ctx, actor, userId);
    throw new AppError("not_found", "User not found");
  }
  await plan?.publish(results, statements.length);
  userViewChanged(userId);
}

/**
 * POST /admin/users/{id}/unlock: clears the sign-in lock and failure counts where they are
 * enforced (the SignInGuard objects for the email and for the second factor) and their
 * admin-visible copy on the user row. Like every admin action: not on oneself, and a
 * superuser's only by a superuser (403), held by the statements themselves.
 */
export async function unlockUser(ctx: RequestContext, actor: UserActor, userId: string): Promise<void> {
  const { db } = ctx;
  await assertMayChange(ctx, actor, userId);
  const guard = targetGuard(ctx, actor)(sql`${userId}`);
  const [, cleared] = await runBatch(ctx, [
    auditInsertIf(db, ctx, { userId, actorId: actor.userId, action: "admin.user_unlocked" }, sql`${userExists(userId)} AND ${guard}`),
    clearLoginFailures(db, userId, guard),
  ]);
  const row = (cleared as { id: string; email: string }[])[0];
  if (!row) {
    await assertMayChange(ctx, actor, userId);
    throw new AppError("not_found", "User not found");
  }
  await Promise.all([signInGuard(ctx.env, loginGuardKey(row.email)).succeed(), signInGuard(ctx.env, mfaGuardKey(userId)).succeed()]);
  userViewChanged(userId);
}
