import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { recordSsoSignIn, ssoConnectionForEmailDomain } from "../src/features/sso/sso.service";
import { serviceContext } from "../src/platform/context";
import { apiKeyFor, auditRows, signedInWithRole } from "./helpers/admin";
import { addMember, grantRole, orgWithMembers } from "./helpers/fixtures";
import {
  call,
  callAt,
  callWithConfig,
  enablingCode,
  expectProblem,
  json,
  movableClock,
  randomIp,
  signedInUser,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
  type CallOptions,
} from "./helpers/harness";

// Issue 17, point 4 (without the sign-in flow) and the organization admin's part of point 5:
// per-organization SSO configuration, claimed and verified email domains, enforce_sso.

type Signed = Awaited<ReturnType<typeof signedInUser>>;
interface SsoOut {
  issuer: string;
  client_id: string;
  client_secret_set: boolean;
  enforce_sso: boolean;
  default_role: string;
  enabled: boolean;
  recent: { at: string; email: string; outcome: string }[];
}
interface DomainOut {
  domain: string;
  verification_record: { type: string; name: string; value: string };
  verified_at: string | null;
}

const SECRET = "s3cr3t-client-secret-value-do-not-leak";
const config = (over: Record<string, unknown> = {}) => ({ issuer: "https://idp.example.com/realms/acme", client_id: "keel-acme", client_secret: SECRET, ...over });
const dohUrl = () => `${inject("dohUrl")}/dns-query`;
const withDoh = (path: string, opts: CallOptions, extra: Record<string, unknown> = {}) => callWithConfig({ DOH_URL: dohUrl(), ...extra }, path, opts);

/** Publishes TXT `values` at `name` on the local DNS-over-HTTPS responder. */
async function publish(name: string, values: string[]) {
  const res = await fetch(`${inject("dohUrl")}/records`, { method: "POST", body: JSON.stringify({ name, values }) });
  expect(res.status).toBe(204);
}

async function ownerWithOrg(): Promise<{ owner: Signed; orgId: string }> {
  const owner = await signedInUser();
  const res = await call("orgs", { body: { name: unique("SSO ") }, token: owner.token });
  expect(res.status).toBe(201);
  return { owner, orgId: (await json<{ id: string }>(res)).id };
}

/** The problem document of a refusal, with its extra members. */
const problem = async (res: Response, status: number, code: string) => (await expectProblem(res, status, code)) as unknown as Record<string, unknown>;

const uniqueDomain = (prefix = "acme") => `${unique(prefix)}.test`;

/** Claims `domain` for `orgId`, publishes its record and verifies it. */
async function verifiedDomain(orgId: string, token: string, domain = uniqueDomain()): Promise<string> {
  const claimed = await json<DomainOut>(await call(`orgs/${orgId}/domains`, { body: { domain }, token }));
  await publish(claimed.verification_record.name, [claimed.verification_record.value]);
  const res = await withDoh(`orgs/${orgId}/domains/${domain}/verify`, { method: "POST", token });
  expect(res.status, await res.clone().text()).toBe(200);
  return domain;
}

/** A verified account at `email` (registered and verified through the API). */
async function accountAt(email: string) {
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Staff" }, ip });
  expect(res.status).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  expect((await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(email, "verification")) }, ip })).status).toBe(200);
  return { id: user.id, email, ip };
}
const passwordLogin = (email: string, password = STRONG_PASSWORD) => call("auth/login", { body: { email, password }, ip: randomIp() });

describe("GET / PUT / DELETE /orgs/{id}/sso", () => {
  it("changing or removing the provider needs a recent authentication (it decides who signs in as the members)", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const later = movableClock();
    later.advance(11 * 60_000); // past REAUTH_MINUTES (10), within the access token's 15 minutes
    await expectProblem(await callAt(later, `orgs/${orgId}/sso`, { method: "PUT", body: config(), token: owner.token }), 401, "reauthentication_required");
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config(), token: owner.token })).status).toBe(200);
    await expectProblem(await callAt(later, `orgs/${orgId}/sso`, { method: "DELETE", token: owner.token }), 401, "reauthentication_required");
    expect((await call(`orgs/${orgId}/sso`, { method: "DELETE", token: owner.token })).status).toBe(204);
  });

  it("an owner configures SSO: the client secret is sealed in D1 and never returned; audited", async () => {
    const { owner, orgId } = await ownerWithOrg();
    await expectProblem(await call(`orgs/${orgId}/sso`, { token: owner.token }), 404, "not_found");

    const put = await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: true, default_role: "viewer" }), token: owner.token });
    const text = await put.clone().text();
    expect(put.status, text).toBe(200);
    expect(text).not.toContain(SECRET);
    const saved = await json<SsoOut & Record<string, unknown>>(put);
    expect(saved).toMatchObject({ issuer: "https://idp.example.com/realms/acme", client_id: "keel-acme", client_secret_set: true, enforce_sso: true, default_role: "viewer", enabled: true, recent: [] });
    expect(saved).not.toHaveProperty("client_secret");

    const row = await env.DB.prepare("SELECT * FROM org_sso_connections WHERE organization_id = ?").bind(orgId).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(String(row?.client_secret_sealed)).toMatch(/^v1\./);

    const got = await call(`orgs/${orgId}/sso`, { token: owner.token });
    expect(await got.clone().text()).not.toContain(SECRET);
    expect(await json<SsoOut>(got)).toMatchObject({ client_secret_set: true, enforce_sso: true });

    // An update without the secret keeps it.
    const { client_secret: _omit, ...noSecret } = config({ client_id: "keel-acme-2" });
    const updated = await call(`orgs/${orgId}/sso`, { method: "PUT", body: noSecret, token: owner.token });
    expect(updated.status).toBe(200);
    expect(await json<SsoOut>(updated)).toMatchObject({ client_id: "keel-acme-2", enforce_sso: false, client_secret_set: true });
    const after = await env.DB.prepare("SELECT client_secret_sealed FROM org_sso_connections WHERE organization_id = ?").bind(orgId).first<{ client_secret_sealed: string }>();
    expect(after?.client_secret_sealed).toBe(row?.client_secret_sealed);

    expect((await call(`orgs/${orgId}/sso`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${orgId}/sso`, { token: owner.token }), 404, "not_found");
    await expectProblem(await call(`orgs/${orgId}/sso`, { method: "DELETE", token: owner.token }), 404, "not_found");

    const actions = await Promise.all(["org.sso_created", "org.sso_updated", "org.sso_deleted"].map((a) => auditRows(owner.user.id, a)));
    expect(actions.map((rows) => rows.length)).toEqual([1, 1, 1]);
    expect(JSON.stringify(actions)).not.toContain(SECRET);
  });

  it("validates: the first PUT needs the secret; the issuer must be https (local http only in development); owner is no default role", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const { client_secret: _omit, ...noSecret } = config();
    await expectProblem(await call(`orgs/${orgId}/sso`, { method: "PUT", body: noSecret, token: owner.token }), 422, "validation_failed");
    for (const issuer of ["http://idp.example.com", "ftp://idp.example.com", "not a url", "https://user:pw@idp.example.com", "https://idp.example.com/?x=1", "https://idp.example.com/#f"]) {
      await expectProblem(await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ issuer }), token: owner.token }), 422, "validation_failed");
    }
    await expectProblem(await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ default_role: "owner" }), token: owner.token }), 422, "validation_failed");
    await expectProblem(await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ extra: 1 }), token: owner.token }), 422, "validation_failed");
    // The suite runs as development: a local provider is allowed, and refused in production.
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ issuer: "http://127.0.0.1:9999" }), token: owner.token })).status).toBe(200);
    await expectProblem(
      await callWithConfig({ ENVIRONMENT: "production" }, `orgs/${orgId}/sso`, { method: "PUT", body: config({ issuer: "http://127.0.0.1:9999" }), token: owner.token }),
      422,
      "validation_failed",
    );
    expect(await env.DB.prepare("SELECT issuer FROM org_sso_connections WHERE organization_id = ?").bind(orgId).first("issuer")).toBe("http://127.0.0.1:9999");
  });

  it("only owners and admins: a member or viewer gets 403, another organization's owner 404, an API key 403; a superuser may", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const [admin, member, viewer, stranger] = await Promise.all([signedInUser(), signedInUser(), signedInUser(), signedInUser()]);
    await addMember(orgId, admin.user.id, "admin");
    await addMember(orgId, member.user.id, "member");
    await addMember(orgId, viewer.user.id, "viewer");
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config(), token: admin.token })).status).toBe(200);
    expect((await call(`orgs/${orgId}/domains`, { body: { domain: uniqueDomain() }, token: admin.token })).status).toBe(201);

    for (const who of [member, viewer]) {
      await expectProblem(await call(`orgs/${orgId}/sso`, { token: who.token }), 403, "forbidden");
      await expectProblem(await call(`orgs/${orgId}/sso`, { method: "PUT", body: config(), token: who.token }), 403, "forbidden");
      await expectProblem(await call(`orgs/${orgId}/sso`, { method: "DELETE", token: who.token }), 403, "forbidden");
      await expectProblem(await call(`orgs/${orgId}/domains`, { token: who.token }), 403, "forbidden");
      await expectProblem(await call(`orgs/${orgId}/domains`, { body: { domain: uniqueDomain() }, token: who.token }), 403, "forbidden");
    }
    await expectProblem(await call(`orgs/${orgId}/sso`, { token: stranger.token }), 404, "not_found");
    await expectProblem(await call(`orgs/${orgId}/domains`, { token: stranger.token }), 404, "not_found");
    const key = await apiKeyFor(owner.token, ["read:profile"]);
    await expectProblem(await call(`orgs/${orgId}/sso`, { apiKey: key }), 403, "insufficient_scope");

    const superuser = await signedInWithRole("superuser");
    expect((await call(`orgs/${orgId}/sso`, { token: superuser.token })).status).toBe(200);
    // Nothing of the refused calls changed anything.
    expect((await json<{ items: unknown[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }))).items).toHaveLength(1);
  });
});

describe("POST / GET /orgs/{id}/domains, DELETE /orgs/{id}/domains/{domain}", () => {
  it("claims a domain with its TXT record; lists and removes it; a second claim is a conflict", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const domain = uniqueDomain();
    const res = await call(`orgs/${orgId}/domains`, { body: { domain: `  ${domain.toUpperCase()}. ` }, token: owner.token });
    expect(res.status, await res.clone().text()).toBe(201);
    const claimed = await json<DomainOut>(res);
    expect(claimed.domain).toBe(domain);
    expect(claimed.verified_at).toBeNull();
    expect(claimed.verification_record.type).toBe("TXT");
    expect(claimed.verification_record.name).toBe(`_keel-verification.${domain}`);
    expect(claimed.verification_record.value).toMatch(/^keel-verification=[A-Za-z0-9_-]{32}$/);

    const list = await json<{ items: DomainOut[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }));
    expect(list.items).toEqual([expect.objectContaining({ domain, verification_record: claimed.verification_record, verified_at: null })]);
    await expectProblem(await call(`orgs/${orgId}/domains`, { body: { domain }, token: owner.token }), 409, "conflict");

    expect((await call(`orgs/${orgId}/domains/${domain}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${orgId}/domains/${domain}`, { method: "DELETE", token: owner.token }), 404, "not_found");
    expect((await json<{ items: unknown[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }))).items).toEqual([]);
    expect((await auditRows(owner.user.id, "org.domain_claimed")).length).toBe(1);
    expect((await auditRows(owner.user.id, "org.domain_removed")).length).toBe(1);
  });

  it("public mail domains → 422; names that are no domain → 422", async () => {
    const { owner, orgId } = await ownerWithOrg();
    for (const domain of ["gmail.com", "GMAIL.com.", "outlook.com", "hotmail.com", "yahoo.com", "yahoo.co.uk", "icloud.com", "proton.me", "gmx.de", "hotmail.fr", "mail.gmail.com"]) {
      await expectProblem(await call(`orgs/${orgId}/domains`, { body: { domain }, token: owner.token }), 422, "validation_failed");
    }
    for (const domain of ["", "localhost", "a_b.test", "1.2.3.4", "exa mple.com", "user@example.com", "https://example.com", "-bad.test", `${"a".repeat(64)}.test`, "example.123"]) {
      await expectProblem(await call(`orgs/${orgId}/domains`, { body: { domain }, token: owner.token }), 422, "validation_failed");
    }
    await expectProblem(await call(`orgs/${orgId}/domains`, { body: {}, token: owner.token }), 422, "validation_failed");
    expect((await json<{ items: unknown[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }))).items).toEqual([]);
  });

  it("an organization may claim at most MAX_DOMAINS_PER_ORG domains (409 limit_reached)", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const over = { MAX_DOMAINS_PER_ORG: "2" };
    for (let i = 0; i < 2; i++) expect((await callWithConfig(over, `orgs/${orgId}/domains`, { body: { domain: uniqueDomain() }, token: owner.token })).status).toBe(201);
    await expectProblem(await callWithConfig(over, `orgs/${orgId}/domains`, { body: { domain: uniqueDomain() }, token: owner.token }), 409, "limit_reached");
  });
});

describe("POST /orgs/{id}/domains/{domain}/verify over DNS-over-HTTPS (a local responder)", () => {
  it("no record → 409 with nothing found; a wrong value → 409 with what was found; the right one → 200 verified_at; audited", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const domain = uniqueDomain();
    const claimed = await json<DomainOut>(await call(`orgs/${orgId}/domains`, { body: { domain }, token: owner.token }));
    const verify = () => withDoh(`orgs/${orgId}/domains/${domain}/verify`, { method: "POST", token: owner.token });

    const missing = await problem(await verify(), 409, "conflict");
    expect(missing).toMatchObject({ found: [], expected: claimed.verification_record });

    await publish(claimed.verification_record.name, ["v=spf1 -all", "keel-verification=not-the-token"]);
    const wrong = await problem(await verify(), 409, "conflict");
    expect(wrong.found).toEqual(["v=spf1 -all", "keel-verification=not-the-token"]);
    expect((await json<{ items: DomainOut[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }))).items[0]!.verified_at).toBeNull();

    // The right value among others, split into DNS character-strings as a long record is.
    await publish(claimed.verification_record.name, ["v=spf1 -all", claimed.verification_record.value, "x".repeat(300)]);
    const ok = await verify();
    expect(ok.status, await ok.clone().text()).toBe(200);
    const verified = await json<DomainOut>(ok);
    expect(verified.verified_at).not.toBeNull();
    // Again: already verified, no change.
    expect((await json<DomainOut>(await verify())).verified_at).toBe(verified.verified_at);
    expect((await auditRows(owner.user.id, "org.domain_verified")).length).toBe(1);
  });

  it("a domain verified by one organization cannot be claimed (409) nor verified (409) by another", async () => {
    const a = await ownerWithOrg();
    const b = await ownerWithOrg();
    const domain = uniqueDomain();
    // Both claim it while it is unverified; A proves it first.
    const bClaim = await json<DomainOut>(await call(`orgs/${b.orgId}/domains`, { body: { domain }, token: b.owner.token }));
    await verifiedDomain(a.orgId, a.owner.token, domain);
    // B publishes its own record too, so the refusal is the guard's, not DNS's.
    await publish(bClaim.verification_record.name, [bClaim.verification_record.value]);
    const bVerify = await problem(await withDoh(`orgs/${b.orgId}/domains/${domain}/verify`, { method: "POST", token: b.owner.token }), 409, "conflict");
    expect(String(bVerify.detail)).toContain("another organization");
    const c = await ownerWithOrg();
    await expectProblem(await call(`orgs/${c.orgId}/domains`, { body: { domain }, token: c.owner.token }), 409, "conflict");

    // Once A lets it go, another organization can have it.
    expect((await call(`orgs/${a.orgId}/domains/${domain}`, { method: "DELETE", token: a.owner.token })).status).toBe(204);
    expect((await withDoh(`orgs/${b.orgId}/domains/${domain}/verify`, { method: "POST", token: b.owner.token })).status).toBe(200);
  });

  it("two organizations verifying one domain at once: exactly one holds it", async () => {
    const [a, b] = await Promise.all([ownerWithOrg(), ownerWithOrg()]);
    const domain = uniqueDomain();
    const claims = await Promise.all([a, b].map(async (o) => json<DomainOut>(await call(`orgs/${o.orgId}/domains`, { body: { domain }, token: o.owner.token }))));
    await publish(claims[0]!.verification_record.name, claims.map((c) => c.verification_record.value));
    const results = await Promise.all([a, b].map((o) => withDoh(`orgs/${o.orgId}/domains/${domain}/verify`, { method: "POST", token: o.owner.token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const verified = await env.DB.prepare("SELECT count(*) AS n FROM org_domains WHERE domain = ? AND verified_at IS NOT NULL").bind(domain).first("n");
    expect(verified).toBe(1);
  });

  it("a resolver that does not answer in time, or fails, → 503 and nothing verified; the verify route is rate-limited per organization", async () => {
    const { owner, orgId } = await ownerWithOrg();
    for (const domain of [uniqueDomain("slow-"), uniqueDomain("servfail-")]) {
      const claimed = await json<DomainOut>(await call(`orgs/${orgId}/domains`, { body: { domain }, token: owner.token }));
      await publish(claimed.verification_record.name, [claimed.verification_record.value]);
      const started = Date.now();
      await expectProblem(await withDoh(`orgs/${orgId}/domains/${domain}/verify`, { method: "POST", token: owner.token }, { DOH_TIMEOUT_MS: "300" }), 503, "service_unavailable");
      expect(Date.now() - started).toBeLessThan(5000);
    }
    // A DOH_URL that is not https (outside development) is never asked.
    const plain = await json<DomainOut>(await call(`orgs/${orgId}/domains`, { body: { domain: uniqueDomain() }, token: owner.token }));
    await publish(plain.verification_record.name, [plain.verification_record.value]);
    await expectProblem(
      await callWithConfig({ DOH_URL: dohUrl(), ENVIRONMENT: "production" }, `orgs/${orgId}/domains/${plain.domain}/verify`, { method: "POST", token: owner.token }),
      503,
      "service_unavailable",
    );
    expect((await json<{ items: DomainOut[] }>(await call(`orgs/${orgId}/domains`, { token: owner.token }))).items.every((d) => d.verified_at === null)).toBe(true);

    const { owner: o2, orgId: org2 } = await ownerWithOrg();
    const domain = uniqueDomain();
    await call(`orgs/${org2}/domains`, { body: { domain }, token: o2.token });
    const limited = { RATE_DOMAIN_VERIFY_PER_ORG: "2/3600" };
    for (let i = 0; i < 2; i++) await expectProblem(await withDoh(`orgs/${org2}/domains/${domain}/verify`, { method: "POST", token: o2.token }, limited), 409, "conflict");
    await expectProblem(await withDoh(`orgs/${org2}/domains/${domain}/verify`, { method: "POST", token: o2.token }, limited), 429, "rate_limited");
  });
});

describe("enforce_sso", () => {
  async function enforcingOrg(opts: { enforce?: boolean; enabled?: boolean } = {}) {
    const { owner, orgId } = await ownerWithOrg();
    const domain = await verifiedDomain(orgId, owner.token);
    const res = await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: opts.enforce ?? true, enabled: opts.enabled ?? true }), token: owner.token });
    expect(res.status).toBe(200);
    return { owner, orgId, domain };
  }

  it("a password sign-in of an address at an enforcing organization's verified domain → 403 sso_required with the SSO URL; a wrong password stays 401", async () => {
    const { domain } = await enforcingOrg();
    const staff = await accountAt(`${unique("staff")}@${domain}`);
    const refused = await problem(await passwordLogin(staff.email), 403, "sso_required");
    expect(refused.sso_url).toBe(`http://127.0.0.1:8787/console/sso?email=${encodeURIComponent(staff.email)}`);
    expect(refused.sso_start).toBe("/api/v1/auth/sso/start");
    expect(refused).not.toHaveProperty("access_token");
    // Without the password nothing tells the domain enforces SSO.
    await expectProblem(await passwordLogin(staff.email, "wrong-password-entirely-1"), 401, "invalid_credentials");
    // An unknown address at the domain: the same 401 as anywhere.
    await expectProblem(await passwordLogin(`${unique("nobody")}@${domain}`), 401, "invalid_credentials");
  });

  it("a user with 2FA on gets sso_required after the password, and no mfa_token", async () => {
    const { owner, orgId, domain } = await enforcingOrg({ enforce: false });
    const staff = await accountAt(`${unique("totp")}@${domain}`);
    const tokens = await json<{ access_token: string }>(await passwordLogin(staff.email));
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token: tokens.access_token }));
    const enable = await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token: tokens.access_token });
    expect(enable.status).toBe(200);
    expect((await json<Record<string, unknown>>(await passwordLogin(staff.email))).mfa_required).toBe(true);
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: true }), token: owner.token })).status).toBe(200);
    const refused = await problem(await passwordLogin(staff.email), 403, "sso_required");
    expect(refused).not.toHaveProperty("mfa_token");
  });

  it("superusers are exempt; other domains, enforce_sso off, SSO disabled and an unverified domain do not enforce", async () => {
    const { domain } = await enforcingOrg();
    const chief = await accountAt(`${unique("chief")}@${domain}`);
    await grantRole(chief.id, "superuser");
    expect((await passwordLogin(chief.email)).status).toBe(200);

    const off = await enforcingOrg({ enforce: false });
    expect((await passwordLogin((await accountAt(`${unique("s")}@${off.domain}`)).email)).status).toBe(200);
    const disabled = await enforcingOrg({ enabled: false });
    expect((await passwordLogin((await accountAt(`${unique("s")}@${disabled.domain}`)).email)).status).toBe(200);

    const { owner, orgId } = await ownerWithOrg();
    const unverified = uniqueDomain();
    await call(`orgs/${orgId}/domains`, { body: { domain: unverified }, token: owner.token });
    await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: true }), token: owner.token });
    expect((await passwordLogin((await accountAt(`${unique("s")}@${unverified}`)).email)).status).toBe(200);
  });

  it("removing the verified domain or turning enforcement off lets the password sign-in through again", async () => {
    const { owner, orgId, domain } = await enforcingOrg();
    const staff = await accountAt(`${unique("staff")}@${domain}`);
    await expectProblem(await passwordLogin(staff.email), 403, "sso_required");
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: false }), token: owner.token })).status).toBe(200);
    expect((await passwordLogin(staff.email)).status).toBe(200);
    expect((await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enforce_sso: true }), token: owner.token })).status).toBe(200);
    await expectProblem(await passwordLogin(staff.email), 403, "sso_required");
    expect((await call(`orgs/${orgId}/domains/${domain}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect((await passwordLogin(staff.email)).status).toBe(200);
  });
});

describe("the functions the SSO sign-in flow builds on", () => {
  it("ssoConnectionForEmailDomain: the enabled connection of the organization holding the domain verified, secret opened; null otherwise", async () => {
    const { owner, orgId } = await ownerWithOrg();
    const domain = await verifiedDomain(orgId, owner.token);
    const ctx = serviceContext(env);
    expect(await ssoConnectionForEmailDomain(ctx, domain)).toBeNull(); // no SSO configured yet
    await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ default_role: "viewer" }), token: owner.token });
    expect(await ssoConnectionForEmailDomain(ctx, domain.toUpperCase())).toEqual({
      orgId,
      issuer: "https://idp.example.com/realms/acme",
      clientId: "keel-acme",
      clientSecret: SECRET,
      enforceSso: false,
      defaultRole: "viewer",
      enabled: true,
    });
    await call(`orgs/${orgId}/sso`, { method: "PUT", body: config({ enabled: false }), token: owner.token });
    expect(await ssoConnectionForEmailDomain(ctx, domain)).toBeNull();
    const unverified = uniqueDomain();
    await call(`orgs/${orgId}/domains`, { body: { domain: unverified }, token: owner.token });
    await call(`orgs/${orgId}/sso`, { method: "PUT", body: config(), token: owner.token });
    expect(await ssoConnectionForEmailDomain(ctx, unverified)).toBeNull();
    expect(await ssoConnectionForEmailDomain(ctx, "not a domain")).toBeNull();
  });

  it("recordSsoSignIn feeds GET /orgs/{id}/sso `recent`: the newest 20, newest first", async () => {
    const { owner, orgId } = await ownerWithOrg();
    await call(`orgs/${orgId}/sso`, { method: "PUT", body: config(), token: owner.token });
    const start = Date.now();
    for (let i = 0; i < 23; i++) {
      await recordSsoSignIn(serviceContext(env, { now: new Date(start + i * 1000) }), orgId, { email: `p${i}@acme.test`, outcome: i === 22 ? "error:limit_reached" : "signed_in" });
    }
    const { recent } = await json<SsoOut>(await call(`orgs/${orgId}/sso`, { token: owner.token }));
    expect(recent).toHaveLength(20);
    expect(recent[0]).toEqual({ at: new Date(start + 22_000).toISOString(), email: "p22@acme.test", outcome: "error:limit_reached" });
    expect(recent.at(-1)!.email).toBe("p3@acme.test");
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM sso_sign_ins WHERE organization_id = ?").bind(orgId).first("n");
    expect(stored).toBe(20);
    // Another organization's list is its own.
    const other = await orgWithMembers([[owner.user.id, "owner"]]);
    await call(`orgs/${other}/sso`, { method: "PUT", body: config(), token: owner.token });
    expect((await json<SsoOut>(await call(`orgs/${other}/sso`, { token: owner.token }))).recent).toEqual([]);
  });
});
