import { sql } from "drizzle-orm";
import type * as z from "zod";
import { auditInsertIf } from "../../audit/audit.repo";
import { resolveAccess } from "../../identity/grants";
import type { OrgMembership } from "../../identity/membership";
import type { RequestContext, ServiceContext } from "../../platform/context";
import { randomToken } from "../../platform/crypto";
import { isUniqueViolation, runBatch } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { isAllowedOutboundUrl } from "../../platform/outbound-url";
import { rateLimit } from "../../platform/rate-limit";
import { open, seal } from "../../platform/secrets";
import { emailDomain, isPublicMailDomain, normalizeDomain, txtStrings, verificationRecord } from "./domains";
import { connectionForVerifiedDomain, enabledConnectionOf, enforcesSsoSql, holdsVerifiedDomain, recordSignInStatements, ssoRepo, type OrgDomainRow, type SsoConnectionRow } from "./sso.repo";
import type { DomainInput, DomainSchema, SsoConfigInput, SsoConfigSchema } from "./sso.schemas";

/** The AAD of a sealed client secret: a sealed value copied to another organization's row does not open. */
const secretContext = (orgId: string) => `org-sso:${orgId}`;

const ssoNotConfigured = () => new AppError("not_found", "SSO is not configured for this organization");
const domainNotFound = () => new AppError("not_found", "Domain not found");
const mayNot = () => new AppError("forbidden", "Managing SSO needs the admin role in the organization");

function toSsoOut(row: SsoConnectionRow, recent: { at: Date; email: string; outcome: string }[]): z.infer<typeof SsoConfigSchema> {
  return {
    organization_id: row.organizationId,
    issuer: row.issuer,
    client_id: row.clientId,
    client_secret_set: true,
    enforce_sso: row.enforceSso,
    default_role: row.defaultRole === "owner" ? "admin" : row.defaultRole,
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    recent: recent.map((r) => ({ at: r.at.toISOString(), email: r.email, outcome: r.outcome })),
  };
}

const toDomainOut = (row: OrgDomainRow): z.infer<typeof DomainSchema> => ({
  domain: row.domain,
  verification_record: verificationRecord(row.domain, row.verificationToken),
  verified_at: row.verifiedAt?.toISOString() ?? null,
  created_at: row.createdAt.toISOString(),
});

/**
 * The issuer in its canonical form, or 422: an https URL without query, fragment or credentials
 * (http://127.0.0.1 / localhost in development only, for local test providers). Its discovery
 * document is fetched by the sign-in flow, not here, so a provider that is down does not block
 * saving its configuration.
 */
function checkIssuer(ctx: ServiceContext, issuer: string): string {
  const invalid = () =>
    new AppError("validation_failed", "The issuer must be an https URL without query or fragment", { errors: [{ path: "issuer", message: "must be an https URL" }] });
  if (!isAllowedOutboundUrl(issuer, { isDevelopment: ctx.config.isDevelopment })) throw invalid();
  const u = new URL(issuer);
  if (u.search) throw invalid();
  // The issuer is compared with the ID token's `iss` as a string: keep it as given, without a trailing slash added or removed.
  return issuer;
}

/** GET /orgs/{id}/sso: the configuration (never the secret) and the last sign-ins. */
export async function getSso(ctx: RequestContext, m: OrgMembership) {
  const repo = ssoRepo(ctx.db, m);
  const [row, recent] = await Promise.all([repo.connection(), repo.recent()]);
  if (!row) throw ssoNotConfigured();
  return toSsoOut(row, recent);
}

/**
 * PUT /orgs/{id}/sso: creates or replaces the configuration. The client secret is sealed before it
 * reaches D1 and never comes back; leaving it out keeps the stored one (422 when there is none).
 * The write and its audit row are one batch; the audit row exists only if the write happened.
 */
export async function putSso(ctx: RequestContext, m: OrgMembership, input: z.infer<typeof SsoConfigInput>) {
  const { db, now } = ctx;
  const issuer = checkIssuer(ctx, input.issuer);
  const repo = ssoRepo(db, m);
  const sealedSecret = input.client_secret !== undefined ? await seal(ctx.env, ctx.config, input.client_secret, secretContext(m.orgId)) : undefined;
  const before = await repo.connection();
  if (!before && sealedSecret === undefined) {
    throw new AppError("validation_failed", "client_secret is required to set up SSO", { errors: [{ path: "client_secret", message: "required on the first PUT" }] });
  }
  const [written] = await runBatch(ctx, [
    repo.upsert({ issuer, clientId: input.client_id, sealedSecret, enforceSso: input.enforce_sso, defaultRole: input.default_role, enabled: input.enabled }, now),
    auditInsertIf(
      db,
      ctx,
      {
        userId: m.userId,
        action: before ? "org.sso_updated" : "org.sso_created",
        details: {
          organization_id: m.orgId,
          issuer,
          client_id: input.client_id,
          secret_changed: sealedSecret !== undefined,
          enforce_sso: input.enforce_sso,
          default_role: input.default_role,
          enabled: input.enabled,
          via_superuser: m.viaSuperuser,
        },
      },
      repo.writtenAt(now),
    ),
  ]);
  const [row, recent] = await Promise.all([repo.connection(), repo.recent()]);
  if (written.meta.changes === 0 || !row) {
    // Not written: the configuration was removed meanwhile (and no secret was sent), or the
    // actor lost the role since the route's check.
    if (!row && sealedSecret === undefined) throw new AppError("validation_failed", "client_secret is required to set up SSO");
    throw mayNot();
  }
  return toSsoOut(row, recent);
}

/** DELETE /orgs/{id}/sso: SSO ends for the organization (its domains stay claimed). */
export async function deleteSso(ctx: RequestContext, m: OrgMembership): Promise<void> {
  const { db } = ctx;
  const repo = ssoRepo(db, m);
  if (!(await repo.connection())) throw ssoNotConfigured();
  const [removed] = await runBatch(ctx, [
    repo.remove(),
    auditInsertIf(db, ctx, { userId: m.userId, action: "org.sso_deleted", details: { organization_id: m.orgId, via_superuser: m.viaSuperuser } }, repo.changed()),
  ]);
  if (removed.length === 0) {
    if (await repo.connection()) throw mayNot();
    throw ssoNotConfigured();
  }
}

export async function listDomains(ctx: RequestContext, m: OrgMembership) {
  return { items: (await ssoRepo(ctx.db, m).domains()).map(toDomainOut) };
}

/**
 * POST /orgs/{id}/domains: claims a domain (unverified until its TXT record is seen). Public mail
 * services → 422; a domain another organization holds verified → 409 `conflict`; a second claim
 * of the same domain → 409 `conflict`; past MAX_DOMAINS_PER_ORG → 409 `limit_reached`. The claim
 * is one guarded statement, so none of these can be raced.
 */
export async function claimDomain(ctx: RequestContext, m: OrgMembership, input: z.infer<typeof DomainInput>) {
  const { db, now, config } = ctx;
  const domain = input.domain;
  if (isPublicMailDomain(domain)) {
    throw new AppError("validation_failed", `${domain} is a public mail service: it cannot be claimed`, { errors: [{ path: "domain", message: "public mail domain" }] });
  }
  const repo = ssoRepo(db, m);
  const id = newId("dom", now.getTime());
  const token = randomToken(24);
  let claimed: boolean;
  try {
    const [insert] = await runBatch(ctx, [
      repo.claim({ id, domain, token }, now, config.MAX_DOMAINS_PER_ORG),
      auditInsertIf(db, ctx, { userId: m.userId, action: "org.domain_claimed", details: { organization_id: m.orgId, domain, via_superuser: m.viaSuperuser } }, repo.claimed(id)),
    ]);
    claimed = insert.meta.changes > 0;
  } catch (err) {
    if (!isUniqueViolation(err, "org_domains")) throw err;
    claimed = false;
  }
  if (!claimed) {
    if (await repo.domain(domain)) throw new AppError("conflict", `${domain} is already claimed by this organization`);
    if (await repo.verifiedElsewhere(domain)) throw new AppError("conflict", `${domain} is verified by another organization`);
    if ((await repo.domainCount()) >= config.MAX_DOMAINS_PER_ORG) throw new AppError("limit_reached", `An organization may claim at most ${config.MAX_DOMAINS_PER_ORG} domains`);
    throw mayNot();
  }
  const row = await repo.domain(domain);
  if (!row) throw domainNotFound();
  return toDomainOut(row);
}

/** DELETE /orgs/{id}/domains/{domain}: the claim (verified or not) goes; SSO no longer covers the domain. */
export async function removeDomain(ctx: RequestContext, m: OrgMembership, rawDomain: string): Promise<void> {
  const { db } = ctx;
  const domain = normalizeDomain(rawDomain);
  if (!domain) throw domainNotFound();
  const repo = ssoRepo(db, m);
  if (!(await repo.domain(domain))) throw domainNotFound();
  const [removed] = await runBatch(ctx, [
    repo.removeDomain(domain),
    auditInsertIf(db, ctx, { userId: m.userId, action: "org.domain_removed", details: { organization_id: m.orgId, domain, via_superuser: m.viaSuperuser } }, repo.changed()),
  ]);
  if (removed.length === 0) {
    if (await repo.domain(domain)) throw mayNot();
    throw domainNotFound();
  }
}

/** What the resolver answered for a TXT name: its strings, or null when it could not be asked. */
async function lookupTxt(ctx: ServiceContext, name: string): Promise<string[] | null> {
  const base = ctx.config.DOH_URL;
  if (!isAllowedOutboundUrl(base, { isDevelopment: ctx.config.isDevelopment })) {
    ctx.log.error("DOH_URL is not an allowed https URL: domain verification cannot run", { doh_url: base });
    return null;
  }
  const url = new URL(base);
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  try {
    const res = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(ctx.config.DOH_TIMEOUT_MS), redirect: "manual" });
    if (!res.ok) {
      ctx.log.warn("DNS-over-HTTPS lookup failed", { status: res.status });
      return null;
    }
    const text = await res.text();
    if (text.length > 64 * 1024) return null;
    const body = JSON.parse(text) as { Status?: unknown };
    // NOERROR (0) and NXDOMAIN (3) are answers; SERVFAIL and the rest mean "could not tell".
    if (body.Status !== 0 && body.Status !== 3) return null;
    return txtStrings(body);
  } catch (err) {
    ctx.log.warn("DNS-over-HTTPS lookup failed", { error: err instanceof Error ? err.name : String(err) });
    return null;
  }
}

/**
 * POST /orgs/{id}/domains/{domain}/verify: looks the TXT record up over DNS-over-HTTPS (DOH_URL,
 * within DOH_TIMEOUT_MS, RATE_DOMAIN_VERIFY_PER_ORG per organization: each call is an outbound
 * request) and marks the domain verified when the expected value is among the answers. The mark
 * is one guarded statement: it does not happen if another organization verified the domain
 * meanwhile (409). Already verified: 200 as it is, no lookup. The record not (yet) there: 409
 * `conflict` with what was found. The resolver unreachable: 503.
 */
export async function verifyDomain(ctx: RequestContext, m: OrgMembership, rawDomain: string) {
  const { db, now } = ctx;
  const domain = normalizeDomain(rawDomain);
  if (!domain) throw domainNotFound();
  const repo = ssoRepo(db, m);
  const row = await repo.domain(domain);
  if (!row) throw domainNotFound();
  if (row.verifiedAt) return toDomainOut(row);
  await rateLimit(ctx.env, `domain-verify:org:${m.orgId}`, ctx.config.RATE_DOMAIN_VERIFY_PER_ORG);
  const record = verificationRecord(domain, row.verificationToken);
  const found = await lookupTxt(ctx, record.name);
  if (found === null) throw new AppError("service_unavailable", "The DNS lookup failed; try again later");
  if (!found.some((v) => v.trim() === record.value)) {
    throw new AppError("conflict", found.length === 0 ? `No TXT record found at ${record.name}` : `The TXT record at ${record.name} does not hold the expected value`, {
      fields: { expected: record, found: found.slice(0, 10).map((v) => v.slice(0, 255)) },
    });
  }
  let marked: OrgDomainRow[];
  try {
    [marked] = await runBatch(ctx, [
      repo.markVerified(domain, now),
      auditInsertIf(db, ctx, { userId: m.userId, action: "org.domain_verified", details: { organization_id: m.orgId, domain, via_superuser: m.viaSuperuser } }, repo.verifiedAt(domain, now)),
    ]);
  } catch (err) {
    if (!isUniqueViolation(err, "org_domains")) throw err;
    marked = [];
  }
  const verified = marked[0];
  if (verified) return toDomainOut(verified);
  const current = await repo.domain(domain);
  if (!current) throw domainNotFound();
  if (current.verifiedAt) return toDomainOut(current);
  if (await repo.verifiedElsewhere(domain)) throw new AppError("conflict", `${domain} was verified by another organization`);
  throw mayNot();
}

// ─── For sign-in (issue 17: POST /auth/sso/start, the SSO callback, enforce_sso) ─────────────

export interface SsoConnectionForDomain {
  orgId: string;
  issuer: string;
  clientId: string;
  /** Opened from its sealed form: keep it in memory only, never log or return it. */
  clientSecret: string;
  enforceSso: boolean;
  defaultRole: "admin" | "member" | "viewer";
  enabled: boolean;
}

/**
 * The enabled SSO connection of the organization that holds `domain` verified, with its client
 * secret opened; null when there is none (an unclaimed, unverified or disabled domain alike).
 * Takes a context (not a bare db) because opening the secret needs DATA_ENCRYPTION_KEY.
 */
export async function ssoConnectionForEmailDomain(ctx: ServiceContext, rawDomain: string): Promise<SsoConnectionForDomain | null> {
  const domain = normalizeDomain(rawDomain);
  if (!domain) return null;
  const hit = await connectionForVerifiedDomain(ctx.db, domain);
  if (!hit) return null;
  const c = hit.connection;
  return {
    orgId: c.organizationId,
    issuer: c.issuer,
    clientId: c.clientId,
    clientSecret: await open(ctx.env, ctx.config, c.clientSecretSealed, secretContext(c.organizationId)),
    enforceSso: c.enforceSso,
    defaultRole: c.defaultRole === "owner" ? "member" : c.defaultRole,
    enabled: c.enabled,
  };
}

/**
 * The enabled SSO connection of organization `orgId`, secret opened (the flow that started for it
 * resolves its provider here at the callback); null when it was disabled or removed meanwhile.
 */
export async function ssoConnectionOfOrg(ctx: Pick<ServiceContext, "db" | "env" | "config">, orgId: string): Promise<SsoConnectionForDomain | null> {
  const c = await enabledConnectionOf(ctx.db, orgId);
  if (!c) return null;
  return {
    orgId,
    issuer: c.issuer,
    clientId: c.clientId,
    clientSecret: await open(ctx.env, ctx.config, c.clientSecretSealed, secretContext(orgId)),
    enforceSso: c.enforceSso,
    defaultRole: c.defaultRole === "owner" ? "member" : c.defaultRole,
    enabled: c.enabled,
  };
}

/** Whether `email`'s domain is a verified domain of organization `orgId` (whose SSO is then trusted for the address). */
export async function emailAtVerifiedDomainOf(ctx: ServiceContext, orgId: string, email: string): Promise<boolean> {
  const domain = emailDomain(email);
  return domain !== null && domain !== undefined && (await holdsVerifiedDomain(ctx.db, orgId, domain)) !== undefined;
}

/**
 * Records one SSO sign-in or its error for the organization's admins (GET /orgs/{id}/sso
 * `recent`, the newest 20 kept). `outcome`: e.g. `signed_in`, `joined`, `limit_reached`,
 * `error:<code>`.
 */
export async function recordSsoSignIn(ctx: ServiceContext, orgId: string, entry: { email: string; outcome: string }): Promise<void> {
  await runBatch(ctx, recordSignInStatements(ctx.db, orgId, { email: entry.email.slice(0, 254), outcome: entry.outcome.slice(0, 64) }, ctx.now));
}

/** Where an address whose organization enforces SSO signs in instead: the console page that starts SSO for it. */
export const ssoUrlFor = (ctx: ServiceContext, email: string) => `${ctx.config.PUBLIC_BASE_URL.replace(/\/$/, "")}/console/sso?email=${encodeURIComponent(email)}`;

/**
 * Whether `email` must sign in through its organization's SSO: its domain is verified by an
 * organization whose enabled SSO has `enforce_sso`. Superusers are exempt (they must never be
 * locked out by one organization's provider); pass `userId` when the account is known.
 * → null (the sign-in may go on) or `{ sso_url }`.
 *
 * Call it once the credential is proven (the password verified, the email code spent), not
 * before: the answer before would reveal which addresses are superusers.
 */
export async function ssoRequiredFor(ctx: RequestContext, email: string, userId?: string, enforced?: boolean): Promise<null | { sso_url: string }> {
  const domain = emailDomain(email);
  if (!domain) return null;
  // `enforced`: already known from the caller's lookup (enforcesSsoProbe), no statement of its own.
  if (enforced === undefined) enforced = (await connectionForVerifiedDomain(ctx.db, domain))?.connection.enforceSso === true;
  if (!enforced) return null;
  if (userId && (await resolveAccess(ctx, userId, { fresh: true })).roles.includes("superuser")) return null;
  return { sso_url: ssoUrlFor(ctx, email) };
}

/**
 * SQL probe for a user lookup (findUserByEmailProbing): whether `email`'s domain enforces SSO, to
 * pass as `enforced` to `assertSsoNotRequired`. Always false for an address without a domain.
 */
export const enforcesSsoProbe = (email: string) => {
  const domain = emailDomain(email);
  return domain ? enforcesSsoSql(domain) : sql`0`;
};

/** Throws 403 `sso_required` (with `sso_url`) when `ssoRequiredFor` says so: for password, email-code and social sign-in. */
export async function assertSsoNotRequired(ctx: RequestContext, email: string, userId?: string, enforced?: boolean): Promise<void> {
  const required = await ssoRequiredFor(ctx, email, userId, enforced);
  if (required) {
    throw new AppError("sso_required", "This address signs in through its organization's single sign-on", {
      fields: { ...required, sso_start: "/api/v1/auth/sso/start" },
    });
  }
}
