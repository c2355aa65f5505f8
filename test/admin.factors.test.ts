import { describe, expect, it } from "vitest";
import { auditRows, signedInWithRole } from "./helpers/admin";
import { grantRole, setPasswordHash } from "./helpers/fixtures";
import { call, enablingCode, expectProblem, json, signedInUser, waitForMail } from "./helpers/harness";
import { addPasskey, SoftAuthenticator } from "./helpers/webauthn";

// Issue 16, point 6: the admin user view shows the sign-in methods; reset-factors removes TOTP
// and passkeys for a user who lost them.

interface Methods {
  password: boolean;
  passkeys: { count: number; last_used_at: string | null };
  totp: boolean;
  email_codes: boolean;
}

async function userWithFactors() {
  const signed = await signedInUser();
  const authenticator = new SoftAuthenticator();
  await addPasskey(signed.token, authenticator);
  await addPasskey(signed.token, authenticator);
  const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token: signed.token }));
  expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token: signed.token })).status).toBe(200);
  // One passkey sign-in, so "last used" has a value.
  const opts = await json<{ challenge_id: string; challenge: string }>(await call("auth/passkeys/login/options", { body: {} }));
  expect((await call("auth/passkeys/login/verify", { body: { challenge_id: opts.challenge_id, response: await authenticator.get(opts) } })).status).toBe(200);
  return { ...signed, authenticator };
}

const methodsOf = async (adminToken: string, userId: string) => (await json<{ sign_in_methods: Methods }>(await call(`admin/users/${userId}`, { token: adminToken }))).sign_in_methods;

describe("sign-in methods in the admin user view", () => {
  it("shows password, passkeys (count, last used), TOTP and email codes", async () => {
    const admin = await signedInWithRole("admin");
    const { user } = await userWithFactors();
    const methods = await methodsOf(admin.token, user.id);
    expect(methods).toMatchObject({ password: true, passkeys: { count: 2 }, totp: true, email_codes: true });
    expect(Date.parse(methods.passkeys.last_used_at!)).toBeGreaterThan(Date.now() - 60_000);

    const plain = await signedInUser();
    await setPasswordHash(plain.user.id, "!no-password");
    expect(await methodsOf(admin.token, plain.user.id)).toEqual({ password: false, passkeys: { count: 0, last_used_at: null }, totp: false, email_codes: true });
  });
});

describe("POST /admin/users/{id}/reset-factors", () => {
  it("removes TOTP and every passkey in one go, ends every session (a lost device may hold one), audited, and emails the user", async () => {
    const admin = await signedInWithRole("admin");
    const target = await userWithFactors();
    expect((await call("me", { token: target.token })).status).toBe(200);
    expect((await call(`admin/users/${target.user.id}/reset-factors`, { method: "POST", token: admin.token })).status).toBe(204);
    // The sessions opened with the lost factors end: their access and refresh tokens stop at once.
    await expectProblem(await call("me", { token: target.token }), 401, "unauthenticated");
    await expectProblem(await call("auth/refresh", { body: { refresh_token: target.tokens.refresh_token } }), 401, "unauthenticated");

    expect(await methodsOf(admin.token, target.user.id)).toMatchObject({ password: true, passkeys: { count: 0 }, totp: false });
    // The password alone signs in now (no TOTP step), and the old passkeys are gone.
    const login = await call("auth/login", { body: { email: target.user.email, password: target.user.password }, ip: target.user.ip });
    expect(await json(login)).toHaveProperty("access_token");
    const opts = await json<{ challenge_id: string; challenge: string }>(await call("auth/passkeys/login/options", { body: {} }));
    await expectProblem(await call("auth/passkeys/login/verify", { body: { challenge_id: opts.challenge_id, response: await target.authenticator.get(opts) } }), 401, "invalid_credentials");

    const [row] = await auditRows(target.user.id, "admin.factors_reset");
    expect(row).toMatchObject({ actor_id: admin.user.id });
    expect(JSON.parse(row!.details as string)).toMatchObject({ totp: true, passkeys: 2 });
    expect((await waitForMail(target.user.email, "factors_reset")).subject).toBe("Your sign-in methods were reset");
  });

  it("a superuser's factors only by a superuser; never the caller's own; unknown → 404; non-admins → 403", async () => {
    const admin = await signedInWithRole("admin");
    const superuser = await signedInWithRole("superuser");
    const target = await userWithFactors();
    await grantRole(target.user.id, "superuser");

    await expectProblem(await call(`admin/users/${target.user.id}/reset-factors`, { method: "POST", token: admin.token }), 403, "forbidden");
    expect(await methodsOf(superuser.token, target.user.id)).toMatchObject({ passkeys: { count: 2 }, totp: true });
    expect(await auditRows(target.user.id, "admin.factors_reset")).toHaveLength(0);

    await expectProblem(await call(`admin/users/${admin.user.id}/reset-factors`, { method: "POST", token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${superuser.user.id}/reset-factors`, { method: "POST", token: superuser.token }), 403, "forbidden");
    await expectProblem(await call("admin/users/usr_missing/reset-factors", { method: "POST", token: admin.token }), 404, "not_found");
    const stranger = await signedInUser();
    await expectProblem(await call(`admin/users/${target.user.id}/reset-factors`, { method: "POST", token: stranger.token }), 403, "forbidden");

    expect((await call(`admin/users/${target.user.id}/reset-factors`, { method: "POST", token: superuser.token })).status).toBe(204);
    expect(await methodsOf(superuser.token, target.user.id)).toMatchObject({ passkeys: { count: 0 }, totp: false });
  });
});
