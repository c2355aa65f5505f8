import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json, login, mailbox, randomIp, unique } from "./helpers/harness";

const auditActions = async (userId: string) =>
  (await env.DB.prepare("SELECT action, ip_address, user_agent FROM audit_log WHERE user_id = ? ORDER BY id").bind(userId).all<{ action: string; ip_address: string; user_agent: string }>()).results;

describe("POST /auth/login", () => {
  it("answers Tokens: an EdDSA access token verifiable with the JWKS, carrying only ids", async () => {
    const user = await createUser();
    const tokens = await login(user, { device_name: "Ada's laptop" });
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 900, password_expired: false, user: { id: user.id, email: user.email } });
    expect(tokens.user.last_login_at).not.toBeNull();
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ alg: "EdDSA", kid: "test-key", typ: "at+jwt" });
    const jwks = await (await call("/.well-known/jwks.json")).json();
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks as never), { issuer: "keel", audience: "keel" });
    expect(payload.sub).toBe(user.id);
    expect(payload.sid).toBe(tokens.session_id);
    expect(Object.keys(decodeJwt(tokens.access_token)).sort()).toEqual(["aud", "exp", "iat", "iss", "sid", "sub"]);
    expect(payload.exp! - payload.iat!).toBe(900);

    const me = await call("me", { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect((await json<{ id: string }>(me)).id).toBe(user.id);

    const events = await auditActions(user.id);
    const success = events.find((e) => e.action === "auth.login_succeeded");
    expect(success).toMatchObject({ ip_address: user.ip, user_agent: "keel-tests/1.0" });
  });

  it("reports where login time goes in Server-Timing (development only): the hash and the whole request", async () => {
    const user = await createUser();
    const res = await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    const timing = res.headers.get("server-timing") ?? "";
    const dur = (name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1]);
    expect(dur("hash")).toBeGreaterThan(0);
    expect(dur("app")).toBeGreaterThanOrEqual(dur("hash"));
  });

  it("unknown email and wrong password give the same 401 body", async () => {
    const user = await createUser();
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined, instance: undefined });
    const wrong = await expectProblem(await call("auth/login", { body: { email: user.email, password: "not-the-password-at-all" }, ip: randomIp() }), 401, "invalid_credentials");
    const unknown = await expectProblem(await call("auth/login", { body: { email: `${unique("nobody")}@example.com`, password: "not-the-password-at-all" }, ip: randomIp() }), 401, "invalid_credentials");
    expect(strip(wrong)).toEqual(strip(unknown));
  });

  it("locks the account after 5 consecutive failures (423 with the unlock time), even for the right password", async () => {
    const user = await createUser();
    const before = Date.now();
    for (let i = 0; i < 5; i++) {
      await expectProblem(await call("auth/login", { body: { email: user.email, password: `wrong-password-${i}` }, ip: randomIp() }), 401, "invalid_credentials");
    }
    const locked = await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(29 * 60);
    expect(retryAfter).toBeLessThanOrEqual(30 * 60);
    const body = await expectProblem(locked, 423, "account_locked");
    const until = Date.parse((body as unknown as { locked_until: string }).locked_until);
    expect(until).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1000);
    expect((await auditActions(user.id)).map((e) => e.action).filter((a) => a === "auth.account_locked")).toHaveLength(1);

    // When the lock expires, the right password works and the counter resets.
    await env.DB.prepare("UPDATE users SET locked_until = ? WHERE id = ?").bind(Date.now() - 1, user.id).run();
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    const row = await env.DB.prepare("SELECT failed_login_attempts, locked_until FROM users WHERE id = ?").bind(user.id).first();
    expect(row).toEqual({ failed_login_attempts: 0, locked_until: null });
  });

  it("a success resets the failure count: failures must be consecutive to lock", async () => {
    const user = await createUser();
    const fail = () => call("auth/login", { body: { email: user.email, password: "nope-nope-nope-nope" }, ip: randomIp() });
    for (let i = 0; i < 4; i++) expect((await fail()).status).toBe(401);
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await fail()).status).toBe(401);
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
  });

  it("rate-limits per email at exactly the limit (10 per 15 min), before hashing", async () => {
    const email = `${unique("ratelimit")}@example.com`;
    for (let i = 1; i <= 10; i++) {
      const res = await call("auth/login", { body: { email, password: "whatever-it-is" }, ip: randomIp() });
      expect(res.status, `attempt ${i}`).toBe(401);
    }
    const limited = await call("auth/login", { body: { email, password: "whatever-it-is" }, ip: randomIp() });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(limited, 429, "rate_limited");
  });

  it("refuses inactive and suspended accounts with 403 account_inactive (only after the password is proven)", async () => {
    const user = await createUser();
    await env.DB.prepare("UPDATE users SET status = 'suspended' WHERE id = ?").bind(user.id).run();
    await expectProblem(await call("auth/login", { body: { email: user.email, password: "wrong-password-here" }, ip: randomIp() }), 401, "invalid_credentials");
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }), 403, "account_inactive");
  });

  it("emails 'new sign-in' for a device not seen before, but not for the first or a known device", async () => {
    const user = await createUser();
    const count = async () => (await mailbox(user.email)).filter((m) => m.template === "new_sign_in").length;
    await login(user, { headers: { "User-Agent": "Firefox/130 (Linux)" } });
    await login(user, { headers: { "User-Agent": "Firefox/130 (Linux)" } });
    expect(await count()).toBe(0);
    await login(user, { headers: { "User-Agent": "Safari/18 (iPhone)" }, device_name: "Ada's phone" });
    for (let i = 0; i < 40 && (await count()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBe(1);
    const mail = (await mailbox(user.email)).find((m) => m.template === "new_sign_in")!;
    expect(mail.text).toContain("Ada's phone");
    await login(user, { headers: { "User-Agent": "Safari/18 (iPhone)" } });
    expect(await count()).toBe(1);
  });
});
