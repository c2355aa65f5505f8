import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { auditRows } from "./helpers/admin";
import { addMember } from "./helpers/fixtures";
import { call, callWithConfig, enablingCode, expectProblem, json, mailbox, randomIp, signedInUser, STRONG_PASSWORD, tokenFromMail, unique, waitForMail, type CallOptions } from "./helpers/harness";
import { cookieHeader, cookiesOf, deliverCallback, exchange, issuers, providerLogin, RETURN_TO, type Returned } from "./helpers/oidc";
import { addPasskey, SoftAuthenticator } from "./helpers/webauthn";

// Issue 17, point 4: signing in through an organization's SSO (POST /auth/sso/start, the callback
// and POST /auth/oidc/exchange for an "sso" source), against the real oidc-provider the suite runs
// (any login name signs in; a name with "@" is the email; "unverified…" gets email_verified false)
// and the local DNS-over-HTTPS responder for the domain verification.

/** The test client registered at the providers (test/helpers/oidc-provider-server.ts; not imported: it is Node code). */
const OIDC_TEST_CLIENT = { client_id: "keel-test", client_secret: "keel-test-secret-keel-test-secret" };

type Signed = Awaited<ReturnType<typeof signedInUser>>;
interface SsoOut {
  default_role: string;
  recent: { at: string; email: string; outcome: string }[];
}

const dohUrl = () => `${inject("dohUrl")}/dns-query`;
const withDoh = (path: string, opts: CallOptions) => callWithConfig({ DOH_URL: dohUrl() }, path, opts);

async function publish(name: string, values: string[]) {
  const res = await fetch(`${inject("dohUrl")}/records`, { method: "POST", body: JSON.stringify({ name, values }) });
  expect(res.status).toBe(204);
}

/** Claims and verifies `domain` for `orgId` over the local DoH responder. */
async function verifiedDomain(orgId: string, token: string, domain = `${unique("corp")}.test`): Promise<string> {
  const claimed = await json<{ verification_record: { name: string; value: string } }>(await call(`orgs/${orgId}/domains`, { body: { domain }, token }));
  await publish(claimed.verification_record.name, [claimed.verification_record.value]);
  const res = await withDoh(`orgs/${orgId}/domains/${domain}/verify`, { method: "POST", token });
  expect(res.status, await res.clone().text()).toBe(200);
  return domain;
}

/** The seats of `orgId`: an active plan with `maxUsers`. */
const setSeats = (orgId: string, maxUsers: number) =>
  env.DB.prepare("UPDATE organizations SET subscription_status = 'active', subscription_ends_at = NULL, max_users = ? WHERE id = ?").bind(maxUsers, orgId).run();

const roleIn = async (orgId: string, userId: string) =>
  (await env.DB.prepare("SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?").bind(orgId, userId).first<{ role: string }>())?.role ?? null;

/** An organization with a verified domain and SSO at the suite's test provider. */
async function ssoOrg(opts: { enforce?: boolean; defaultRole?: string; seats?: number } = {}): Promise<{ owner: Signed; orgId: string; domain: string }> {
  const owner = await signedInUser();
  const created = await call("orgs", { body: { name: unique("SSO ") }, token: owner.token });
  expect(created.status).toBe(201);
  const orgId = (await json<{ id: string }>(created)).id;
  await setSeats(orgId, opts.seats ?? 10);
  const domain = await verifiedDomain(orgId, owner.token);
  const res = await call(`orgs/${orgId}/sso`, {
    method: "PUT",
    body: { issuer: issuers()[0], client_id: OIDC_TEST_CLIENT.client_id, client_secret: OIDC_TEST_CLIENT.client_secret, enforce_sso: opts.enforce ?? false, default_role: opts.defaultRole ?? "viewer", enabled: true },
    token: owner.token,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return { owner, orgId, domain };
}

const start = (email: string, ip = randomIp()) => call("auth/sso/start", { body: { email, return_to: RETURN_TO }, ip });

/** The browser part of an SSO sign-in: start for `email`, sign in at the provider as `loginName`, callback. */
async function ssoBrowser(email: string, loginName = email): Promise<Returned> {
  const ip = randomIp();
  const res = await start(email, ip);
  expect(res.status, await res.clone().text()).toBe(200);
  const { authorization_url } = await json<{ authorization_url: string }>(res);
  const url = new URL(authorization_url);
  expect(url.origin).toBe(new URL(issuers()[0]!).origin);
  expect(url.searchParams.get("login_hint")).toBe(email);
  expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  return deliverCallback(await providerLogin(authorization_url, loginName), { cookie: cookieHeader(cookiesOf(res)), ip });
}

/** The whole SSO sign-in through HTTP: the exchange's response. */
async function ssoSignIn(email: string, loginName = email): Promise<Response> {
  const returned = await ssoBrowser(email, loginName);
  expect(returned.searchParams.get("login_code"), returned.href).toBeTruthy();
  return exchange(returned);
}

type SignedIn = { access_token: string; user: { id: string; email: string; email_verified: boolean } };

const recent = async (orgId: string, token: string) => (await json<SsoOut>(await call(`orgs/${orgId}/sso`, { token }))).recent;

/** A verified password account at `email`. */
async function accountAt(email: string) {
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Staff" }, ip });
  expect(res.status).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  expect((await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(email, "verification")) }, ip })).status).toBe(200);
  return user.id;
}
/** An unverified password account at `email` (never verified: no mailbox proof). */
async function unverifiedAccountAt(email: string) {
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Staff" }, ip: randomIp() });
  expect(res.status).toBe(201);
  return (await json<{ user: { id: string } }>(res)).user.id;
}

const passwordLogin = (email: string) => call("auth/login", { body: { email, password: STRONG_PASSWORD }, ip: randomIp() });

describe("POST /auth/sso/start", () => {
  it("answers the provider's authorization URL (PKCE, state, nonce, login_hint) for an address at a verified domain with SSO", async () => {
    const { domain } = await ssoOrg();
    const res = await start(`jane@${domain}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const url = new URL((await json<{ authorization_url: string }>(res)).authorization_url);
    for (const p of ["state", "nonce", "code_challenge"]) expect(url.searchParams.get(p)).toBeTruthy();
    expect(url.searchParams.get("client_id")).toBe(OIDC_TEST_CLIENT.client_id);
    // The flow is bound to this browser by an HttpOnly cookie, like social sign-in.
    expect(res.headers.getSetCookie().join("\n")).toMatch(/__Secure-keel_oidc=.*HttpOnly/i);
  });

  it("an unknown domain, a verified domain without SSO, an unverified domain with SSO and disabled SSO all answer the same 404", async () => {
    const { owner, orgId, domain } = await ssoOrg();
    // A second organization: its domain verified, but no SSO.
    const other = await signedInUser();
    const otherOrg = (await json<{ id: string }>(await call("orgs", { body: { name: unique("NoSSO ") }, token: other.token }))).id;
    const noSso = await verifiedDomain(otherOrg, other.token);
    // A claimed, never verified domain of the SSO organization.
    const unverified = `${unique("pending")}.test`;
    expect((await call(`orgs/${orgId}/domains`, { body: { domain: unverified }, token: owner.token })).status).toBe(201);
    const bodies: unknown[] = [];
    for (const email of [`a@${unique("nowhere")}.test`, `a@${noSso}`, `a@${unverified}`]) {
      const res = await start(email);
      const body = (await expectProblem(res, 404, "not_found")) as unknown as Record<string, unknown>;
      const { request_id: _r, instance: _i, ...rest } = body;
      bodies.push(rest);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    // SSO switched off: the same.
    const off = await call(`orgs/${orgId}/sso`, {
      method: "PUT",
      body: { issuer: issuers()[0], client_id: OIDC_TEST_CLIENT.client_id, enforce_sso: false, default_role: "viewer", enabled: false },
      token: owner.token,
    });
    expect(off.status).toBe(200);
    const { request_id: _r, instance: _i, ...disabled } = (await expectProblem(await start(`a@${domain}`), 404, "not_found")) as unknown as Record<string, unknown>;
    bodies.push(disabled);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it("validates the email and return_to (422) and is rate-limited per IP (429)", async () => {
    const { domain } = await ssoOrg();
    await expectProblem(await call("auth/sso/start", { body: { email: "not-an-email" }, ip: randomIp() }), 422, "validation_failed");
    await expectProblem(await call("auth/sso/start", { body: { email: `a@${domain}`, return_to: "https://evil.example/" }, ip: randomIp() }), 422, "validation_failed");
    const ip = randomIp();
    const limited = { RATE_OIDC_PER_IP: "2/600" };
    for (let i = 0; i < 2; i++) expect((await callWithConfig(limited, "auth/sso/start", { body: { email: `a@${unique("x")}.test` }, ip })).status).toBe(404);
    await expectProblem(await callWithConfig(limited, "auth/sso/start", { body: { email: `a@${domain}` }, ip }), 429, "rate_limited");
  });
});

describe("signing in through the organization's SSO", () => {
  it("the full flow over HTTP: a new address gets a passwordless verified account, joins with the default role, and the admins see it", async () => {
    const { owner, orgId, domain } = await ssoOrg({ defaultRole: "viewer" });
    const email = `${unique("jane")}@${domain}`;
    const res = await ssoSignIn(email);
    expect(res.status, await res.clone().text()).toBe(200);
    const first = await json<SignedIn>(res);
    expect(first.user).toMatchObject({ email, email_verified: true });
    expect(await roleIn(orgId, first.user.id)).toBe("viewer");
    expect((await call(`orgs/${orgId}`, { token: first.access_token })).status).toBe(200);
    const identities = await json<{ items: { provider: string; issuer: string }[] }>(await call("me/identities", { token: first.access_token }));
    expect(identities.items).toEqual([expect.objectContaining({ provider: `sso:${orgId}`, issuer: issuers()[0] })]);
    // Passwordless: a password sign-in fails as for any wrong password.
    await expectProblem(await passwordLogin(email), 401, "invalid_credentials");

    // Again: the identity signs in to the same user; no second membership.
    const again = await json<SignedIn>(await ssoSignIn(email));
    expect(again.user.id).toBe(first.user.id);
    expect(await recent(orgId, owner.token)).toEqual([
      expect.objectContaining({ email, outcome: "signed_in" }),
      expect.objectContaining({ email, outcome: "joined" }),
    ]);
    expect(await auditRows(first.user.id, "org.member_joined_sso")).toHaveLength(1);
    expect(await auditRows(first.user.id, "auth.oidc_sign_in")).toHaveLength(2);
  });

  it("an address outside the organization's verified domains, signed in by its provider, is refused (403) and recorded", async () => {
    const { owner, orgId, domain } = await ssoOrg();
    const res = await ssoSignIn(`boss@${domain}`, `${unique("intruder")}@elsewhere.test`);
    await expectProblem(res, 403, "forbidden");
    expect((await recent(orgId, owner.token))[0]).toMatchObject({ outcome: "error:forbidden" });
  });

  it("just-in-time membership over the seat limit → 409 limit_reached, no account, the owner and admins emailed once per hour", async () => {
    const { owner, orgId, domain } = await ssoOrg({ seats: 2 });
    const admin = await signedInUser();
    await addMember(orgId, admin.user.id, "admin");
    const email = `${unique("late")}@${domain}`;
    const res = await ssoSignIn(email);
    const body = (await expectProblem(res, 409, "limit_reached")) as unknown as Record<string, unknown>;
    expect(body).toMatchObject({ limit: 2, members: 2 });
    expect(await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first()).toBeNull();
    const toOwner = await waitForMail(owner.user.email, "sso_seat_limit");
    expect(toOwner.text).toContain(email);
    await waitForMail(admin.user.email, "sso_seat_limit");
    // A second refused attempt within the hour: recorded, not mailed again.
    await expectProblem(await ssoSignIn(`${unique("later")}@${domain}`), 409, "limit_reached");
    await new Promise((r) => setTimeout(r, 300));
    expect((await mailbox(owner.user.email)).filter((m) => m.template === "sso_seat_limit")).toHaveLength(1);
    expect((await mailbox(admin.user.email)).filter((m) => m.template === "sso_seat_limit")).toHaveLength(1);
    expect((await recent(orgId, owner.token)).map((r) => r.outcome)).toEqual(["limit_reached", "limit_reached"]);
  });

  it("an existing account that is no member joins within the limit; over it, the guarded INSERT refuses (409) and it stays out", async () => {
    const { orgId, domain } = await ssoOrg({ seats: 2, defaultRole: "member" });
    const firstEmail = `${unique("a")}@${domain}`;
    const a = await json<SignedIn>(await ssoSignIn(firstEmail));
    expect(await roleIn(orgId, a.user.id)).toBe("member");
    // Full now (owner + a): an existing verified account at the domain is linked but cannot join.
    const email = `${unique("b")}@${domain}`;
    const b = await accountAt(email);
    await expectProblem(await ssoSignIn(email), 409, "limit_reached");
    expect(await roleIn(orgId, b)).toBeNull();
  });

  it("an existing verified account at the organization's verified domain is linked automatically (and told by email); not when the provider's email_verified is false", async () => {
    const { owner, orgId, domain } = await ssoOrg({ defaultRole: "member" });
    const email = `${unique("staff")}@${domain}`;
    const userId = await accountAt(email);
    const res = await ssoSignIn(email);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json<SignedIn>(res)).user.id).toBe(userId);
    expect((await waitForMail(email, "identity_linked")).text).toContain("single sign-on");
    expect(await roleIn(orgId, userId)).toBe("member");
    expect((await auditRows(userId, "auth.identity_linked")).map((r) => JSON.parse(String(r.details)).via)).toEqual(["sso_verified_domain"]);

    // "unverified…" logins get email_verified: false from the provider.
    const unverifiedEmail = `${unique("unverified-bob")}@${domain}`;
    const bob = await unverifiedAccountAt(unverifiedEmail);
    await expectProblem(await ssoSignIn(unverifiedEmail), 409, "account_exists");
    expect((await env.DB.prepare("SELECT count(*) AS n FROM user_identities WHERE user_id = ?").bind(bob).first<{ n: number }>())?.n).toBe(0);
    expect(await roleIn(orgId, bob)).toBeNull();
    expect((await recent(orgId, owner.token))[0]).toMatchObject({ email: unverifiedEmail, outcome: "error:account_exists" });
  });

  it("a new address the provider did not verify creates nothing: 403 email_not_verified, no account, no membership, no session", async () => {
    const { owner, orgId, domain } = await ssoOrg();
    const email = `${unique("unverified-carol")}@${domain}`;
    await expectProblem(await ssoSignIn(email), 403, "email_not_verified");
    const user = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first<{ id: string }>();
    expect(user).toBeNull();
    expect((await recent(orgId, owner.token))[0]).toMatchObject({ email, outcome: "error:email_not_verified" });
  });

  it("enforce_sso refuses the password sign-in but lets the SSO sign-in through; a passkey registered after it still works", async () => {
    const { domain } = await ssoOrg({ enforce: true });
    const email = `${unique("enf")}@${domain}`;
    const userId = await accountAt(email);
    await expectProblem(await passwordLogin(email), 403, "sso_required");
    const res = await ssoSignIn(email);
    expect(res.status, await res.clone().text()).toBe(200);
    const signed = await json<SignedIn>(res);
    expect(signed.user.id).toBe(userId);

    const authenticator = new SoftAuthenticator();
    await addPasskey(signed.access_token, authenticator);
    const options = await json<{ challenge_id: string; challenge: string; rpId?: string }>(await call("auth/passkeys/login/options", { body: {}, ip: randomIp() }));
    const viaPasskey = await call("auth/passkeys/login/verify", { body: { challenge_id: options.challenge_id, response: await authenticator.get(options) }, ip: randomIp() });
    expect(viaPasskey.status, await viaPasskey.clone().text()).toBe(200);
    expect((await json<SignedIn>(viaPasskey)).user.id).toBe(userId);
    // The password still does not; the (now linked) SSO identity signs in again.
    await expectProblem(await passwordLogin(email), 403, "sso_required");
    const again = await ssoSignIn(email);
    expect(again.status, await again.clone().text()).toBe(200);
  });

  it("a user with TOTP on gets mfa_required after the SSO sign-in (an organization's amr is not trusted)", async () => {
    const { domain } = await ssoOrg();
    const email = `mfa-${unique("t")}@${domain}`;
    const userId = await accountAt(email);
    const { access_token: token } = await json<{ access_token: string }>(await passwordLogin(email));
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token })).status).toBe(200);
    const res = await ssoSignIn(email);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<Record<string, unknown>>(res);
    expect((body.user as { id: string } | undefined)?.id ?? userId).toBe(userId);
    expect(body.mfa_required).toBe(true);
    expect(body).not.toHaveProperty("access_token");
  });
});
