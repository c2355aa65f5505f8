import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callWithConfig, codeAt, enablingCode, expectProblem, json, login, movableClock, randomIp, signedInUser, STRONG_PASSWORD, unique, waitForMail, tokenFromMail } from "./helpers/harness";
import { browserSignIn, deliverCallback, exchange, issuers, linkIdentity, oidcSignIn, providerLogin, RETURN_TO, startSignIn } from "./helpers/oidc";
import { MINUTE, SECOND } from "../src/platform/time";

interface Identity {
  id: string;
  provider: string;
  issuer: string;
  subject: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

const identities = async (token: string) => {
  const res = await call("me/identities", { token });
  expect(res.status).toBe(200);
  return (await json<{ items: Identity[] }>(res)).items;
};

/** The reason keel recorded for the newest refused callback (audit `auth.oidc_failed`). */
const lastFailure = async () =>
  (await env.DB.prepare("SELECT details FROM audit_log WHERE action = 'auth.oidc_failed' ORDER BY rowid DESC LIMIT 1").first<{ details: string }>())?.details ?? "";

/** A password account whose email is `email` (verified). */
async function accountWithEmail(email: string) {
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Existing Person" }, ip });
  expect(res.status).toBe(201);
  const verified = await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(email, "verification")) }, ip });
  expect(verified.status).toBe(200);
  const user = { id: (await json<{ user: { id: string } }>(res)).user.id, email, password: STRONG_PASSWORD, fullName: "Existing Person", ip };
  return { user, token: (await login(user)).access_token };
}

describe("social providers", () => {
  it("GET /auth/providers lists the configured providers, without their secrets", async () => {
    const res = await call("auth/providers");
    expect(res.status).toBe(200);
    const body = await json<{ items: Record<string, unknown>[] }>(res);
    expect(body.items).toEqual([
      { id: "test", name: "Test IdP", kind: "social" },
      { id: "other", name: "Other IdP", kind: "social" },
    ]);
  });

  it("start redirects to the provider with PKCE S256, state and nonce; return_to must be on an allowed origin", async () => {
    const { location } = await startSignIn();
    expect(location.origin).toBe(issuers()[0]);
    const p = location.searchParams;
    expect(p.get("response_type")).toBe("code");
    expect(p.get("client_id")).toBe("keel-test");
    expect(p.get("code_challenge_method")).toBe("S256");
    expect(p.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get("state")!.length).toBeGreaterThanOrEqual(32);
    expect(p.get("nonce")!.length).toBeGreaterThanOrEqual(32);
    expect(p.get("scope")!.split(" ")).toEqual(expect.arrayContaining(["openid", "email"]));
    expect(p.get("redirect_uri")).toBe("http://127.0.0.1:8787/api/v1/auth/oidc/callback");

    await expectProblem(await call(`auth/oidc/test/start?return_to=${encodeURIComponent("https://evil.example/console/")}`), 422, "validation_failed");
    await expectProblem(await call(`auth/oidc/nope/start?return_to=${encodeURIComponent(RETURN_TO)}`), 404, "not_found");
  });

  it("start, callback and exchange are limited per IP (429 before any provider round trip)", async () => {
    const ip = randomIp();
    const path = `auth/oidc/test/start?return_to=${encodeURIComponent(RETURN_TO)}`;
    expect((await callWithConfig({ RATE_OIDC_PER_IP: "1/600" }, path, { ip })).status).toBe(302);
    await expectProblem(await callWithConfig({ RATE_OIDC_PER_IP: "1/600" }, path, { ip }), 429, "rate_limited");
    await expectProblem(await callWithConfig({ RATE_OIDC_PER_IP: "1/600" }, "auth/oidc/exchange", { ip, body: { login_code: "x".repeat(43) } }), 429, "rate_limited");
  });

  it("the full flow: a new verified email creates a passwordless account; the same identity signs in to it again", async () => {
    const name = unique("alice");
    const first = await oidcSignIn(name);
    expect(first.user.email).toBe(`${name}@idp.example`);
    expect(first.user.email_verified).toBe(true);
    const me = await call("me", { token: first.access_token });
    expect(me.status).toBe(200);
    const [identity] = await identities(first.access_token);
    expect(identity).toMatchObject({ provider: "test", issuer: issuers()[0], subject: name, email: `${name}@idp.example` });
    // No password: a password sign-in fails like a wrong one.
    await expectProblem(await call("auth/login", { body: { email: first.user.email, password: "" + STRONG_PASSWORD }, ip: randomIp() }), 401, "invalid_credentials");

    const again = await oidcSignIn(name);
    expect(again.user.id).toBe(first.user.id);
    const audit = await env.DB.prepare("SELECT action, details FROM audit_log WHERE user_id = ? ORDER BY created_at").bind(first.user.id).all<{ action: string; details: string }>();
    const actions = audit.results.map((r) => r.action);
    expect(actions).toContain("auth.identity_linked");
    expect(audit.results.filter((r) => r.action === "auth.login_succeeded" && r.details.includes('"oidc"'))).toHaveLength(2);
  });

  it("a callback with a state keel did not issue (or without the browser's cookie) ends with error=, no login_code", async () => {
    const started = await startSignIn();
    const callbackUrl = await providerLogin(started.location.href, unique("alice"));
    const forged = new URL(callbackUrl);
    forged.searchParams.set("state", "x".repeat(43));
    const target = await deliverCallback(forged, started);
    expect(target.searchParams.get("error")).toBe("invalid_state");
    expect(target.searchParams.get("login_code")).toBeNull();
    // The real state from another browser (no binding cookie) is refused too…
    const stolen = await deliverCallback(callbackUrl, { cookie: "", ip: started.ip });
    expect(stolen.searchParams.get("error")).toBe("invalid_state");
    expect(stolen.searchParams.get("login_code")).toBeNull();
  });

  it("the state is single-use and lives 10 minutes", async () => {
    const started = await startSignIn();
    const callbackUrl = await providerLogin(started.location.href, unique("alice"));
    const ok = await deliverCallback(callbackUrl, started);
    expect(ok.searchParams.get("login_code")).toBeTruthy();
    expect(ok.origin + ok.pathname).toBe(RETURN_TO);
    const replay = await deliverCallback(callbackUrl, started);
    expect(replay.searchParams.get("error")).toBe("invalid_state");

    const clock = movableClock();
    const late = await startSignIn("test", { clock });
    const lateCallback = await providerLogin(late.location.href, unique("alice"));
    clock.advance(10 * MINUTE + SECOND);
    expect((await deliverCallback(lateCallback, late, { clock })).searchParams.get("error")).toBe("invalid_state");
  });

  it("a login_code works once and for 60 seconds: replayed or expired → 400 validation_failed", async () => {
    const target = await browserSignIn(unique("alice"));
    expect((await exchange(target)).status).toBe(200);
    const replay = await exchange(target);
    expect(replay.status).toBe(400);
    await expectProblem(replay, 400, "validation_failed");

    const clock = movableClock();
    const late = await browserSignIn(unique("alice"));
    clock.advance(61 * SECOND);
    await expectProblem(await exchange(late, { clock }), 400, "validation_failed");
  });

  it("a login_code works only in the browser the sign-in came back to (no login CSRF with someone else's code)", async () => {
    const target = await browserSignIn(unique("mallory"));
    // The attacker's code, sent to a victim's browser: it has no cookie of this flow.
    await expectProblem(await exchange(target, { cookie: "" }), 400, "validation_failed");
    await expectProblem(await exchange(target, { cookie: "__Secure-keel_oidc_exchange=" + "a".repeat(43) }), 400, "validation_failed");
    // Those tries did not spend it: the browser it came back to signs in.
    expect((await exchange(target)).status).toBe(200);
  });

  it("an ID token whose nonce is not the one keel sent is refused", async () => {
    const started = await startSignIn();
    const tampered = new URL(started.location);
    tampered.searchParams.set("nonce", "n".repeat(43));
    const target = await deliverCallback(await providerLogin(tampered.href, unique("alice")), started);
    expect(target.searchParams.get("error")).toBe("invalid_response");
    expect(target.searchParams.get("login_code")).toBeNull();
    expect(await lastFailure()).toMatch(/nonce/);
  });

  it("an answer from another issuer (a second provider instance, mix-up) is refused", async () => {
    const started = await startSignIn("test");
    const mixedUp = new URL(started.location.pathname + started.location.search, issuers()[1]);
    const callbackUrl = await providerLogin(mixedUp.href, unique("alice"));
    expect(callbackUrl.searchParams.get("iss")).toBe(issuers()[1]);
    const target = await deliverCallback(callbackUrl, started);
    expect(target.searchParams.get("error")).toBe("invalid_response");
    expect(target.searchParams.get("login_code")).toBeNull();
    expect(await lastFailure()).toMatch(/iss/);
    // …also with the RFC 9207 `iss` parameter stripped: the code is not one of the expected issuer's.
    const again = await startSignIn("test");
    const stripped = await providerLogin(new URL(again.location.pathname + again.location.search, issuers()[1]).href, unique("alice"));
    stripped.searchParams.delete("iss");
    expect((await deliverCallback(stripped, again)).searchParams.get("error")).toBe("invalid_response");
    expect(await lastFailure()).toMatch(/iss\W{0,4} \(issuer\) missing/);
  });

  it("an expired ID token is refused", async () => {
    const clock = movableClock();
    const started = await startSignIn("test", { clock });
    const callbackUrl = await providerLogin(started.location.href, unique("alice"));
    // The provider's ID tokens live 60 s; keel's clock is now 5 minutes on (the state lives 10).
    clock.advance(5 * MINUTE);
    const target = await deliverCallback(callbackUrl, started, { clock });
    expect(target.searchParams.get("error")).toBe("invalid_response");
    expect(await lastFailure()).toMatch(/exp/);
  });
});

describe("account linking", () => {
  it("a first sign-in with the verified email of an existing account: 409 account_exists, nothing linked", async () => {
    const email = `${unique("verified")}@example.com`;
    const existing = await accountWithEmail(email);
    // The provider's login name is the email; a name starting with "unverified" has email_verified false.
    const target = await browserSignIn(email);
    await expectProblem(await exchange(target), 409, "account_exists");
    expect(await identities(existing.token)).toEqual([]);
  });

  it("an unverified provider email claims nothing: the same 403 email_not_verified whether or not an account holds the address, nothing written", async () => {
    const taken = `${unique("unverified")}@example.com`;
    const existing = await accountWithEmail(taken);
    const free = `${unique("unverified")}@example.com`;
    const answers = [];
    for (const email of [taken, free]) {
      const res = await exchange(await browserSignIn(email));
      answers.push(await expectProblem(res, 403, "email_not_verified"));
    }
    expect(answers[0]!.detail).toBe(answers[1]!.detail);
    expect(await identities(existing.token)).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = ?").bind(free).first<{ n: number }>()).toEqual({ n: 0 });
  });

  it("linking from My account: the identity then signs in to that user and no other; a notice email is sent", async () => {
    const { user, token } = await signedInUser();
    const name = unique("carol");
    const after = Date.now();
    const target = await linkIdentity(token, name);
    expect(target.searchParams.get("linked")).toBe("test");
    const [identity] = await identities(token);
    expect(identity).toMatchObject({ provider: "test", subject: name });
    await waitForMail(user.email, "identity_linked", { after: after - 1000 });
    const signedIn = await oidcSignIn(name);
    expect(signedIn.user.id).toBe(user.id);

    // The same identity cannot be linked to a second user.
    const other = await signedInUser();
    const refused = await linkIdentity(other.token, name);
    expect(refused.searchParams.get("error")).toBe("identity_in_use");
    expect(await identities(other.token)).toEqual([]);
  });

  it("GET /me/identities/{provider}/link answers 302 to the provider for a bearer caller; unauthenticated → 401", async () => {
    const { token } = await signedInUser();
    const res = await call(`me/identities/test/link?return_to=${encodeURIComponent(RETURN_TO)}`, { token, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!).origin).toBe(issuers()[0]);
    await expectProblem(await call(`me/identities/test/link?return_to=${encodeURIComponent(RETURN_TO)}`), 401, "unauthenticated");
  });

  it("unlinking: the last way to sign in is refused (409); with a password it is removed; another user's identity is 404", async () => {
    const social = await oidcSignIn();
    const [only] = await identities(social.access_token);
    await expectProblem(await call(`me/identities/${only!.id}`, { method: "DELETE", token: social.access_token }), 409, "conflict");

    const { token } = await signedInUser();
    await linkIdentity(token, unique("dave"));
    const [linked] = await identities(token);
    await expectProblem(await call(`me/identities/${linked!.id}`, { method: "DELETE", token: social.access_token }), 404, "not_found");
    expect((await call(`me/identities/${linked!.id}`, { method: "DELETE", token })).status).toBe(204);
    expect(await identities(token)).toEqual([]);
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.identity_unlinked' AND details LIKE ?").bind(`%${linked!.id}%`).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("two concurrent unlinks of a passwordless user's last two identities: one succeeds, the other is refused", async () => {
    const social = await oidcSignIn();
    await linkIdentity(social.access_token, unique("second"));
    const both = await identities(social.access_token);
    expect(both).toHaveLength(2);
    const answers = await Promise.all(both.map((i) => call(`me/identities/${i.id}`, { method: "DELETE", token: social.access_token })));
    expect(answers.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(await identities(social.access_token)).toHaveLength(1);
  });

  it("a provider trusted for MFA (trust_amr) that asserts it stands in for TOTP; without amr MFA, or untrusted, it does not", async () => {
    const { user, token } = await signedInUser();
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token })).status).toBe(200);
    const withMfa = unique("mfa");
    const withoutMfa = unique("pwdonly");
    await linkIdentity(token, withMfa, "other");
    await linkIdentity(token, withoutMfa, "other");
    const trusted = await exchange(await browserSignIn(withMfa, "other"));
    expect(trusted.status).toBe(200);
    const body = await json<{ access_token?: string; mfa_required?: boolean; user: { id: string } }>(trusted);
    expect(body.mfa_required).toBeUndefined();
    expect(body.user.id).toBe(user.id);
    const noMfa = await json<{ mfa_required?: boolean }>(await exchange(await browserSignIn(withoutMfa, "other")));
    expect(noMfa.mfa_required).toBe(true);
    // The same provider MFA at a provider that is not trusted for it ("test"): still the second step.
    await linkIdentity(token, withMfa, "test");
    const untrusted = await json<{ mfa_required?: boolean }>(await exchange(await browserSignIn(withMfa, "test")));
    expect(untrusted.mfa_required).toBe(true);
  });

  it("a user with TOTP still gets mfa_required after an untrusted provider's sign-in", async () => {
    const { user, token } = await signedInUser();
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    const enabled = await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token });
    expect(enabled.status).toBe(200);
    const name = unique("erin");
    await linkIdentity(token, name);
    const target = await browserSignIn(name);
    const res = await exchange(target);
    expect(res.status).toBe(200);
    const body = await json<{ mfa_required?: boolean; mfa_token?: string; access_token?: string }>(res);
    expect(body).toMatchObject({ mfa_required: true });
    expect(body.access_token).toBeUndefined();
    const verified = await call("auth/mfa/verify", { body: { mfa_token: body.mfa_token, code: await codeAt(setup.secret, Math.floor(Date.now() / 1000)) }, ip: randomIp() });
    expect(verified.status).toBe(200);
    expect((await json<{ user: { id: string } }>(verified)).user.id).toBe(user.id);
  });
});
