import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callWithConfig, codeAt, enablingCode, createUser, expectProblem, json, mailbox, randomIp, signedInUser, tokenFromMail, unique, waitForMail, type TestUser } from "./helpers/harness";

const now = () => Math.floor(Date.now() / 1000);

/** The 6-digit code of the newest sign-in code mail to `to`. */
async function codeMail(to: string, after = 0) {
  const mail = await waitForMail(to, "email_code", { after });
  const code = /sign-in code is (\d{6})/.exec(mail.text)?.[1];
  expect(code).toBeDefined();
  return { code: code!, token: tokenFromMail(mail), mail };
}

async function sendCode(user: { email: string }, ip = randomIp()) {
  const before = Date.now() - 1;
  const res = await call("auth/email-code/send", { body: { email: user.email }, ip });
  expect(res.status).toBe(202);
  return codeMail(user.email, before);
}

const verify = (body: Record<string, unknown>, ip = randomIp()) => call("auth/email-code/verify", { body, ip });

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

const claims = (accessToken: string) => JSON.parse(atob(accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;

describe("POST /auth/email-code/send", () => {
  it("answers 202 with the same empty body for a known and an unknown email; only the known one gets a mail with a code and a /sign-in link", async () => {
    const user = await createUser();
    const unknown = `${unique("nobody")}@example.com`;
    const known = await call("auth/email-code/send", { body: { email: user.email }, ip: randomIp() });
    const stranger = await call("auth/email-code/send", { body: { email: unknown }, ip: randomIp() });
    expect(known.status).toBe(202);
    expect(stranger.status).toBe(202);
    expect(await known.text()).toBe(await stranger.text());
    expect(known.headers.get("content-type")).toBe(stranger.headers.get("content-type"));
    const { code, mail } = await codeMail(user.email);
    expect(code).toMatch(/^\d{6}$/);
    expect(mail.text).toMatch(/\/sign-in\?token=/);
    // Only hashes are stored: neither the code nor the link's token is in D1.
    const row = await env.DB.prepare("SELECT code_hash, token_hash FROM email_codes WHERE user_id = ?").bind(user.id).first<{ code_hash: string; token_hash: string }>();
    expect(row).not.toBeNull();
    expect(row!.code_hash).not.toContain(code);
    expect(row!.token_hash).not.toBe(tokenFromMail(mail));
    await new Promise((r) => setTimeout(r, 200));
    expect(await mailbox(unknown)).toEqual([]);
  });

  it("a new send replaces the old code: the older code no longer signs in", async () => {
    const user = await createUser();
    const first = await sendCode(user);
    const second = await sendCode(user);
    if (first.code !== second.code) await expectProblem(await verify({ email: user.email, code: first.code }), 401, "invalid_credentials");
    await expectProblem(await verify({ token: first.token }), 401, "invalid_credentials");
    expect((await verify({ email: user.email, code: second.code })).status).toBe(200);
  });

  it("is limited per email and per IP (exact, Durable Object): the request past the budget gets 429", async () => {
    const user = await createUser();
    const perEmail = { RATE_EMAIL_CODE_PER_EMAIL: "2/3600" };
    for (let i = 0; i < 2; i++) expect((await callWithConfig(perEmail, "auth/email-code/send", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    await expectProblem(await callWithConfig(perEmail, "auth/email-code/send", { body: { email: user.email }, ip: randomIp() }), 429, "rate_limited");

    const ip = randomIp();
    const perIp = { RATE_EMAIL_CODE_PER_IP: "3/3600" };
    for (let i = 0; i < 3; i++) expect((await callWithConfig(perIp, "auth/email-code/send", { body: { email: `${unique("x")}@example.com` }, ip })).status).toBe(202);
    await expectProblem(await callWithConfig(perIp, "auth/email-code/send", { body: { email: `${unique("x")}@example.com` }, ip }), 429, "rate_limited");
    // Another IP is not held back by this one.
    expect((await callWithConfig(perIp, "auth/email-code/send", { body: { email: `${unique("x")}@example.com` }, ip: randomIp() })).status).toBe(202);
  });

  it("PASSWORDLESS_EMAIL=false: the route family and the /sign-in page answer 404", async () => {
    const off = { PASSWORDLESS_EMAIL: "false" };
    await expectProblem(await callWithConfig(off, "auth/email-code/send", { body: { email: "a@example.com" } }), 404, "not_found");
    await expectProblem(await callWithConfig(off, "auth/email-code/verify", { body: { email: "a@example.com", code: "123456" } }), 404, "not_found");
    await expectProblem(await callWithConfig(off, "auth/email-code/verify", { body: {} }), 404, "not_found");
    expect((await callWithConfig(off, "/sign-in?token=abcdefghijklmnopqrstuvwxyz")).status).toBe(404);
  });
});

describe("POST /auth/email-code/verify", () => {
  it("the code signs in (Tokens with auth_time) once; a second use → 401 invalid_credentials, and the link dies with it", async () => {
    const user = await createUser();
    const { code, token } = await sendCode(user);
    const res = await verify({ email: user.email, code });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = await json<{ access_token: string; refresh_token: string; user: { id: string } }>(res);
    expect(tokens.user.id).toBe(user.id);
    expect(typeof claims(tokens.access_token).auth_time).toBe("number");
    expect((await call("me", { token: tokens.access_token })).status).toBe(200);
    await expectProblem(await verify({ email: user.email, code }), 401, "invalid_credentials");
    await expectProblem(await verify({ token }), 401, "invalid_credentials");
  });

  it("the emailed link's token signs in once", async () => {
    const user = await createUser();
    const { token, code } = await sendCode(user);
    expect((await verify({ token })).status).toBe(200);
    await expectProblem(await verify({ token }), 401, "invalid_credentials");
    await expectProblem(await verify({ email: user.email, code }), 401, "invalid_credentials");
  });

  it("after 5 wrong guesses the code is dead: the sixth guess fails even with the right code", async () => {
    const user = await createUser();
    const { code, token } = await sendCode(user);
    for (let i = 0; i < 5; i++) await expectProblem(await verify({ email: user.email, code: wrongCode(code) }), 401, "invalid_credentials");
    await expectProblem(await verify({ email: user.email, code }), 401, "invalid_credentials");
    await expectProblem(await verify({ token }), 401, "invalid_credentials");
  });

  it("a code is bound to its user: another account's email with it is a wrong guess", async () => {
    const a = await createUser();
    const b = await createUser();
    const { code } = await sendCode(a);
    await sendCode(b);
    await expectProblem(await verify({ email: b.email, code }), 401, "invalid_credentials");
    expect((await verify({ email: a.email, code })).status).toBe(200);
  });

  it("a user with TOTP on gets mfa_required (an email code is one factor), and completes with the TOTP code", async () => {
    const { user, token: access } = await signedInUser();
    const setup = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token: access }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(setup.secret) }, token: access })).status).toBe(200);
    const { code } = await sendCode(user);
    const res = await verify({ email: user.email, code });
    expect(res.status).toBe(200);
    const body = await json<{ mfa_required?: boolean; mfa_token?: string; access_token?: string }>(res);
    expect(body.mfa_required).toBe(true);
    expect(body.access_token).toBeUndefined();
    const done = await call("auth/mfa/verify", { body: { mfa_token: body.mfa_token, code: await codeAt(setup.secret, now()) }, ip: randomIp() });
    expect(done.status).toBe(200);
    expect(typeof claims((await json<{ access_token: string }>(done)).access_token).auth_time).toBe("number");
  });

  it("an unknown email and a wrong code get the same 401", async () => {
    const a = await expectProblem(await verify({ email: `${unique("nobody")}@example.com`, code: "123456" }), 401, "invalid_credentials");
    const user = await createUser();
    const { code } = await sendCode(user);
    const b = await expectProblem(await verify({ email: user.email, code: wrongCode(code) }), 401, "invalid_credentials");
    expect(a.detail).toBe(b.detail);
  });

  it("an unverified account signs in by code and becomes verified (it proved the mailbox)", async () => {
    const user: TestUser = await createUser({ verified: false });
    const { code } = await sendCode(user);
    const res = await verify({ email: user.email, code });
    expect(res.status, await res.clone().text()).toBe(200);
    const row = await env.DB.prepare("SELECT email_verified FROM users WHERE id = ?").bind(user.id).first<{ email_verified: number }>();
    expect(row?.email_verified).toBe(1);
  });

  it("a suspended account is refused like at password login", async () => {
    const user = await createUser();
    const { code } = await sendCode(user);
    await env.DB.prepare("UPDATE users SET status = 'suspended' WHERE id = ?").bind(user.id).run();
    await expectProblem(await verify({ email: user.email, code }), 403, "account_inactive");
  });
});
