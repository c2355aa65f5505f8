import { describe, expect, it } from "vitest";
import { auditRows } from "./helpers/admin";
import { setPasswordHash } from "./helpers/fixtures";
import { call, callAt, codeAt, createUser, eventually, expectProblem, json, movableClock, randomIp, signedInUser, STRONG_PASSWORD, unique, waitForMail, type TestUser } from "./helpers/harness";
import { addPasskey, SoftAuthenticator } from "./helpers/webauthn";

const MINUTE = 60_000;
const claims = (accessToken: string) => JSON.parse(atob(accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { auth_time?: number; iat: number };

type PasskeyOptions = { challenge_id: string; challenge: string; allowCredentials?: { id: string }[] };

interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** A user signed in at the clock's now (so its auth_time is the clock's). */
async function signedInAt(clock: ReturnType<typeof movableClock>, user?: TestUser) {
  const u = user ?? (await createUser());
  const res = await callAt(clock, "auth/login", { body: { email: u.email, password: u.password }, ip: randomIp() });
  expect(res.status, await res.clone().text()).toBe(200);
  return { user: u, tokens: await json<Tokens>(res) };
}

async function withTotp(clock: ReturnType<typeof movableClock>) {
  const { user, tokens } = await signedInAt(clock);
  const setup = await json<{ secret: string }>(await callAt(clock, "auth/mfa/totp/setup", { method: "POST", token: tokens.access_token }));
  const at = Math.floor(clock.now().getTime() / 1000);
  expect((await callAt(clock, "auth/mfa/totp/enable", { body: { code: await codeAt(setup.secret, at - 30) }, token: tokens.access_token })).status).toBe(200);
  return { user, tokens, secret: setup.secret };
}

const reauth = (clock: ReturnType<typeof movableClock>, token: string, body: Record<string, unknown>) => callAt(clock, "auth/reauthenticate", { body, token, ip: randomIp() });

/** The sensitive routes, without a password or code in the body. */
const sensitive: [string, (clock: ReturnType<typeof movableClock>, token: string) => Promise<Response>, number][] = [
  ["POST /me/email", (clock, token) => callAt(clock, "me/email", { body: { new_email: `${unique("new")}@example.com` }, token }), 202],
  ["POST /auth/mfa/backup-codes", (clock, token) => callAt(clock, "auth/mfa/backup-codes", { body: {}, token }), 200],
  ["POST /me/api-keys (write: scope)", (clock, token) => callAt(clock, "me/api-keys", { body: { name: "ci", scopes: ["read:alerts", "write:alerts"] }, token }), 201],
  ["POST /auth/mfa/totp/disable", (clock, token) => callAt(clock, "auth/mfa/totp/disable", { body: {}, token }), 204],
  ["DELETE /me", (clock, token) => callAt(clock, "me", { method: "DELETE", body: {}, token }), 202],
];

describe("auth_time", () => {
  it("every sign-in's access token carries auth_time; a refresh keeps it", async () => {
    const clock = movableClock();
    const { tokens } = await signedInAt(clock);
    const first = claims(tokens.access_token);
    expect(first.auth_time).toBe(Math.floor(clock.now().getTime() / 1000));
    clock.advance(5 * MINUTE);
    const res = await callAt(clock, "auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(res.status).toBe(200);
    const refreshed = claims((await json<Tokens>(res)).access_token);
    expect(refreshed.iat).toBeGreaterThan(first.auth_time!);
    expect(refreshed.auth_time).toBe(first.auth_time);
  });
});

describe("step-up: routes that need a recent authentication", () => {
  for (const [name, send, ok] of sensitive) {
    it(`${name} → 401 reauthentication_required after REAUTH_MINUTES, and works after POST /auth/reauthenticate`, async () => {
      const clock = movableClock();
      const { tokens } = await withTotp(clock);
      clock.advance(11 * MINUTE);
      await expectProblem(await send(clock, tokens.access_token), 401, "reauthentication_required");
      const res = await reauth(clock, tokens.access_token, { password: STRONG_PASSWORD });
      expect(res.status, await res.clone().text()).toBe(200);
      const fresh = await json<Tokens>(res);
      expect(claims(fresh.access_token).auth_time).toBe(Math.floor(clock.now().getTime() / 1000));
      const done = await send(clock, fresh.access_token);
      expect(done.status, await done.clone().text()).toBe(ok);
    });
  }

  it("within REAUTH_MINUTES of the sign-in no step-up is needed", async () => {
    const clock = movableClock();
    const { tokens } = await signedInAt(clock);
    clock.advance(9 * MINUTE);
    expect((await callAt(clock, "me/api-keys", { body: { name: "ci", scopes: ["write:alerts"] }, token: tokens.access_token })).status).toBe(201);
  });

  it("a read-only key needs no step-up; a password in the body still counts as the authentication (the contract is kept)", async () => {
    const clock = movableClock();
    const { user, tokens } = await signedInAt(clock);
    clock.advance(30 * MINUTE - 1);
    // The access token has expired by now: a refresh gives a live one that keeps the old auth_time.
    const refreshed = await json<Tokens>(await callAt(clock, "auth/refresh", { body: { refresh_token: tokens.refresh_token } }));
    expect((await callAt(clock, "me/api-keys", { body: { name: "ro", scopes: ["read:alerts"] }, token: refreshed.access_token })).status).toBe(201);
    await expectProblem(await callAt(clock, "me/api-keys", { body: { name: "rw", scopes: ["write:alerts"] }, token: refreshed.access_token }), 401, "reauthentication_required");
    expect((await callAt(clock, "me/email", { body: { new_email: `${unique("n")}@example.com`, password: user.password }, token: refreshed.access_token })).status).toBe(202);
    expect((await callAt(clock, "me", { method: "DELETE", body: { password: user.password }, token: refreshed.access_token })).status).toBe(202);
  });
});

describe("POST /auth/reauthenticate", () => {
  it("a wrong password → 401 invalid_credentials; a TOTP code and an emailed code (a wrong one → 401) each work", async () => {
    const clock = movableClock();
    const { user, tokens, secret } = await withTotp(clock);
    clock.advance(11 * MINUTE);
    await expectProblem(await reauth(clock, tokens.access_token, { password: "not-the-password-at-all" }), 401, "invalid_credentials");
    const at = Math.floor(clock.now().getTime() / 1000);
    const viaTotp = await reauth(clock, tokens.access_token, { code: await codeAt(secret, at) });
    expect(viaTotp.status, await viaTotp.clone().text()).toBe(200);
    const t1 = await json<Tokens>(viaTotp);

    clock.advance(11 * MINUTE);
    const before = Date.now() - 1;
    expect((await callAt(clock, "auth/email-code/send", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const mail = await waitForMail(user.email, "email_code", { after: before });
    const emailCode = /sign-in code is (\d{6})/.exec(mail.text)![1]!;
    await expectProblem(await reauth(clock, t1.access_token, { email_code: String((Number(emailCode) + 1) % 1_000_000).padStart(6, "0") }), 401, "invalid_credentials");
    const viaEmail = await reauth(clock, t1.access_token, { email_code: emailCode });
    expect(viaEmail.status, await viaEmail.clone().text()).toBe(200);
    expect(claims((await json<Tokens>(viaEmail)).access_token).auth_time).toBe(Math.floor(clock.now().getTime() / 1000));
  });

  it("the new refresh token replaces the session's old one; the session stays the same", async () => {
    const clock = movableClock();
    const { user, tokens } = await signedInAt(clock);
    const res = await reauth(clock, tokens.access_token, { password: user.password });
    expect(res.status).toBe(200);
    const fresh = await json<Tokens & { session_id: string }>(res);
    await expectProblem(await callAt(clock, "auth/refresh", { body: { refresh_token: tokens.refresh_token } }), 401, "unauthenticated");
    expect((await callAt(clock, "auth/refresh", { body: { refresh_token: fresh.refresh_token } })).status).toBe(200);
  });

  it("a passkey assertion (options asked with the caller's token) steps up; another user's passkey or an unbound challenge → 401; two proofs → 422", async () => {
    const clock = movableClock();
    const { user, tokens } = await signedInAt(clock);
    const authenticator = new SoftAuthenticator();
    await addPasskey(tokens.access_token, authenticator);
    const stranger = await signedInUser();
    const theirs = new SoftAuthenticator();
    await addPasskey(stranger.token, theirs);
    clock.advance(11 * MINUTE);
    const options = (token?: string) => callAt(clock, "auth/passkeys/login/options", { body: {}, ...(token ? { token } : {}), ip: randomIp() }).then((r) => json<PasskeyOptions>(r));

    // Another user's passkey cannot answer a challenge bound to this caller.
    const bound = await options(tokens.access_token);
    await expectProblem(await reauth(clock, tokens.access_token, { passkey: { challenge_id: bound.challenge_id, response: await theirs.get({ challenge: bound.challenge }) } }), 401, "invalid_credentials");
    // A challenge asked for without the token (a usernameless sign-in's) is not bound to the caller: refused.
    const unbound = await options();
    await expectProblem(await reauth(clock, tokens.access_token, { passkey: { challenge_id: unbound.challenge_id, response: await authenticator.get(unbound) } }), 401, "invalid_credentials");
    // A challenge bound to another user, answered with the caller's own passkey: refused too.
    const foreign = await options(stranger.token);
    await expectProblem(await reauth(clock, tokens.access_token, { passkey: { challenge_id: foreign.challenge_id, response: await authenticator.get({ challenge: foreign.challenge }) } }), 401, "invalid_credentials");
    await eventually(async () => expect((await auditRows(user.id, "auth.reauthentication_failed")).length).toBeGreaterThanOrEqual(2));

    const good = await options(tokens.access_token);
    const res = await reauth(clock, tokens.access_token, { passkey: { challenge_id: good.challenge_id, response: await authenticator.get(good) } });
    expect(res.status, await res.clone().text()).toBe(200);
    const fresh = await json<Tokens>(res);
    expect(claims(fresh.access_token).auth_time).toBe(Math.floor(clock.now().getTime() / 1000));
    expect((await callAt(clock, "me/api-keys", { body: { name: "ci", scopes: ["write:alerts"] }, token: fresh.access_token })).status).toBe(201);
    // Single use: the same assertion again is refused.
    await expectProblem(await reauth(clock, fresh.access_token, { passkey: { challenge_id: good.challenge_id, response: await authenticator.get(good) } }), 401, "invalid_credentials");
    await expectProblem(await reauth(clock, tokens.access_token, { password: user.password, code: "123456" }), 422, "validation_failed");
  });

  it("a passwordless user with a passkey steps up with it and deletes the account (DELETE /me)", async () => {
    const clock = movableClock();
    const { user, tokens } = await signedInAt(clock);
    const authenticator = new SoftAuthenticator();
    await addPasskey(tokens.access_token, authenticator);
    await setPasswordHash(user.id, "!no-password");
    clock.advance(11 * MINUTE);
    await expectProblem(await callAt(clock, "me", { method: "DELETE", body: {}, token: tokens.access_token }), 401, "reauthentication_required");
    const opts = await json<PasskeyOptions>(await callAt(clock, "auth/passkeys/login/options", { body: {}, token: tokens.access_token, ip: randomIp() }));
    const stepped = await reauth(clock, tokens.access_token, { passkey: { challenge_id: opts.challenge_id, response: await authenticator.get(opts) } });
    expect(stepped.status, await stepped.clone().text()).toBe(200);
    const done = await callAt(clock, "me", { method: "DELETE", body: {}, token: (await json<Tokens>(stepped)).access_token });
    expect(done.status, await done.clone().text()).toBe(202);
  });

  it("a passwordless user steps up with an emailed code (a password never works for them)", async () => {
    const clock = movableClock();
    const email = `${unique("nopw")}@example.com`;
    expect((await callAt(clock, "auth/register", { body: { email, full_name: "No Password" }, ip: randomIp() })).status).toBe(201);
    const codeAtClock = async () => {
      const before = clock.now().getTime(); // the mail is stamped with the clock's time
      expect((await callAt(clock, "auth/email-code/send", { body: { email }, ip: randomIp() })).status).toBe(202);
      return /sign-in code is (\d{6})/.exec((await waitForMail(email, "email_code", { after: before })).text)![1]!;
    };
    const signIn = await callAt(clock, "auth/email-code/verify", { body: { email, code: await codeAtClock() }, ip: randomIp() });
    expect(signIn.status, await signIn.clone().text()).toBe(200);
    const tokens = await json<Tokens>(signIn);
    clock.advance(11 * MINUTE);
    await expectProblem(await callAt(clock, "me", { method: "DELETE", body: {}, token: tokens.access_token }), 401, "reauthentication_required");
    await expectProblem(await reauth(clock, tokens.access_token, { password: "!no-password" }), 401, "invalid_credentials");
    const stepped = await reauth(clock, tokens.access_token, { email_code: await codeAtClock() });
    expect(stepped.status, await stepped.clone().text()).toBe(200);
    expect((await callAt(clock, "me", { method: "DELETE", body: {}, token: (await json<Tokens>(stepped)).access_token })).status).toBe(202);
  });

  it("needs a session: an anonymous caller gets 401", async () => {
    await expectProblem(await call("auth/reauthenticate", { body: { password: "x" } }), 401, "unauthenticated");
  });
});
