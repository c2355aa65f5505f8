import { sql, type SQL } from "drizzle-orm";
import { organizationMembers, userRoles, type UserStatus } from "../../db/tables";
import { inJsonArray, rawSelect, type Db } from "../../platform/db";

// Set-based statements over a list of user ids passed as ONE JSON array (`json_each`), so a
// request of 500 ids binds a handful of parameters (D1 allows 100 per statement) and every id's
// change is made by the same statements of the same batch: an id is changed entirely or not at all.

/**
 * SQL condition on a user id (a column or an expression): the acting administrator may act on that
 * user NOW. Never on itself; on a superuser only when the actor is one. Every statement of an
 * admin change carries it, so a target that became a superuser after the pre-read (which only
 * chooses the failure code) is still left alone: the rule holds in the statement, not in a read.
 */
export type TargetGuard = (userId: unknown) => SQL;
export function mayActOn(actor: { userId: string; isSuperuser: boolean }, now: Date): TargetGuard {
  return (userId) =>
    actor.isSuperuser
      ? sql`(${userId} <> ${actor.userId})`
      : sql`(${userId} <> ${actor.userId} AND NOT EXISTS (SELECT 1 FROM user_roles gr JOIN roles grr ON grr.id = gr.role_id
          WHERE gr.user_id = ${userId} AND grr.name = 'superuser' AND (gr.expires_at IS NULL OR gr.expires_at > ${now.getTime()})))`;
}

/**
 * SQL condition on a user id: the user is the only owner of an organization that has other
 * members (the last-owner rule: such an organization would be left with members and no owner).
 */
export const soleOwnerWithMembers = (userId: unknown) => sql`EXISTS (
  SELECT 1 FROM ${organizationMembers} som
  WHERE som.user_id = ${userId} AND som.role = 'owner'
    AND NOT EXISTS (SELECT 1 FROM ${organizationMembers} soo WHERE soo.organization_id = som.organization_id AND soo.role = 'owner' AND soo.user_id <> ${userId})
    AND EXISTS (SELECT 1 FROM ${organizationMembers} sop WHERE sop.organization_id = som.organization_id AND sop.user_id <> ${userId}))`;

export interface TargetRow {
  id: string;
  status: UserStatus;
  isSuperuser: number;
  /** The only owner of an organization with other members (an admin delete would strand it). */
  soleOwner: number;
  /** Holds `role` now (only when a role was asked about). */
  hasRole: number;
}

/** The targets that exist, whether each is a superuser now, and whether it holds `role`. */
export async function loadTargets(db: Db, idsJson: string, now: Date, role: string | null): Promise<TargetRow[]> {
  const live = sql`(ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()})`;
  const rows = await db.all<TargetRow>(sql`
    SELECT u.id AS id, u.status AS status,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'superuser' AND ${live}) AS isSuperuser,
      EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ${role}) AS hasRole,
      ${soleOwnerWithMembers(sql`u.id`)} AS soleOwner
    FROM users u WHERE ${inJsonArray(sql`u.id`, idsJson)}`);
  return rows;
}

/**
 * Grants `roleId` to the listed users (`pairs`: JSON array of [assignment id, user id]); a user who
 * holds it already gets the new expiry. Only users the actor may act on (`guard`). Returns the user ids.
 */
export function assignRoleTo(db: Db, pairsJson: string, roleId: string, grantedBy: string, expiresAt: Date | null, now: Date, guard: TargetGuard) {
  return rawSelect<{ userId: string }>(
    db,
    sql`INSERT INTO ${userRoles} (id, user_id, role_id, granted_by, granted_at, expires_at)
      SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${roleId}, ${grantedBy}, ${now.getTime()}, ${expiresAt?.getTime() ?? null}
      FROM json_each(${pairsJson}) j
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = json_extract(j.value, '$[1]')) AND ${guard(sql`json_extract(j.value, '$[1]')`)}
      ON CONFLICT (user_id, role_id) DO UPDATE SET granted_by = excluded.granted_by, granted_at = excluded.granted_at, expires_at = excluded.expires_at
      RETURNING user_id AS userId`,
  );
}

/** Removes `roleId` from the listed users; returns the user ids that held it. */
export function removeRoleFrom(db: Db, idsJson: string, roleId: string, guard: TargetGuard) {
  return db
    .delete(userRoles)
    .where(sql`${userRoles.roleId} = ${roleId} AND ${inJsonArray(userRoles.userId, idsJson)} AND ${guard(userRoles.userId)}`)
    .returning({ userId: userRoles.userId });
}
