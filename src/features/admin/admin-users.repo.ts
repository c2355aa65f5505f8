import { and, count, desc, eq, gt, isNull, max, sql } from "drizzle-orm";
import { apiKeys, organizationMembers, organizations, roles, sessions, userProfiles, userRoles, users } from "../../db/tables";
import type { Db } from "../../platform/db";
import type { AdminUserSearchQuery, UserSort } from "./admin-users.schemas";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";

/** The columns of a user an administrator sees (never the hash), with effective roles as JSON. */
const LIST_COLUMNS = `u.id, u.email, u.email_verified, u.full_name, u.phone, u.status, u.account_type,
  u.two_factor_enabled, u.created_at, u.last_login_at, u.locked_until, u.deletion_requested_at,
  (SELECT json_group_array(r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
    WHERE ur.user_id = u.id AND (ur.expires_at IS NULL OR ur.expires_at > ?1)) AS roles_json`;

export interface UserListRow {
  id: string;
  email: string;
  email_verified: number;
  full_name: string;
  phone: string | null;
  status: "active" | "inactive" | "suspended";
  account_type: "free" | "basic" | "premium" | "enterprise";
  two_factor_enabled: number;
  created_at: number;
  last_login_at: number | null;
  locked_until: number | null;
  deletion_requested_at: number | null;
  roles_json: string;
}

const ORDER: Record<UserSort, string> = {
  "-created_at": "u.created_at DESC, u.id DESC",
  created_at: "u.created_at ASC, u.id ASC",
  email: "u.email ASC",
  "-email": "u.email DESC",
};

/** A phrase for FTS5: the whole fragment, quotes doubled, so no query syntax leaks through. */
const ftsPhrase = (q: string) => `"${q.replace(/"/g, '""')}"`;

/**
 * The SQL of an admin user search: one page and the total, sharing one WHERE.
 *
 * Free text goes through the `users_fts` trigram index (migration 0003), which drives the query:
 * `CROSS JOIN` fixes the join order in SQLite, so the planner cannot prefer walking every user by
 * `created_at` and probing the match set. A role filter without text drives from
 * `user_roles_role_idx` the same way. Without either, the filters and the order use the users
 * indexes (status, account_type, created_at, email). Exported for the EXPLAIN QUERY PLAN test.
 * Parameter ?1 is `now` (role expiry); the rest are positional after it.
 */
export function userSearchSql(query: AdminUserSearchQuery, now: Date) {
  const params: unknown[] = [now.getTime()];
  const bind = (v: unknown) => {
    params.push(v);
    return `?${params.length}`;
  };
  const conds: string[] = [];
  const role = query.role && query.role !== IMPLICIT_ROLE ? query.role : undefined;
  let from = "users u";
  if (query.q) {
    from = "users_fts CROSS JOIN users u ON u.rowid = users_fts.rowid";
    conds.push(`users_fts MATCH ${bind(ftsPhrase(query.q))}`);
  } else if (role) {
    from = "user_roles rf CROSS JOIN users u ON u.id = rf.user_id";
    conds.push(`rf.role_id = (SELECT id FROM roles WHERE name = ${bind(role)})`, "(rf.expires_at IS NULL OR rf.expires_at > ?1)");
  }
  if (query.q && role) {
    conds.push(`EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
      WHERE ur.user_id = u.id AND r.name = ${bind(role)} AND (ur.expires_at IS NULL OR ur.expires_at > ?1))`);
  }
  if (query.status) conds.push(`u.status = ${bind(query.status)}`);
  if (query.account_type) conds.push(`u.account_type = ${bind(query.account_type)}`);
  if (query.created_after) conds.push(`u.created_at >= ${bind(Date.parse(query.created_after))}`);
  if (query.created_before) conds.push(`u.created_at < ${bind(Date.parse(query.created_before))}`);
  // ?1 must be referenced by every statement that binds it: keep it in the count as a no-op.
  const where = conds.length ? `WHERE ?1 IS NOT NULL AND ${conds.join(" AND ")}` : "WHERE ?1 IS NOT NULL";
  const countParams = [...params];
  const limit = bind(query.page_size);
  const offset = bind((query.page - 1) * query.page_size);
  return {
    list: { sql: `SELECT ${LIST_COLUMNS} FROM ${from} ${where} ORDER BY ${ORDER[query.sort]} LIMIT ${limit} OFFSET ${offset}`, params },
    count: { sql: `SELECT count(*) AS total FROM ${from} ${where}`, params: countParams },
  };
}

/** One page of users and the total, in one round trip. */
export async function searchUsers(db: Db, query: AdminUserSearchQuery, now: Date) {
  const { list, count: total } = userSearchSql(query, now);
  const [rows, totals] = await db.$client.batch([
    db.$client.prepare(list.sql).bind(...list.params),
    db.$client.prepare(total.sql).bind(...total.params),
  ]);
  return { rows: (rows!.results ?? []) as UserListRow[], total: Number((totals!.results?.[0] as { total: number } | undefined)?.total ?? 0) };
}

/** How many live sessions and API keys the admin view lists (the counts stay exact). */
export const ADMIN_VIEW_LIST_LIMIT = 50;

/** Everything the admin view of one user shows, in one round trip (one query per part, no N+1). */
export async function loadAdminUser(db: Db, userId: string, now: Date) {
  const liveSession = and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now));
  const liveKey = and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), sql`(${apiKeys.expiresAt} IS NULL OR ${apiKeys.expiresAt} > ${now.getTime()})`);
  const [user, roleRows, sessionAgg, keyAgg, orgRows, profile, sessionRows, keyRows] = await db.batch([
    db
      .select({
        id: users.id,
        email: users.email,
        emailVerified: users.emailVerified,
        emailVerifiedAt: users.emailVerifiedAt,
        fullName: users.fullName,
        phone: users.phone,
        status: users.status,
        accountType: users.accountType,
        twoFactorEnabled: users.twoFactorEnabled,
        failedLoginAttempts: users.failedLoginAttempts,
        lockedUntil: users.lockedUntil,
        lastLoginAt: users.lastLoginAt,
        lastLoginIp: users.lastLoginIp,
        passwordChangedAt: users.passwordChangedAt,
        passwordSet: sql<number>`${users.passwordHash} NOT LIKE '!%'`,
        deletionRequestedAt: users.deletionRequestedAt,
        createdAt: users.createdAt,
        updatedAt: users.updatedAt,
      })
      .from(users)
      .where(eq(users.id, userId)),
    db
      .select({ role: roles.name, grantedAt: userRoles.grantedAt, grantedBy: userRoles.grantedBy, expiresAt: userRoles.expiresAt })
      .from(userRoles)
      .innerJoin(roles, eq(roles.id, userRoles.roleId))
      .where(eq(userRoles.userId, userId))
      .orderBy(roles.name),
    db
      .select({
        active: count(),
        lastUsedAt: max(sessions.lastUsedAt),
        // Where the most recent sign-in (of any session kept) came from.
        lastCountry: sql<string | null>`(SELECT s.country FROM ${sessions} s WHERE s.user_id = ${userId} ORDER BY s.created_at DESC, s.id DESC LIMIT 1)`.as("last_country"),
        lastCity: sql<string | null>`(SELECT s.city FROM ${sessions} s WHERE s.user_id = ${userId} ORDER BY s.created_at DESC, s.id DESC LIMIT 1)`.as("last_city"),
        countries: sql<string>`(SELECT json_group_array(DISTINCT s.country) FROM ${sessions} s WHERE s.user_id = ${userId} AND s.country IS NOT NULL)`.as("countries"),
      })
      .from(sessions)
      .where(liveSession),
    db.select({ active: count() }).from(apiKeys).where(liveKey),
    db
      .select({ organizationId: organizationMembers.organizationId, name: organizations.name, role: organizationMembers.role })
      .from(organizationMembers)
      .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
      .where(eq(organizationMembers.userId, userId)),
    db
      .select({
        companyName: userProfiles.companyName,
        designation: userProfiles.designation,
        headOfficeCity: userProfiles.headOfficeCity,
        headOfficeState: userProfiles.headOfficeState,
        timezone: userProfiles.timezone,
        languagePreference: userProfiles.languagePreference,
      })
      .from(userProfiles)
      .where(eq(userProfiles.userId, userId)),
    // The live sessions and keys themselves, newest first (no token or key hash is selected).
    db
      .select({
        id: sessions.id,
        deviceName: sessions.deviceName,
        ipAddress: sessions.ipAddress,
        country: sessions.country,
        city: sessions.city,
        createdAt: sessions.createdAt,
        lastUsedAt: sessions.lastUsedAt,
        expiresAt: sessions.expiresAt,
      })
      .from(sessions)
      .where(liveSession)
      .orderBy(desc(sessions.createdAt), desc(sessions.id))
      .limit(ADMIN_VIEW_LIST_LIMIT),
    db
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        prefix: apiKeys.prefix,
        scopes: apiKeys.scopes,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        expiresAt: apiKeys.expiresAt,
      })
      .from(apiKeys)
      .where(liveKey)
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(ADMIN_VIEW_LIST_LIMIT),
  ]);
  const row = user[0];
  if (!row) return undefined;
  return {
    user: row,
    roles: roleRows,
    sessions: sessionAgg[0]!,
    apiKeys: keyAgg[0]!,
    organizations: orgRows,
    profile: profile[0] ?? null,
    sessionList: sessionRows,
    apiKeyList: keyRows,
  };
}

/** Whether the user holds the `superuser` role now (for the rule that only superusers act on superusers). */
export async function isSuperuser(db: Db, userId: string, now: Date): Promise<boolean> {
  const row = await db
    .select({ one: sql<number>`1` })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(and(eq(userRoles.userId, userId), eq(roles.name, "superuser"), sql`(${userRoles.expiresAt} IS NULL OR ${userRoles.expiresAt} > ${now.getTime()})`))
    .get();
  return row !== undefined;
}

/** Whether the user's password was never set (created by an administrator without one). */
export async function userForInvite(db: Db, userId: string) {
  return db
    .select({ id: users.id, email: users.email, fullName: users.fullName, status: users.status, emailVerified: users.emailVerified, passwordSet: sql<number>`${users.passwordHash} NOT LIKE '!%'` })
    .from(users)
    .where(eq(users.id, userId))
    .get();
}

/** SQL condition: the user has not set a password yet (the `NO_PASSWORD` marker, see userForInvite). */
export const stillPasswordless = (userId: string) => sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.passwordHash} LIKE '!%')`;

/** SQL condition: the user exists (guards an audit row in the same batch as a change to it). */
export const userExists = (userId: string) => sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId})`;
