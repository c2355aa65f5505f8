import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, codeAt, createUser, expectProblem, json, signedInUser, type TestUser } from "./helpers/harness";

const COOKIE = "__Secure-keel_refresh";
const CONSOLE_HEADERS = { "X-Requested-With": "keel-console", Origin: BASE };

function cookieOf(res: Response): { value: string; attributes: string } {
  const header = res.headers.get("set-cookie") ?? "";
  const match = new RegExp(`${COOKIE}=([^;]*)(;[^,]*)`).exec(header);
  if (!match) throw new Error(`no ${COOKIE} cookie in: ${header}`);
  return { value: match[1]!, attributes: match[2]! };
}

async function cookieLogin(user: TestUser) {
  const res = await call("auth/login", { body: { email: user.email, password: user.password, refresh_token_delivery: "cookie" }, ip: user.ip });
  expect(res.status, await res.clone().text()).toBe(200);
  return res;
}

const refreshWithCookie = (value: string, headers: Record<string, string> = CONSOLE_HEADERS) =>
  call("auth/refresh", { body: {}, headers: { Cookie: `${COOKIE}=${value}`, ...headers } });

describe("refresh token in a cookie (browser clients such as the console)", () => {
  it("login with refresh_token_delivery=cookie: no refresh token in the body, an HttpOnly Secure SameSite=Strict cookie for the refresh path only", async () => {
    const user = await createUser();
    const res = await cookieLogin(user);
    const body = await json<Record<string, unknown>>(res);
    expect(body.refresh_token).toBeUndefined();
    expect(body.refresh_token_delivery).toBe("cookie");
    expect(typeof body.access_token).toBe("string");
    const cookie = cookieOf(res);
    expect(cookie.value.length).toBeGreaterThan(30);
    expect(cookie.attributes).toContain("Path=/api/v1/auth/refresh");
    expect(cookie.attributes).toContain("HttpOnly");
    expect(cookie.attributes).toContain("Secure");
    expect(cookie.attributes).toContain("SameSite=Strict");
    expect(cookie.attributes).toMatch(/Max-Age=2592000/);
  });

  it("refresh reads the cookie, rotates it, and treats a replayed cookie as reuse", async () => {
    const user = await createUser();
    const first = cookieOf(await cookieLogin(user)).value;
    const res = await refreshWithCookie(first);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<Record<string, unknown>>(res);
    expect(body.refresh_token).toBeUndefined();
    const second = cookieOf(res).value;
    expect(second).not.toBe(first);
    expect((await call("me", { token: body.access_token as string })).status).toBe(200);

    // The spent cookie replayed: the session ends, and the answer clears the cookie.
    const replay = await refreshWithCookie(first);
    expect(cookieOf(replay).attributes).toContain("Max-Age=0");
    await expectProblem(replay, 401, "token_reused");
    await expectProblem(await refreshWithCookie(second), 401, "unauthenticated");
  });

  it("is CSRF-safe: the cookie alone is refused without the custom header or from a foreign origin", async () => {
    const user = await createUser();
    const value = cookieOf(await cookieLogin(user)).value;
    await expectProblem(await refreshWithCookie(value, { Origin: BASE }), 403, "forbidden");
    await expectProblem(await refreshWithCookie(value, { "X-Requested-With": "keel-console", Origin: "https://evil.example" }), 403, "forbidden");
    // Neither attempt spent the token.
    expect((await refreshWithCookie(value)).status).toBe(200);
  });

  it("without a body token and without the cookie → 422 as before; a body token still wins over the cookie", async () => {
    await expectProblem(await call("auth/refresh", { body: {}, headers: CONSOLE_HEADERS }), 422, "validation_failed");
    const { tokens } = await signedInUser();
    const res = await call("auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(typeof (await json(res)).refresh_token).toBe("string");
  });

  it("the second factor step delivers the cookie too", async () => {
    const { user, token } = await signedInUser();
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    const now = Math.floor(Date.now() / 1000);
    expect((await call("auth/mfa/totp/enable", { body: { code: await codeAt(setup.secret, now) }, token })).status).toBe(200);
    const step = await json<{ mfa_token: string }>(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }));
    const res = await call("auth/mfa/verify", { body: { mfa_token: step.mfa_token, code: await codeAt(setup.secret, now + 30), refresh_token_delivery: "cookie" }, ip: user.ip });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json(res)).refresh_token).toBeUndefined();
    expect((await refreshWithCookie(cookieOf(res).value)).status).toBe(200);
  });

  it("logout ends the session and clears the cookie", async () => {
    const user = await createUser();
    const res = await cookieLogin(user);
    const { access_token } = await json<{ access_token: string }>(res);
    const value = cookieOf(res).value;
    const out = await call("auth/logout", { method: "POST", token: access_token });
    expect(out.status).toBe(204);
    expect(cookieOf(out).attributes).toContain("Max-Age=0");
    await expectProblem(await refreshWithCookie(value), 401, "unauthenticated");
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'auth.logout'").bind(user.id).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });
});
