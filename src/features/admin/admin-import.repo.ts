import { sql } from "drizzle-orm";
import { oneTimeTokens, passwordHistory, sessions, userPreferences, userProfiles, userRoles, users } from "../../db/schema";
import { chunk, insertJsonRows, updateJsonRows, type Db } from "../../platform/db";

/**
 * Set-based statements of the admin import: every chunk of rows is ONE bound JSON parameter
 * (`json_each`), so a 1,000-row import stays far below D1's 100-parameter limit.
 */

export interface ExistingUser {
  id: string;
  email: string;
  isSuperuser: number;
}

/** Which of `emails` already have an account (one query, the emails as one JSON array). */
export function existingUsersByEmail(db: Db, emails: readonly string[], now: Date): Promise<ExistingUser[]> {
  return db.all<ExistingUser>(sql`
    SELECT u.id AS id, u.email AS email,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'superuser'
        AND (ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()})) AS isSuperuser
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

/** Field updates of existing users (upsert): each row changes only what it carries. */
export const updateImportedUsers = (db: Db, rows: readonly (Partial<typeof users.$inferInsert> & { id: string })[]) => updateJsonRows(db, users, "id", rows);

export const updateImportedProfiles = (db: Db, rows: readonly (Partial<ImportedProfile> & { userId: string })[]) =>
  updateJsonRows(db, userProfiles, "userId", rows);

/** Users per JSON parameter of the statements below (an id and a hash each). */
const HASH_CHANGES_PER_STATEMENT = 200;

/** SQL: the users of `changesJson` ([user id, imported hash] pairs) whose stored hash is another one. */
const usersWithNewHash = (changesJson: string) => sql`(
  SELECT u.id FROM json_each(${changesJson}) AS j JOIN ${users} AS u ON u.id = json_extract(j.value, '$[0]')
  WHERE u.password_hash IS NOT json_extract(j.value, '$[1]'))`;

/**
 * What a password change ends, for the users whose import row brings a hash other than the
 * stored one: every live session (its refresh tokens die with it) and any second sign-in step
 * opened with the old password. For the batch BEFORE the users are updated, since they compare
 * against the stored hash: re-importing the hash a user already has ends nothing. Each `sessions`
 * statement returns the sessions it ended, with their last use (to publish them to the edge).
 */
export function endSessionsOnNewHash(db: Db, changes: readonly { userId: string; passwordHash: string }[], now: Date) {
  const parts = chunk(changes, HASH_CHANGES_PER_STATEMENT).map((part) => usersWithNewHash(JSON.stringify(part.map((c) => [c.userId, c.passwordHash]))));
  return {
    sessions: parts.map((changed) =>
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: "password_imported" })
        .where(sql`${sessions.revokedAt} IS NULL AND ${sessions.userId} IN ${changed}`)
        .returning({ id: sessions.id, lastUsedAt: sessions.lastUsedAt }),
    ),
    mfaSteps: parts.map((changed) => db.delete(oneTimeTokens).where(sql`${oneTimeTokens.purpose} = 'mfa_login' AND ${oneTimeTokens.userId} IN ${changed}`)),
  };
}
