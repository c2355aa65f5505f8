import { and, desc, eq, isNotNull, sql, type SQL } from "drizzle-orm";
import { orgDomains, orgSsoConnections, ssoSignIns } from "../../db/tables";
import type { OrgMembership } from "../../identity/membership";
import { insertIf, insertSelectSql, rawStatement, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";
import { orgRolesSql } from "../../db/org-roles";

/**
 * SQL: the acting member holds, right now, a role that may manage SSO (ORG_RULES "sso.manage"),
 * read inside the guarded statement. The twin of orgs.repo's `actorMay`, written here because
 * features/orgs reaches into sign-in (invitation pages), which reaches into SSO. A superuser
 * acting across organizations holds no membership and passes.
 */
function actorMaySql(m: OrgMembership): SQL {
  if (m.viaSuperuser) return sql`1`;
  return sql`EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${m.orgId} AND a.user_id = ${m.userId} AND a.role IN (${orgRolesSql("sso.manage")}))`;
}

export type SsoConnectionRow = typeof orgSsoConnections.$inferSelect;
export type OrgDomainRow = typeof orgDomains.$inferSelect;

/** How many SSO sign-ins an organization keeps for GET /orgs/{id}/sso `recent`. */
export const RECENT_SIGN_INS = 20;

/**
 * The SSO configuration and domains of the organization `m` proves access to. Every write is one
 * guarded statement that re-reads, inside the statement, that the acting member still holds a role
 * that may manage SSO (`actorMay`), so an admin demoted a moment ago cannot still change it.
 */
export function ssoRepo(db: Db, m: OrgMembership) {
  const mine = eq(orgSsoConnections.organizationId, m.orgId);
  const may = actorMaySql(m);
  const connectionExists = sql`EXISTS (SELECT 1 FROM ${orgSsoConnections} c WHERE c.organization_id = ${m.orgId})`;
  const domainOf = (domain: string) => and(eq(orgDomains.organizationId, m.orgId), eq(orgDomains.domain, domain));
  /** SQL: another organization holds `domain` verified. */
  const verifiedElsewhere = (domain: string) =>
    sql`EXISTS (SELECT 1 FROM ${orgDomains} v WHERE v.domain = ${domain} AND v.verified_at IS NOT NULL AND v.organization_id <> ${m.orgId})`;
  return {
    connection: () => db.select().from(orgSsoConnections).where(mine).get(),

    /**
     * Creates or replaces the configuration. Without `sealedSecret` the stored secret stays, and
     * nothing is created when there is none yet (the caller reads back and refuses).
     */
    upsert: (v: { issuer: string; clientId: string; sealedSecret?: string; enforceSso: boolean; defaultRole: SsoConnectionRow["defaultRole"]; enabled: boolean }, now: Date) =>
      rawStatement(
        db,
        sql`${insertSelectSql(
          orgSsoConnections,
          {
            organizationId: m.orgId,
            issuer: v.issuer,
            clientId: v.clientId,
            clientSecretSealed: v.sealedSecret ?? "",
            enforceSso: v.enforceSso,
            defaultRole: v.defaultRole,
            enabled: v.enabled,
            createdAt: now,
            updatedAt: now,
          },
          v.sealedSecret !== undefined ? may : sql`${may} AND ${connectionExists}`,
        )} ON CONFLICT (organization_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
          client_secret_sealed = ${v.sealedSecret !== undefined ? sql`excluded.client_secret_sealed` : sql`org_sso_connections.client_secret_sealed`},
          enforce_sso = excluded.enforce_sso, default_role = excluded.default_role, enabled = excluded.enabled, updated_at = excluded.updated_at`,
      ),
    /** SQL: the configuration was written at `now` (by this batch's upsert). */
    writtenAt: (now: Date) => sql`EXISTS (SELECT 1 FROM ${orgSsoConnections} c WHERE c.organization_id = ${m.orgId} AND c.updated_at = ${now.getTime()})`,
    remove: () => db.delete(orgSsoConnections).where(and(mine, may)).returning({ organizationId: orgSsoConnections.organizationId }),

    recent: () =>
      db
        .select({ at: ssoSignIns.at, email: ssoSignIns.email, outcome: ssoSignIns.outcome })
        .from(ssoSignIns)
        .where(eq(ssoSignIns.organizationId, m.orgId))
        .orderBy(desc(ssoSignIns.at), desc(ssoSignIns.id))
        .limit(RECENT_SIGN_INS),

    domains: () => db.select().from(orgDomains).where(eq(orgDomains.organizationId, m.orgId)).orderBy(orgDomains.domain),
    domain: (domain: string) => db.select().from(orgDomains).where(domainOf(domain)).get(),
    verifiedElsewhere: async (domain: string) =>
      (await db.select({ id: orgDomains.id }).from(orgDomains).where(and(eq(orgDomains.domain, domain), isNotNull(orgDomains.verifiedAt), sql`${orgDomains.organizationId} <> ${m.orgId}`)).get()) !== undefined,
    domainCount: async () => Number((await db.select({ n: sql<number>`count(*)` }).from(orgDomains).where(eq(orgDomains.organizationId, m.orgId)).get())?.n ?? 0),

    /**
     * Claims `domain` for the organization, only while: the actor may manage SSO, the organization
     * has fewer than `max` domains and no claim of it yet, and no other organization holds it
     * verified. One statement, so two organizations racing cannot both pass.
     */
    claim: (row: { id: string; domain: string; token: string }, now: Date, max: number) =>
      insertIf(
        db,
        orgDomains,
        { id: row.id, organizationId: m.orgId, domain: row.domain, verificationToken: row.token, createdAt: now },
        sql`${may} AND (SELECT count(*) FROM ${orgDomains} d WHERE d.organization_id = ${m.orgId}) < ${max}
          AND NOT EXISTS (SELECT 1 FROM ${orgDomains} d WHERE d.organization_id = ${m.orgId} AND d.domain = ${row.domain})
          AND NOT ${verifiedElsewhere(row.domain)}`,
      ),
    /** SQL: the claim `id` exists (written by this batch). */
    claimed: (id: string) => sql`EXISTS (SELECT 1 FROM ${orgDomains} d WHERE d.id = ${id})`,

    /**
     * Marks `domain` verified at `now`: one guarded statement, so it holds only while no other
     * organization verified it meanwhile (and the partial unique index backs that up).
     */
    markVerified: (domain: string, now: Date) =>
      db
        .update(orgDomains)
        .set({ verifiedAt: now })
        .where(and(domainOf(domain), sql`${orgDomains.verifiedAt} IS NULL`, may, sql`NOT ${verifiedElsewhere(domain)}`))
        .returning(),
    /** SQL: `domain` of this organization was verified at `now`. */
    verifiedAt: (domain: string, now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${orgDomains} d WHERE d.organization_id = ${m.orgId} AND d.domain = ${domain} AND d.verified_at = ${now.getTime()})`,
    removeDomain: (domain: string) => db.delete(orgDomains).where(and(domainOf(domain), may)).returning(),
    may: (): SQL => may,
    /** SQL: the previous statement of the batch changed a row. */
    changed: (): SQL => sql`changes() > 0`,
  };
}

/**
 * The enabled SSO connection whose organization holds `domain` verified, or undefined. Not scoped by
 * an actor: sign-in asks it before anyone is signed in (docs/api.md, POST /auth/sso/start).
 */
export const connectionForVerifiedDomain = (db: Db, domain: string) =>
  db
    .select({ connection: orgSsoConnections })
    .from(orgDomains)
    .innerJoin(orgSsoConnections, eq(orgSsoConnections.organizationId, orgDomains.organizationId))
    .where(and(eq(orgDomains.domain, domain), isNotNull(orgDomains.verifiedAt), eq(orgSsoConnections.enabled, true)))
    .get();

/**
 * SQL probe: `domain` is verified by an organization whose enabled SSO connection enforces SSO
 * (the `enforceSso` of `connectionForVerifiedDomain`, as one EXISTS for a lookup's select).
 * Raw SQL with aliases: drizzle renders columns unqualified inside a select's sql fragment.
 */
export const enforcesSsoSql = (domain: string) => sql`EXISTS (
  SELECT 1 FROM org_domains d JOIN org_sso_connections c ON c.organization_id = d.organization_id
  WHERE d.domain = ${domain} AND d.verified_at IS NOT NULL AND c.enabled = 1 AND c.enforce_sso = 1
)`;

/**
 * Records an SSO sign-in (or its error) of organization `orgId` and drops all but the newest
 * RECENT_SIGN_INS of them, in one batch: the list stays bounded without a cron.
 */
export function recordSignInStatements(db: Db, orgId: string, entry: { email: string; outcome: string }, now: Date) {
  return [
    insertIf(
      db,
      ssoSignIns,
      { id: newId("ssi", now.getTime()), organizationId: orgId, email: entry.email, outcome: entry.outcome, at: now },
      sql`EXISTS (SELECT 1 FROM organizations o WHERE o.id = ${orgId})`,
    ),
    db
      .delete(ssoSignIns)
      .where(
        and(
          eq(ssoSignIns.organizationId, orgId),
          sql`${ssoSignIns.id} NOT IN (SELECT s.id FROM ${ssoSignIns} s WHERE s.organization_id = ${orgId} ORDER BY s.at DESC, s.id DESC LIMIT ${RECENT_SIGN_INS})`,
        ),
      ),
  ] as const;
}

/** The enabled SSO connection of organization `orgId` (for a flow that has the organization already), or undefined. */
export const enabledConnectionOf = (db: Db, orgId: string) =>
  db
    .select()
    .from(orgSsoConnections)
    .where(and(eq(orgSsoConnections.organizationId, orgId), eq(orgSsoConnections.enabled, true)))
    .get();

/** Whether organization `orgId` holds `domain` verified. */
export const holdsVerifiedDomain = (db: Db, orgId: string, domain: string) =>
  db
    .select({ domain: orgDomains.domain })
    .from(orgDomains)
    .where(and(eq(orgDomains.organizationId, orgId), eq(orgDomains.domain, domain), isNotNull(orgDomains.verifiedAt)))
    .get();

/**
 * Erasure (GDPR): forgets the recent SSO sign-ins of the given addresses (an SQL list of an
 * account's current and earlier addresses), for the erasure batch, only while `onlyIf` holds.
 */
export const forgetSsoSignInsOf = (db: Db, addresses: SQL, onlyIf: SQL) =>
  db.delete(ssoSignIns).where(and(sql`${ssoSignIns.email} IN ${addresses}`, onlyIf));
