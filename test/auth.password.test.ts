import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agePassword, expireOneTimeTokens, setPasswordHash } from "./helpers/fixtures";
import {
  call,
  callWithConfig,
  codeAt,
  enablingCode,
  createUser,
  expectProblem,
  json,
  login,
  mailbox,
  OTHER_PASSWORD,
  randomIp,
  signedInUser,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
  type Tokens,
} from "./helpers/harness";

const change = (token: string, current_password: string, new_password: string) =>
  call("auth/password/change", { body: { current_password, new_password }, token });

const storedHash = async (userId: string) =>
  (await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string }>())!.password_hash;

describe("POST /auth/password/change", () => {
  it("needs the current password, applies the policy, and refuses the current password as new", async () => {
    const { user, token } = await signedInUser();
    await expectProblem(await change(token, "not-my-password-at-all", OTHER_PASSWORD), 401, "invalid_credentials");
    await expectProblem(await change(token, user.password, "short"), 422, "weak_password");
    await expectProblem(await change(token, user.password, user.password), 422, "password_reused");
  });

  it("ends every other session, keeps this one, emails 'password changed' and audits", async () => {
    const user = await createUser();
    const current = await login(user);
    const other = await login(user);
    expect((await change(current.access_token, user.password, OTHER_PASSWORD)).status).toBe(204);
    await expectProblem(await call("me", { token: other.access_token }), 401, "unauthenticated");
    expect((await call("me", { token: current.access_token })).status).toBe(200);
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }), 401, "invalid_credentials");
    expect((await call("auth/login", { body: { email: user.email, password: OTHER_PASSWORD }, ip: randomIp() })).status).toBe(200);
    const mail = await waitForMail(user.email, "password_changed");
    expect(mail.subject).toBe("Your password was changed");
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'auth.password_changed'").bind(user.id).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("refuses any of the last 5 passwords, and forgets older ones", async () => {
    const user = await createUser();
    const { access_token: token } = await login(user);
    const passwords = [user.password, ...Array.from({ length: 5 }, (_, i) => `history-check-phrase-number-${i}`)];
    for (let i = 1; i < passwords.length; i++) expect((await change(token, passwords[i - 1]!, passwords[i]!)).status).toBe(204);
    const current = passwords.at(-1)!;
    // passwords[1..5] are the last five (current included): all refused.
    await expectProblem(await change(token, current, passwords[2]!), 422, "password_reused");
    // passwords[0] is the sixth most recent: allowed again.
    expect((await change(token, current, passwords[0]!)).status).toBe(204);
    const history = await env.DB.prepare("SELECT count(*) AS n FROM password_history WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(history?.n).toBe(5);
  }, 120_000);

  it("API keys cannot change passwords", async () => {
    const { token } = await signedInUser();
    const created = await json<{ key: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["read:profile", "write:profile"] }, token }));
    await expectProblem(await call("auth/password/change", { body: { current_password: "a", new_password: "b" }, apiKey: created.key }), 403, "insufficient_scope");
  });
});

describe("forgot and reset", () => {
  it("forgot answers 202 alike for unknown and known emails; only the known one gets a mail", async () => {
    const user = await createUser();
    const ghost = `${unique("ghost")}@example.com`;
    const a = await call("auth/password/forgot", { body: { email: ghost } });
    const b = await call("auth/password/forgot", { body: { email: user.email } });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(await a.text()).toBe(await b.text());
    await waitForMail(user.email, "password_reset");
    expect(await mailbox(ghost)).toEqual([]);
  });

  it("reset: weak password keeps the link usable; success ends every session, unlocks, works once", async () => {
    const user = await createUser();
    const session = await login(user);
    for (let i = 0; i < 5; i++) await call("auth/login", { body: { email: user.email, password: `wrong-${i}-password` }, ip: randomIp() });
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }), 423, "account_locked");

    expect((await call("auth/password/forgot", { body: { email: user.email } })).status).toBe(202);
    const mail = await waitForMail(user.email, "password_reset");
    expect(mail.text).toContain("http://127.0.0.1:8787/reset-password?token=");
    const token = tokenFromMail(mail);
    await expectProblem(await call("auth/password/reset", { body: { token, new_password: "weak" } }), 422, "weak_password");
    expect((await call("auth/password/reset", { body: { token, new_password: OTHER_PASSWORD } })).status).toBe(204);
    await expectProblem(await call("auth/password/reset", { body: { token, new_password: `${OTHER_PASSWORD}-x` } }), 400, "validation_failed");

    await expectProblem(await call("me", { token: session.access_token }), 401, "unauthenticated");
    expect((await call("auth/login", { body: { email: user.email, password: OTHER_PASSWORD }, ip: randomIp() })).status).toBe(200);
    await waitForMail(user.email, "password_changed");
  });

  // Issue 10, point 5: no live secret in plain text at rest.
  it("the outbox row of a reset email holds neither the token nor the link (sealed); /dev/mailbox shows the full email", async () => {
    const user = await createUser();
    expect((await call("auth/password/forgot", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const mail = await waitForMail(user.email, "password_reset");
    const token = tokenFromMail(mail);
    const rows = await env.DB.prepare("SELECT * FROM email_outbox WHERE to_address = ? AND template = 'password_reset'").bind(user.email).all();
    expect(rows.results).toHaveLength(1);
    const stored = JSON.stringify(rows.results[0]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain("reset-password");
    expect(rows.results[0]).toMatchObject({ text_body: expect.stringMatching(/^v1\./), html_body: expect.stringMatching(/^v1\./) });
    expect(mail.html).toContain(token);
  });

  // Issue 10, point 9: a password reset also spends pending second steps.
  it("a password reset spends pending mfa_login tokens", async () => {
    const { user, token: access } = await signedInUser();
    const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token: access }));
    const nowS = () => Math.floor(Date.now() / 1000);
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token: access })).status).toBe(200);
    const step = await json<{ mfa_token: string }>(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }));
    expect(step.mfa_token).toBeTruthy();

    await call("auth/password/forgot", { body: { email: user.email }, ip: randomIp() });
    const reset = tokenFromMail(await waitForMail(user.email, "password_reset"));
    expect((await call("auth/password/reset", { body: { token: reset, new_password: OTHER_PASSWORD } })).status).toBe(204);
    await expectProblem(await call("auth/mfa/verify", { body: { mfa_token: step.mfa_token, code: await codeAt(secret, nowS()) }, ip: randomIp() }), 401, "unauthenticated");
  });

  it("two concurrent resets with the same token: exactly one wins, and its password is the one that works", async () => {
    const user = await createUser();
    expect((await call("auth/password/forgot", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const token = tokenFromMail(await waitForMail(user.email, "password_reset"));
    const passwords = [OTHER_PASSWORD, `${OTHER_PASSWORD}-second`];
    const results = await Promise.all(passwords.map((new_password) => call("auth/password/reset", { body: { token, new_password }, ip: randomIp() })));
    expect(results.map((r) => r.status).sort()).toEqual([204, 400]);
    const winner = results.findIndex((r) => r.status === 204);
    await expectProblem(results[1 - winner]!, 400, "validation_failed");
    const loginWith = (password: string) => call("auth/login", { body: { email: user.email, password }, ip: randomIp() });
    expect((await loginWith(passwords[winner]!)).status).toBe(200);
    await expectProblem(await loginWith(passwords[1 - winner]!), 401, "invalid_credentials");
    const resets = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'auth.password_reset'").bind(user.id).first<{ n: number }>();
    expect(resets?.n).toBe(1);
  });

  it("an expired reset token → 400", async () => {
    const user = await createUser();
    await call("auth/password/forgot", { body: { email: user.email } });
    const token = tokenFromMail(await waitForMail(user.email, "password_reset"));
    await expireOneTimeTokens(user.id, "password_reset");
    await expectProblem(await call("auth/password/reset", { body: { token, new_password: OTHER_PASSWORD } }), 400, "validation_failed");
  });

  it("forgot is rate-limited per email (3 per hour)", async () => {
    const email = `${unique("forgot")}@example.com`;
    for (let i = 0; i < 3; i++) expect((await call("auth/password/forgot", { body: { email }, ip: randomIp() })).status).toBe(202);
    await expectProblem(await call("auth/password/forgot", { body: { email }, ip: randomIp() }), 429, "rate_limited");
  });
});

describe("hashes", () => {
  it("stores a self-describing scrypt hash meeting OWASP minimums", async () => {
    const user = await createUser();
    expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
  });

  it("imported bcrypt and Werkzeug hashes log in and are upgraded to scrypt at the first login", async () => {
    // Vectors computed outside this code base (OpenBSD bcrypt test suite; Python hashlib).
    const imports = [
      { hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", password: "U*U" },
      { hash: "pbkdf2:sha256:1000$salt$0a38253555ce37f5c72a6b703f996814ebf241f203af146e93dcdeb031c5567e", password: "pw" },
    ];
    for (const imported of imports) {
      const user = await createUser();
      await setPasswordHash(user.id, imported.hash);
      await expectProblem(await call("auth/login", { body: { email: user.email, password: "not-it" }, ip: randomIp() }), 401, "invalid_credentials");
      expect((await call("auth/login", { body: { email: user.email, password: imported.password }, ip: randomIp() })).status).toBe(200);
      expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
      expect((await call("auth/login", { body: { email: user.email, password: imported.password }, ip: randomIp() })).status).toBe(200);
      const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'auth.password_rehashed'").bind(user.id).first<{ n: number }>();
      expect(audit?.n).toBe(1);
    }
  });
});

describe("password expiry (PASSWORD_MAX_AGE_DAYS, off by default)", () => {
  it("is off by default: an old password still logs in normally", async () => {
    const user = await createUser();
    await agePassword(user.id, 400);
    const tokens = await login(user);
    expect(tokens.password_expired).toBe(false);
  });

  it("when on: login answers tokens with password_expired, every route but password change answers 403 until changed", async () => {
    const policy = { PASSWORD_MAX_AGE_DAYS: "90" };
    const user = await createUser();
    await agePassword(user.id, 91);
    const res = await callWithConfig(policy, "auth/login", { body: { email: user.email, password: STRONG_PASSWORD }, ip: randomIp() });
    expect(res.status).toBe(200);
    const tokens = await json<Tokens>(res);
    expect(tokens.password_expired).toBe(true);
    await expectProblem(await callWithConfig(policy, "me", { token: tokens.access_token }), 403, "password_expired");
    await expectProblem(await callWithConfig(policy, "me/sessions", { token: tokens.access_token }), 403, "password_expired");
    const changed = await callWithConfig(policy, "auth/password/change", { body: { current_password: STRONG_PASSWORD, new_password: OTHER_PASSWORD }, token: tokens.access_token });
    expect(changed.status).toBe(204);
    expect((await callWithConfig(policy, "me", { token: tokens.access_token })).status).toBe(200);
  });
});
