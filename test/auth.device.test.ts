import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loginGuardKey } from "../src/features/auth/login.service";
import { ipLimitKey } from "../src/platform/client-ip";
import { call, callWithConfig, codeAt, enablingCode, createUser, expectProblem, json, randomIp, signedInUser, type TestUser } from "./helpers/harness";

// Issue 14, point 12: a targeted lockout cannot keep a user out (OWASP device cookies).

const DEVICE_COOKIE = "__Secure-keel_device";

const attempt = (user: TestUser, extra: Record<string, unknown> = {}, opts: { password?: string; ip?: string; headers?: Record<string, string> } = {}) =>
  call("auth/login", { body: { email: user.email, password: opts.password ?? user.password, ...extra }, ip: opts.ip ?? randomIp(), headers: opts.headers });

/** Signs in and returns the device token the success handed out. */
async function deviceTokenOf(user: TestUser): Promise<string> {
  const res = await attempt(user, { device_name: "Ada's laptop" }, { ip: user.ip });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await json<{ device_token?: string }>(res);
  expect(typeof body.device_token).toBe("string");
  expect(body.device_token!.length).toBeGreaterThan(40);
  return body.device_token!;
}

/** An attacker without a device token locks the email: 5 wrong passwords, then even the right one gets 423. */
async function lockEmail(user: TestUser) {
  for (let i = 0; i < 5; i++) await expectProblem(await attempt(user, {}, { password: `attacker-guess-${i}` }), 401, "invalid_credentials");
  await expectProblem(await attempt(user), 423, "account_locked");
}

describe("device tokens: a known device keeps its own failure count", () => {
  it("the attacker's lock and spent per-email budget answer 423/429 for unknown devices, but the victim's known device still signs in", async () => {
    const user = await createUser();
    const deviceToken = await deviceTokenOf(user);
    await lockEmail(user);
    // Past the per-email rate (10 per 15 min) too: the email now answers 429.
    for (let i = 0; i < 5; i++) await attempt(user, {}, { password: `attacker-more-${i}` });
    await expectProblem(await attempt(user), 429, "rate_limited");

    const res = await attempt(user, { device_token: deviceToken });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<{ access_token: string; device_token: string }>(res);
    expect(typeof body.access_token).toBe("string");
    expect(typeof body.device_token).toBe("string");
    // The device's success does not lift the lock for everybody else.
    const guard = env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(loginGuardKey(user.email)));
    await new Promise((r) => setTimeout(r, 50)); // the guard's reset (if any) follows the response
    const lockedUntil = await runInDurableObject(guard, (instance) => (instance as unknown as { state: GuardState }).state.lockedUntil);
    expect(lockedUntil).toBeGreaterThan(Date.now());
  });

  it("a device token of another user, or a tampered one, does not help", async () => {
    const other = await createUser();
    const foreignToken = await deviceTokenOf(other);
    const victim = await createUser();
    const ownToken = await deviceTokenOf(victim);
    await lockEmail(victim);
    await expectProblem(await attempt(victim, { device_token: foreignToken }), 423, "account_locked");
    const tampered = ownToken.slice(0, -4) + (ownToken.endsWith("aaaa") ? "bbbb" : "aaaa");
    await expectProblem(await attempt(victim, { device_token: tampered }), 423, "account_locked");
    await expectProblem(await attempt(victim, { device_token: "not-a-device-token" }), 423, "account_locked");
    expect((await attempt(victim, { device_token: ownToken })).status).toBe(200);
  });

  it("a device's own failures lock that device (and only it): 401 ×5, then 423 even for the right password", async () => {
    const user = await createUser();
    const deviceToken = await deviceTokenOf(user);
    for (let i = 0; i < 5; i++) await expectProblem(await attempt(user, { device_token: deviceToken }, { password: `wrong-on-device-${i}` }), 401, "invalid_credentials");
    const locked = await attempt(user, { device_token: deviceToken });
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(29 * 60);
    await expectProblem(locked, 423, "account_locked");
    // The email's own count was not touched by the device's failures.
    expect((await attempt(user)).status).toBe(200);
  });

  it("the console keeps the device token in an HttpOnly cookie for the login path and sends it back automatically", async () => {
    const user = await createUser();
    const res = await attempt(user, { refresh_token_delivery: "cookie" }, { ip: user.ip });
    expect(res.status).toBe(200);
    expect((await json<Record<string, unknown>>(res)).device_token).toBeUndefined();
    const header = res.headers.get("set-cookie") ?? "";
    const match = new RegExp(`${DEVICE_COOKIE}=([^;]+)((?:;[^;,]*)*)`).exec(header);
    expect(match, header).not.toBeNull();
    const attributes = match![2]!;
    expect(attributes).toContain("Path=/api/v1/auth/login");
    expect(attributes).toContain("HttpOnly");
    expect(attributes).toContain("Secure");
    expect(attributes).toContain("SameSite=Strict");
    expect(Number(/Max-Age=(\d+)/.exec(attributes)?.[1])).toBeGreaterThanOrEqual(180 * 86_400);

    await lockEmail(user);
    const again = await attempt(user, { refresh_token_delivery: "cookie" }, { headers: { Cookie: `${DEVICE_COOKIE}=${match![1]}` } });
    expect(again.status, await again.clone().text()).toBe(200);
  });

  it("a second-factor sign-in hands out the device token at /auth/mfa/verify, and the device then passes the email's lock to the second step", async () => {
    const { user, token } = await signedInUser();
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token })).status).toBe(200);
    const step = await json<{ mfa_token: string; device_token?: string }>(await attempt(user));
    expect(step.device_token).toBeUndefined();
    const verified = await call("auth/mfa/verify", { body: { mfa_token: step.mfa_token, code: await codeAt(setup.secret, Math.floor(Date.now() / 1000)) }, ip: randomIp() });
    expect(verified.status, await verified.clone().text()).toBe(200);
    const { device_token } = await json<{ device_token: string }>(verified);
    expect(typeof device_token).toBe("string");

    await lockEmail(user);
    const res = await attempt(user, { device_token });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json<{ mfa_required?: boolean }>(res)).mfa_required).toBe(true);
  });
});

// Issue 14, point 7 (last bullet): Retry-After tells the truth.

interface GuardState {
  tat?: number;
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

/** Lets `seconds` pass for the email's guard and the IP's login limit: every stored time moves back. */
async function letTimePass(email: string, ip: string, seconds: number) {
  const ms = seconds * 1000;
  const guard = env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(loginGuardKey(email)));
  await runInDurableObject(guard, (instance) => {
    const s = (instance as unknown as { state: GuardState }).state;
    if (s.tat !== undefined) s.tat -= ms;
    if (s.lockedUntil) s.lockedUntil -= ms;
    if (s.lastFailureAt) s.lastFailureAt -= ms;
  });
  const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`login:ip:${ipLimitKey(ip, 64)}`));
  await runInDurableObject(limiter, (instance) => {
    const l = instance as unknown as { tat: number | undefined };
    if (l.tat !== undefined) l.tat -= ms;
  });
}

describe("Retry-After on refused logins", () => {
  it("429 of the per-email rate while the email is locked: waiting Retry-After gets through", async () => {
    const user = await createUser();
    const ip = randomIp();
    for (let i = 0; i < 10; i++) await attempt(user, {}, { password: `guess-${i}`, ip });
    const refused = await attempt(user, {}, { ip });
    await expectProblem(refused.clone(), 429, "rate_limited");
    const wait = Number(refused.headers.get("retry-after"));
    await letTimePass(user.email, ip, wait);
    const after = await attempt(user, {}, { ip });
    expect(after.status, `waited ${wait}s: ${await after.clone().text()}`).toBe(200);
  });

  it("423 while the per-email rate is also spent (short lock): waiting Retry-After gets through", async () => {
    const user = await createUser();
    const ip = randomIp();
    const config = { LOCKOUT_MINUTES: "1", RATE_LOGIN_PER_EMAIL: "6/900" };
    for (let i = 0; i < 5; i++) {
      expect((await callWithConfig(config, "auth/login", { body: { email: user.email, password: `guess-${i}` }, ip })).status).toBe(401);
    }
    const refused = await callWithConfig(config, "auth/login", { body: { email: user.email, password: user.password }, ip });
    expect(refused.status).toBe(423);
    const wait = Number(refused.headers.get("retry-after"));
    await letTimePass(user.email, ip, wait);
    const after = await callWithConfig(config, "auth/login", { body: { email: user.email, password: user.password }, ip });
    expect(after.status, `waited ${wait}s: ${await after.clone().text()}`).toBe(200);
  });

  it("429 of the per-IP limit while the email is locked: waiting Retry-After gets through", async () => {
    const user = await createUser();
    const ip = randomIp();
    const config = { RATE_LOGIN_PER_IP: "6/900" };
    for (let i = 0; i < 5; i++) {
      expect((await callWithConfig(config, "auth/login", { body: { email: user.email, password: `guess-${i}` }, ip })).status).toBe(401);
    }
    expect((await callWithConfig(config, "auth/login", { body: { email: user.email, password: user.password }, ip })).status).toBe(423);
    const refused = await callWithConfig(config, "auth/login", { body: { email: user.email, password: user.password }, ip });
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("retry-after"));
    await letTimePass(user.email, ip, wait);
    const after = await callWithConfig(config, "auth/login", { body: { email: user.email, password: user.password }, ip });
    expect(after.status, `waited ${wait}s: ${await after.clone().text()}`).toBe(200);
  });
});
