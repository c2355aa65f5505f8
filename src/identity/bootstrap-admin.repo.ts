import { sql } from "drizzle-orm";
import { roles, userRoles, users } from "../db/tables";
import { auditInsertIf } from "../audit/audit.repo";
import { rawStatement, type Db, type Statement } from "../platform/db";
import { newId } from "../platform/ids";

/** Who granted it: the platform itself (the audit row has no actor and names the reason as its request). */
const SYSTEM = { ip: "", userAgent: "", requestId: "bootstrap_admin" };

/**
 * No account at all holds an unexpired `superuser` grant: the bootstrap makes the FIRST
 * administrator only. Once one exists, roles go through the admin API, so an administrator who
 * controls an account with the bootstrap address (creating it, or marking it verified) gains nothing.
 */
const noSuperuserYet = (now: Date) => sql`NOT EXISTS (SELECT 1 FROM ${userRoles} ur JOIN ${roles} r ON r.id = ur.role_id
      WHERE r.name = 'superuser' AND (ur.expires_at IS NULL OR ur.expires_at > ${now.getTime()}))`;

/** The account `userId`, still of `email` and verified, while no account holds `superuser`. */
const needsGrant = (userId: string, email: string, now: Date) => sql`EXISTS (
  SELECT 1 FROM ${users} u WHERE u.id = ${userId} AND u.email = ${email} AND u.email_verified = 1 AND ${noSuperuserYet(now)})`;

/**
 * BOOTSTRAP_ADMIN_EMAIL's grant, for one batch: the audit row (`role.bootstrap_granted`, written
 * only when the grant changes something), then the `superuser` role of the account with exactly
 * that (lowercase) address, only once it is verified, with no expiry (an expired grant is renewed).
 * Put after the statement that verifies the address, the pair sees it verified.
 */
export function bootstrapAdminStatements(db: Db, account: { userId: string; email: string }, now: Date): [Statement, Statement] {
  const { userId, email } = account;
  return [
    auditInsertIf(
      db,
      { ...SYSTEM, now },
      { userId, actorId: null, action: "role.bootstrap_granted", details: { role: "superuser", source: "BOOTSTRAP_ADMIN_EMAIL" } },
      needsGrant(userId, email, now),
    ),
    rawStatement(
      db,
      sql`INSERT INTO ${userRoles} (id, user_id, role_id, granted_by, granted_at, expires_at)
        SELECT ${newId("url", now.getTime())}, u.id, r.id, NULL, ${now.getTime()}, NULL
        FROM ${users} u JOIN ${roles} r ON r.name = 'superuser'
        WHERE u.id = ${userId} AND u.email = ${email} AND u.email_verified = 1 AND ${noSuperuserYet(now)}
        ON CONFLICT (user_id, role_id) DO UPDATE SET expires_at = NULL, granted_at = excluded.granted_at
          WHERE user_roles.expires_at IS NOT NULL AND user_roles.expires_at <= ${now.getTime()}`,
    ),
  ];
}

/** The id of the account with exactly this address, if any. */
export async function accountIdByEmail(db: Db, email: string): Promise<string | undefined> {
  const rows = await db.select({ id: users.id }).from(users).where(sql`${users.email} = ${email}`).limit(1);
  return rows[0]?.id;
}
