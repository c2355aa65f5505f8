import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { orgRolesSql } from "../../db/org-roles";
import { orgApiKeys } from "../../db/tables";
import type { OrgMembership } from "../../identity/membership";
import { insertIf, type Db } from "../../platform/db";

export type OrgApiKeyRow = typeof orgApiKeys.$inferSelect;

/**
 * One organization's API keys, reachable only with a membership proof. Every write is guarded by
 * the acting person being (still) an admin+ of the organization (or a superuser's audited access),
 * in the same statement, so a demotion racing the request cannot slip a key in or out.
 */
export function orgApiKeysRepo(db: Db, m: OrgMembership) {
  const orgId = m.orgId;
  const inOrg = eq(orgApiKeys.organizationId, orgId);
  const actorIsAdmin = m.viaSuperuser
    ? sql`1`
    : sql`EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${orgId} AND a.user_id = ${m.userId} AND a.role IN (${orgRolesSql("api_keys.manage")}))`;
  return {
    actorIsAdmin,
    /** Inserts in ONE guarded statement: the actor is admin+ and the organization holds fewer than `max` unrevoked keys. */
    insertWithinCap: (row: Omit<typeof orgApiKeys.$inferInsert, "organizationId">, max: number) =>
      insertIf(
        db,
        orgApiKeys,
        { ...row, organizationId: orgId },
        sql`${actorIsAdmin} AND (SELECT count(*) FROM org_api_keys c WHERE c.organization_id = ${orgId} AND c.revoked_at IS NULL) < ${max}`,
      ),
    /** SQL condition: this organization's key `id` exists (for the audit row of its creation). */
    exists: (id: string) => sql`EXISTS (SELECT 1 FROM org_api_keys x WHERE x.id = ${id} AND x.organization_id = ${orgId})`,
    /** SQL condition: this organization's key `id` is live and the actor may revoke it. */
    isLive: (id: string) =>
      sql`${actorIsAdmin} AND EXISTS (SELECT 1 FROM org_api_keys x WHERE x.id = ${id} AND x.organization_id = ${orgId} AND x.revoked_at IS NULL)`,
    list: () => db.select().from(orgApiKeys).where(and(inOrg, isNull(orgApiKeys.revokedAt))).orderBy(desc(orgApiKeys.id)),
    /** Guarded revoke: only a live key of this organization, by an admin+. */
    revoke: (id: string, now: Date) =>
      db
        .update(orgApiKeys)
        .set({ revokedAt: now })
        .where(and(inOrg, eq(orgApiKeys.id, id), isNull(orgApiKeys.revokedAt), actorIsAdmin))
        .returning({ id: orgApiKeys.id }),
  };
}
