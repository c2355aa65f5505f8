import { and, eq, isNotNull, or, sql, type SQL } from "drizzle-orm";
import { organizationMembers, organizations, roles, userConsents, userRoles } from "../db/tables";
import type { OrgRole } from "./actor";
import type { Db } from "../platform/db";

/** A role the user holds (the implicit `user` role included), with its permissions and expiry. */
export interface RoleGrant {
  role: string;
  expiresAt: Date | null;
  permissions: string[];
}

/** Everything access control needs about a user, as stored: expiry is applied at use time. */
export interface Grants {
  roles: RoleGrant[];
  memberships: [orgId: string, role: OrgRole][];
  /** Latest accepted terms / privacy versions (null: never accepted). */
  consents: { terms: string | null; privacy: string | null };
}

/** SQL: the latest version of `kind` that user `userIdSql` accepted (null when none). */
export const latestConsentSql = (userIdSql: SQL, kind: "terms" | "privacy") =>
  sql<string | null>`(SELECT c.version FROM ${userConsents} c WHERE c.user_id = ${userIdSql} AND c.kind = ${kind} ORDER BY c.accepted_at DESC, c.id DESC LIMIT 1)`;

/** The implicit role every user holds. */
export const IMPLICIT_ROLE = "user";

/**
 * A user's role grants (with their permissions) and organization memberships, in one round trip.
 * Expired role assignments are returned too: `effectiveAccess` drops them at the moment of use,
 * so a cached copy can never let an expired role grant anything.
 */
export async function loadGrants(db: Db, userId: string): Promise<Grants> {
  const [roleRows, memberRows, consentRows] = await db.batch(grantsQueries(db, userId));
  return {
    roles: roleRows.map((r) => ({ role: r.role, expiresAt: r.expiresAt, permissions: JSON.parse(r.permissions) as string[] })),
    memberships: memberRows.map((m) => [m.orgId, m.role]),
    consents: { terms: consentRows[0]?.terms ?? null, privacy: consentRows[0]?.privacy ?? null },
  };
}

/** `loadGrants`' three statements, built (not run): also what the isolate's warm-up builds once. */
export function grantsQueries(db: Db, userId: string) {
  return [
    db
      .select({
        role: roles.name,
        expiresAt: userRoles.expiresAt,
        // Raw aliases: drizzle renders columns unqualified inside a select's sql fragment.
        permissions: sql<string>`(SELECT json_group_array(p.name) FROM role_permissions rp
          JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = "roles"."id")`,
      })
      .from(roles)
      .leftJoin(userRoles, and(eq(userRoles.roleId, roles.id), eq(userRoles.userId, userId)))
      .where(or(eq(roles.name, IMPLICIT_ROLE), isNotNull(userRoles.userId))),
    db
      .select({ orgId: organizationMembers.organizationId, role: organizationMembers.role })
      .from(organizationMembers)
      .where(eq(organizationMembers.userId, userId)),
    // Aliased: unnamed columns with the same text (the kind is a parameter) would collide in D1's row objects.
    db
      .select({ terms: latestConsentSql(sql`${userId}`, "terms").as("accepted_terms"), privacy: latestConsentSql(sql`${userId}`, "privacy").as("accepted_privacy") })
      .from(sql`(SELECT 1)`),
  ] as const;
}

export async function organizationExists(db: Db, orgId: string): Promise<boolean> {
  return (await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, orgId)).get()) !== undefined;
}
