import { sql } from "drizzle-orm";
import { apiKeys, sessions, userRoles, users } from "../../db/schema";
import { rawStatement, type Db } from "../../platform/db";
import type { UserStatus } from "../users/users.tables";

// Set-based statements over a list of user ids passed as ONE JSON array (`json_each`), so a
// request of 500 ids binds a handful of parameters (D1 allows 100 per statement) and every id's
// change is made by the same statements of the same batch: an id is changed entirely or not at all.
const inIds = (column: unknown, idsJson: string) => sql`${column} IN (SELECT value FROM json_each(${idsJson}))`;

export interface TargetRow {
  id: string;
  status: UserStatus;
  isSuperuser: number;
  /** Holds `role` now (only when a role was asked about). */
  hasRole: number;
}

/** The targets that exist, whether each is a superuser now, and whether it holds `role`. */
export async function loadTargets(db: Db, idsJson: string, now: Date, role: string | null): Promise<TargetRow[]> {
  const live = sql`(ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()})`;
  const rows = await db.all<TargetRow>(sql`
    SELECT u.id AS id, u.status AS status,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'superuser' AND ${live}) AS isSuperuser,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ${role}) AS hasRole
    FROM users u WHERE ${inIds(sql`u.id`, idsJson)}`);
  return rows;
}

/**
 * Sets the status of every listed user; returns the ids changed. `delete` is the GDPR path:
 * status inactive plus `deletion_requested_at` (the purge job erases the data after the grace
 * period); activating cancels a pending deletion.
 */
export function setStatuses(db: Db, idsJson: string, status: UserStatus, opts: { requestDeletion: boolean }, now: Date) {
  return db
    .update(users)
    .set({
      status,
      updatedAt: now,
      ...(opts.requestDeletion ? { deletionRequestedAt: sql`coalesce(${users.deletionRequestedAt}, ${now.getTime()})` } : {}),
      ...(status === "active" ? { deletionRequestedAt: null } : {}),
    })
    .where(inIds(users.id, idsJson))
    .returning({ id: users.id });
}

/** Ends every live session of the listed users; returns them with their last use (see the caller). */
export function revokeSessionsOf(db: Db, idsJson: string, reason: string, now: Date) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(sql`${inIds(sessions.userId, idsJson)} AND ${sessions.revokedAt} IS NULL`)
    .returning({ id: sessions.id, lastUsedAt: sessions.lastUsedAt });
}

/** Revokes every live API key of the listed users (account deletion). */
export function revokeApiKeysOf(db: Db, idsJson: string, now: Date) {
  return db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(sql`${inIds(apiKeys.userId, idsJson)} AND ${apiKeys.revokedAt} IS NULL`)
    .returning({ id: apiKeys.id });
}

/**
 * Grants `roleId` to the listed users (`pairs`: JSON array of [assignment id, user id]); a user who
 * holds it already gets the new expiry. Returns the user ids.
 */
export function assignRoleTo(db: Db, pairsJson: string, roleId: string, grantedBy: string, expiresAt: Date | null, now: Date) {
  return rawStatement(
    db,
    sql`INSERT INTO ${userRoles} (id, user_id, role_id, granted_by, granted_at, expires_at)
      SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${roleId}, ${grantedBy}, ${now.getTime()}, ${expiresAt?.getTime() ?? null}
      FROM json_each(${pairsJson}) j
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = json_extract(j.value, '$[1]'))
      ON CONFLICT (user_id, role_id) DO UPDATE SET granted_by = excluded.granted_by, granted_at = excluded.granted_at, expires_at = excluded.expires_at`,
  );
}

/** Removes `roleId` from the listed users; returns the user ids that held it. */
export function removeRoleFrom(db: Db, idsJson: string, roleId: string) {
  return db
    .delete(userRoles)
    .where(sql`${userRoles.roleId} = ${roleId} AND ${inIds(userRoles.userId, idsJson)}`)
    .returning({ userId: userRoles.userId });
}
