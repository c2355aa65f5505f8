import type { Owner } from "../../identity/owner";
import { and, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import { passwordHistory, userPreferences, userProfiles, users, type UserStatus } from "../../db/tables";
import { inJsonArray, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";
import { IMPLICIT_ROLE, latestConsentSql } from "../../identity/grants.repo";
import type { UserRow } from "./user.schema";


/** Effective role names of `users.id` at `now`, as a JSON array (one subquery, no N+1). */
// Raw SQL with aliases: drizzle renders columns unqualified inside a select's sql fragment.
const rolesJson = (now: Date) => sql<string>`(
  SELECT json_group_array(r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
  WHERE ur.user_id = "users"."id" AND (ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()})
)`;

/** A user with its effective roles and the latest terms / privacy versions it accepted. */
export type UserWithRoles = UserRow & { roles: string[]; acceptedTerms: string | null; acceptedPrivacy: string | null };

function withRoles<T extends { rolesJson: string }>(row: T | undefined): (Omit<T, "rolesJson"> & { roles: string[] }) | undefined {
  if (!row) return undefined;
  const { rolesJson: raw, ...rest } = row;
  const assigned = (JSON.parse(raw || "[]") as string[]).filter((r) => r !== IMPLICIT_ROLE).sort();
  return { ...rest, roles: [IMPLICIT_ROLE, ...assigned] };
}

/** The columns of a user with its effective roles and latest consents, for one query. */
const userColumns = (now: Date) => ({
  ...getTableColumns(users),
  rolesJson: rolesJson(now),
  acceptedTerms: latestConsentSql(sql`"users"."id"`, "terms").as("accepted_terms"),
  acceptedPrivacy: latestConsentSql(sql`"users"."id"`, "privacy").as("accepted_privacy"),
});

/** The query for one user with its effective roles (built, not run). */
const userQuery = (db: Db, where: SQL, now: Date) => db.select(userColumns(now)).from(users).where(where);

/** One user with its effective roles, in one query. */
async function findUser(db: Db, where: SQL, now: Date): Promise<UserWithRoles | undefined> {
  return withRoles(await userQuery(db, where, now).get());
}

export const findUserByEmail = (db: Db, email: string, now: Date) => findUser(db, eq(users.email, email), now);

/**
 * `findUserByEmail`, and in the same query named yes/no SQL probes about the found row
 * (`"users"."id"` in a probe is its id): lets the sign-in know what it would otherwise ask in
 * further statements (is the device known, does the domain enforce SSO).
 */
export async function findUserByEmailProbing<K extends string>(
  db: Db,
  email: string,
  now: Date,
  probes: Record<K, SQL>,
): Promise<{ user: UserWithRoles; probes: Record<K, boolean> } | undefined> {
  const extra = Object.fromEntries(Object.entries<SQL>(probes).map(([k, q]) => [`probe_${k}`, sql<number>`(${q})`]));
  const row = await db
    .select({ ...userColumns(now), ...extra })
    .from(users)
    .where(eq(users.email, email))
    .get();
  if (!row) return undefined;
  const all = row as Record<string, unknown>;
  const found = Object.fromEntries(Object.keys(probes).map((k) => [k, Boolean(all[`probe_${k}`])])) as Record<K, boolean>;
  for (const k of Object.keys(probes)) delete all[`probe_${k}`];
  return { user: withRoles(row as typeof row & { rolesJson: string })! as UserWithRoles, probes: found };
}
export const findUserById = (db: Db, id: string, now: Date) => findUser(db, eq(users.id, id), now);

/** `findUserById`'s statement, built (not run): what the isolate's warm-up builds once. */
export const userByIdQuery = (db: Db, id: string, now: Date) => userQuery(db, eq(users.id, id), now);

export interface NewUser {
  id: string;
  email: string;
  passwordHash: string;
  fullName: string;
  phone: string | null;
  emailVerified: boolean;
}

/** The statements that create a user with profile, preferences and first history entry. */
export function insertUserStatements(db: Db, user: NewUser, now: Date) {
  return [
    db.insert(users).values({
      ...user,
      emailVerifiedAt: user.emailVerified ? now : null,
      passwordChangedAt: now,
      createdAt: now,
      updatedAt: now,
    }),
    db.insert(userProfiles).values({ userId: user.id, createdAt: now, updatedAt: now }),
    db.insert(userPreferences).values({ userId: user.id, updatedAt: now }),
    db.insert(passwordHistory).values({ id: newId("pwh", now.getTime()), userId: user.id, passwordHash: user.passwordHash, createdAt: now }),
  ] as const;
}

/**
 * Mirrors a failed login into the user row (an admin-visible copy; the exact count and lock
 * live in the sign-in guard Durable Object, keyed by the email).
 */
export function recordLoginFailure(db: Db, userId: string, failures: number, lockedUntil: Date | null, now: Date) {
  return db
    .update(users)
    .set({ failedLoginAttempts: failures, lastFailedLoginAt: now, ...(lockedUntil ? { lockedUntil } : {}) })
    .where(eq(users.id, userId));
}


/** Replaces the hash in place (transparent upgrade of an old or imported hash). */
export const setPasswordHash = (db: Db, userId: Owner, hash: string) =>
  db.update(users).set({ passwordHash: hash }).where(eq(users.id, userId));

export function recordLoginSuccess(db: Db, userId: Owner, ip: string, now: Date, newHash?: string, settles?: number) {
  return db
    .update(users)
    .set({
      failedLoginAttempts: 0,
      lockedUntil: null,
      lastLoginAt: now,
      lastLoginIp: ip,
      ...(newHash ? { passwordHash: newHash } : {}),
      // The newest wins: of two sign-ins at once, the later reservation settles both.
      ...(settles !== undefined ? { signInSettled: sql`max(coalesce(${users.signInSettled}, 0), ${settles})` } : {}),
    })
    .where(eq(users.id, userId));
}

/** Password change: new hash, history entry, history trimmed to the last `keep`, lockout cleared. */
export function setPasswordStatements(db: Db, userId: Owner, hash: string, keep: number, now: Date) {
  return [
    db
      .update(users)
      .set({ passwordHash: hash, passwordChangedAt: now, updatedAt: now, failedLoginAttempts: 0, lockedUntil: null })
      .where(eq(users.id, userId)),
    db.insert(passwordHistory).values({ id: newId("pwh", now.getTime()), userId, passwordHash: hash, createdAt: now }),
    db.delete(passwordHistory).where(
      and(
        eq(passwordHistory.userId, userId),
        sql`${passwordHistory.id} NOT IN (SELECT ${passwordHistory.id} FROM ${passwordHistory} WHERE ${passwordHistory.userId} = ${userId} ORDER BY ${passwordHistory.createdAt} DESC, ${passwordHistory.id} DESC LIMIT ${Math.max(1, keep)})`,
      ),
    ),
  ] as const;
}

/** The last `count` password hashes (current one included), newest first. */
export function recentPasswordHashes(db: Db, userId: Owner, count: number) {
  return db
    .select({ hash: passwordHistory.passwordHash })
    .from(passwordHistory)
    .where(eq(passwordHistory.userId, userId))
    .orderBy(sql`${passwordHistory.createdAt} DESC, ${passwordHistory.id} DESC`)
    .limit(count);
}

/** Stamps the user's one organization trial as started, once (NULL before), when `condition` holds. */
export const markTrialStartedIf = (db: Db, userId: string, now: Date, condition: SQL) =>
  db.update(users).set({ trialStartedAt: now }).where(and(eq(users.id, userId), sql`${users.trialStartedAt} IS NULL`, condition));

export function markEmailVerified(db: Db, userId: Owner, now: Date) {
  return db.update(users).set({ emailVerified: true, emailVerifiedAt: now, updatedAt: now }).where(eq(users.id, userId));
}

export function setTwoFactorEnabled(db: Db, userId: Owner, enabled: boolean, now: Date) {
  return db.update(users).set({ twoFactorEnabled: enabled, updatedAt: now }).where(eq(users.id, userId));
}

/** Like `setTwoFactorEnabled`, but only when `condition` holds at that point of the batch. */
export function setTwoFactorEnabledIf(db: Db, userId: Owner, enabled: boolean, now: Date, condition: SQL) {
  return db
    .update(users)
    .set({ twoFactorEnabled: enabled, updatedAt: now })
    .where(and(eq(users.id, userId), condition));
}

export function updateUserBasics(db: Db, userId: Owner, patch: { fullName?: string; phone?: string | null }, now: Date) {
  return db
    .update(users)
    .set({ ...patch, updatedAt: now })
    .where(eq(users.id, userId));
}



/**
 * Moves the user to `newEmail` (now verified), in one guarded statement: only an active user,
 * and only while no other account holds the address. A registration racing for the same address
 * loses to (or beats) this statement on the unique index, never both.
 */
export function changeEmail(db: Db, userId: Owner, newEmail: string, now: Date) {
  return db
    .update(users)
    .set({ email: newEmail, emailVerified: true, emailVerifiedAt: now, updatedAt: now })
    .where(
      and(
        eq(users.id, userId),
        eq(users.status, "active"),
        sql`NOT EXISTS (SELECT 1 FROM ${users} other WHERE other.email = ${newEmail} AND other.id <> ${userId})`,
      ),
    )
    .returning({ id: users.id });
}

/** SQL condition: user `userId` now has address `email` (for writes later in the same batch). */
export const userHasEmail = (userId: string, email: string) =>
  sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.email} = ${email})`;

// ─── administration (features/admin calls these, inside its guarded batches) ───────────────

/** Name, account type and verification, as an administrator changes them. */
export function updateUserFields(
  db: Db,
  userId: string,
  patch: { fullName?: string; accountType?: (typeof users.$inferInsert)["accountType"]; emailVerified?: boolean },
  now: Date,
  guard?: SQL,
) {
  const verified =
    patch.emailVerified === undefined
      ? {}
      : { emailVerified: patch.emailVerified, emailVerifiedAt: patch.emailVerified ? sql`coalesce(${users.emailVerifiedAt}, ${now.getTime()})` : null };
  return db
    .update(users)
    .set({ ...(patch.fullName !== undefined ? { fullName: patch.fullName } : {}), ...(patch.accountType ? { accountType: patch.accountType } : {}), ...verified, updatedAt: now })
    .where(and(eq(users.id, userId), guard))
    .returning({ id: users.id });
}

/** Clears the failed-login state held on the user row (attempt count and lock), when `guard` holds. */
export const clearLoginFailures = (db: Db, userId: string, guard: SQL) =>
  db
    .update(users)
    .set({ failedLoginAttempts: 0, lockedUntil: null, lastFailedLoginAt: null })
    .where(and(eq(users.id, userId), guard))
    .returning({ id: users.id, email: users.email });

/**
 * Sets the status of every listed user; returns the ids changed. `delete` is the GDPR path:
 * status inactive plus `deletion_requested_at` (the purge job erases the data after the grace
 * period); activating cancels a pending deletion.
 */
export function setStatuses(db: Db, idsJson: string, status: UserStatus, opts: { requestDeletion: boolean; guard: (userId: unknown) => SQL }, now: Date) {
  return db
    .update(users)
    .set({
      status,
      updatedAt: now,
      ...(opts.requestDeletion ? { deletionRequestedAt: sql`coalesce(${users.deletionRequestedAt}, ${now.getTime()})` } : {}),
      ...(status === "active" ? { deletionRequestedAt: null } : {}),
    })
    .where(sql`${inJsonArray(users.id, idsJson)} AND ${opts.guard(users.id)}`)
    .returning({ id: users.id });
}
