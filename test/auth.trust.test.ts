import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agePassword } from "./helpers/fixtures";
import { apiKeyFor, signedInWithRole } from "./helpers/admin";
import {
  call,
  callWithConfig,
  createUser,
  expectProblem,
  json,
  OTHER_PASSWORD,
  randomIp,
  signedInUser,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
} from "./helpers/harness";

// Issue 14, point 14: the last enumeration gaps, and API keys follow the password.

/** The duration of a Server-Timing phase (development only), or NaN when absent. */
const phase = (res: Response, name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(res.headers.get("server-timing") ?? "")?.[1]);

describe("an account without a password is refused like an unknown email (issue 14.14)", () => {
  it("the login of an admin-created, password-less account does the dummy hash work an unknown email does", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("nopw")}@example.com`;
    expect((await call("admin/users", { body: { email, full_name: "No Password", email_verified: true }, token: admin.token })).status).toBe(201);
    // Warm the isolate's dummy hash, so both requests below do exactly one verification.
    await call("auth/login", { body: { email: `${unique("warm")}@example.com`, password: "whatever-password-1" }, ip: randomIp() });

    const unknown = await call("auth/login", { body: { email: `${unique("nobody")}@example.com`, password: "whatever-password-2" }, ip: randomIp() });
    const passwordless = await call("auth/login", { body: { email, password: "whatever-password-3" }, ip: randomIp() });
    const [a, b] = [await expectProblem(unknown, 401, "invalid_credentials"), await expectProblem(passwordless, 401, "invalid_credentials")];
    expect({ ...a, request_id: undefined, instance: undefined }).toEqual({ ...b, request_id: undefined, instance: undefined });
    // The hash phase did real work in both (workerd's clock only moves across such work: a path
    // that skips the hash reports 0.0).
    expect(phase(unknown, "hash")).toBeGreaterThan(0);
    expect(phase(passwordless, "hash")).toBeGreaterThan(0);
  });
});

describe("a new password revokes the user's API keys at once (issue 14.14)", () => {
  it("password change: the key answers 401 on the very next request, and the email says so", async () => {
    const { user, token } = await signedInUser();
    const key = await apiKeyFor(token);
    expect((await call("me", { apiKey: key })).status).toBe(200); // cached live in this isolate and in KV
    const started = Date.now();
    const res = await call("auth/password/change", { body: { current_password: user.password, new_password: OTHER_PASSWORD }, token });
    expect(res.status).toBe(204);
    await expectProblem(await call("me", { apiKey: key }), 401, "unauthenticated");
    const live = await env.DB.prepare("SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL").bind(user.id).first<{ n: number }>();
    expect(live!.n).toBe(0);
    const mail = await waitForMail(user.email, "password_changed", { after: started - 1000 });
    expect(mail.text).toContain("API keys were revoked");
    // A key made after the change works.
    expect((await call("me", { apiKey: await apiKeyFor(token) })).status).toBe(200);
  });

  it("password reset: the key answers 401 at once", async () => {
    const { user, token } = await signedInUser();
    const key = await apiKeyFor(token);
    expect((await call("me", { apiKey: key })).status).toBe(200);
    const started = Date.now();
    expect((await call("auth/password/forgot", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const reset = tokenFromMail(await waitForMail(user.email, "password_reset", { after: started - 1000 }));
    expect((await call("auth/password/reset", { body: { token: reset, new_password: OTHER_PASSWORD } })).status).toBe(204);
    await expectProblem(await call("me", { apiKey: key }), 401, "unauthenticated");
  });
});

describe("password expiry applies to API keys (issue 14.14)", () => {
  it("with PASSWORD_MAX_AGE_DAYS on, an expired password's API key answers 403 password_expired; a fresh one works", async () => {
    const policy = { PASSWORD_MAX_AGE_DAYS: "90" };
    const { token } = await signedInUser();
    const key = await apiKeyFor(token);
    expect((await callWithConfig(policy, "me", { apiKey: key })).status).toBe(200);
    const other = await createUser();
    const otherKey = await apiKeyFor((await json<{ access_token: string }>(await call("auth/login", { body: { email: other.email, password: STRONG_PASSWORD }, ip: randomIp() }))).access_token);
    await agePassword(other.id, 91);
    await expectProblem(await callWithConfig(policy, "me", { apiKey: otherKey }), 403, "password_expired");
    // Off by default: the same key works.
    expect((await call("me", { apiKey: otherKey })).status).toBe(200);
    expect((await callWithConfig(policy, "me", { apiKey: key })).status).toBe(200);
  });
});
