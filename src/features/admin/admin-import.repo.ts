import { sql, type SQL } from "drizzle-orm";
import { apiKeys, oneTimeTokens, passwordHistory, sessions, userPreferences, userProfiles, userRoles, users } from "../../db/tables";
import { chunk, insertJsonRows, updateJsonRows, type Db } from "../../platform/db";

/**
 * Set-based statements of the admin import: every chunk of rows is ONE bound JSON parameter
 * (`json_each`), so a 1,000-row import stays far below D1's 100-parameter limit.
 */

export interface ExistingUser {
  id: string;
  email: string;
  isSuperuser: number;
  /** What an upsert may only change as a superuser: compared with the row to tell a change from a repeat. */
  passwordHash: string;
  status: string;
  emailVerified: number;
  /** JSON array of the role ids the user has a grant of (an import never touches an existing grant). */
  roleIds: string;
}

/** Which of `emails` already have an account (one query, the emails as one JSON array). */
export function existingUsersByEmail(db: Db, emails: readonly string[], now: Date): Promise<ExistingUser[]> {
  return db.all<ExistingUser>(sql`
    SELECT u.id AS id, u.email AS email, u.password_hash AS passwordHash, u.status AS status, u.email_verified AS emailVerified,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'superuser'
        AND (ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()})) AS isSuperuser,
      (SELECT json_group_array(ur.role_id) FROM user_roles ur WHERE ur.user_id = u.id) AS roleIds
    FROM users u WHERE u.email IN (SELECT value FROM json_each(${JSON.stringify(emails)}))`);
}

export type NewImportedUser = typeof users.$inferInsert & { id: string };
export type ImportedProfile = typeof userProfiles.$inferInsert;

/** New users with profile, preferences and first history entry: the same rows insertUserStatements writes, set-based. */
export function insertImportedUsers(db: Db, rows: readonly NewImportedUser[], profiles: readonly ImportedProfile[], historyIds: readonly string[], now: Date) {
  return [
    ...insertJsonRows(db, users, rows),
    ...insertJsonRows(db, userProfiles, profiles),
    ...insertJsonRows(db, userPreferences, rows.map((u) => ({ userId: u.id, updatedAt: now }))),
    ...insertJsonRows(
      db,
      passwordHistory,
      rows.map((u, i) => ({ id: historyIds[i]!, userId: u.id, passwordHash: u.passwordHash, createdAt: now })),
    ),
  ];
}

/** Role grants (an existing grant is kept as it is). */
export const grantImportedRoles = (db: Db, grants: readonly (typeof userRoles.$inferInsert)[]) =>
  insertJsonRows(db, userRoles, grants, { onConflictDoNothing: true });

/**
 * Field updates of existing users (upsert): each row changes only what it carries, and only for
 * a user `guard` (an SQL condition on the user id: the actor may change this user now) allows.
 */
export const updateImportedUsers = (db: Db, rows: readonly (Partial<typeof users.$inferInsert> & { id: string })[], guard: (userId: SQL) => SQL) =>
  updateJsonRows(db, users, "id", rows, guard);

export const updateImportedProfiles = (db: Db, rows: readonly (Partial<ImportedProfile> & { userId: string })[], guard: (userId: SQL) => SQL) =>
  updateJsonRows(db, userProfiles, "userId", rows, guard);

/** SQL condition: the user's stored hash is another one than `passwordHash` (for a batch before the update). */
export const storedHashDiffers = (userId: string, passwordHash: string) =>
  sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.passwordHash} IS NOT ${passwordHash})`;

/** Users per JSON parameter of the statements below (an id and a hash each). */
const HASH_CHANGES_PER_STATEMENT = 200;

/** SQL: the users of `changesJson` ([user id, imported hash] pairs) whose stored hash is another one. */
const usersWithNewHash = (changesJson: string) => sql`(
  SELECT u.id FROM json_each(${changesJson}) AS j JOIN ${users} AS u ON u.id = json_extract(j.value, '$[0]')
  WHERE u.password_hash IS NOT json_extract(j.value, '$[1]'))`;

/**
 * What a password change ends, for the users whose import row brings a hash other than the
 * stored one: every live session (its refresh tokens die with it), every live API key, and any
 * second sign-in step opened with the old password. For the batch BEFORE the users are updated,
 * since they compare against the stored hash: re-importing the hash a user already has ends
 * nothing. Each `sessions` statement returns the sessions it ended, with their last use (to
 * publish them to the edge); each `apiKeys` statement the hashes of the keys it revoked.
 */
export function endSessionsOnNewHash(db: Db, changes: readonly { userId: string; passwordHash: string }[], now: Date) {
  const parts = chunk(changes, HASH_CHANGES_PER_STATEMENT).map((part) => usersWithNewHash(JSON.stringify(part.map((c) => [c.userId, c.passwordHash]))));
  return {
    sessions: parts.map((changed) =>
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: "password_imported" })
        .where(sql`${sessions.revokedAt} IS NULL AND ${sessions.userId} IN ${changed}`)
        .returning({ id: sessions.id, lastUsedAt: sessions.lastUsedAt, userId: sessions.userId }),
    ),
    mfaSteps: parts.map((changed) => db.delete(oneTimeTokens).where(sql`${oneTimeTokens.purpose} = 'mfa_login' AND ${oneTimeTokens.userId} IN ${changed}`)),
    apiKeys: parts.map((changed) =>
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(sql`${apiKeys.revokedAt} IS NULL AND ${apiKeys.userId} IN ${changed}`)
        .returning({ keyHash: apiKeys.keyHash }),
    ),
  };
}
