import { sql } from "drizzle-orm";
import { passwordHistory, userPreferences, userProfiles, userRoles, users } from "../../db/schema";
import { insertJsonRows, updateJsonRows, type Db } from "../../platform/db";

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
