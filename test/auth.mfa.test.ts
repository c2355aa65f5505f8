import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expireOneTimeTokens } from "./helpers/fixtures";
import { call, callWithConfig, codeAt, enablingCode, expectProblem, json, login, randomIp, signedInUser, waitForMail, type TestUser, type Tokens } from "./helpers/harness";

const now = () => Math.floor(Date.now() / 1000);

async function setup(token: string) {
  const res = await call("auth/mfa/totp/setup", { method: "POST", token });
  expect(res.status).toBe(200);
  return json<{ secret: string; otpauth_url: string }>(res);
}

/** A user with TOTP on; the enabling code used the previous time step (so the current and next are fresh). */
async function userWithTotp() {
  const { user, token, tokens } = await signedInUser();
  const { secret } = await setup(token);
  const res = await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token });
  expect(res.status).toBe(200);
  const { backup_codes } = await json<{ backup_codes: string[] }>(res);
  return { user, token, tokens, secret, backupCodes: backup_codes };
}

async function passwordStep(user: TestUser) {
  const res = await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await json<{ mfa_required: boolean; mfa_token: string; access_token?: string }>(res);
  expect(body.mfa_required).toBe(true);
  expect(body.access_token).toBeUndefined();
  return body.mfa_token;
}

const verify = (body: Record<string, string>) => call("auth/mfa/verify", { body, ip: randomIp() });

describe("TOTP setup and enable", () => {
  it("setup returns a base32 secret and an otpauth:// URL any authenticator understands; the secret is stored encrypted", async () => {
    const { user, token } = await signedInUser();
    const { secret, otpauth_url } = await setup(token);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(otpauth_url);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toBe(`/keel:${user.email}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ secret, issuer: "keel", algorithm: "SHA1", digits: "6", period: "30" });
    const row = await env.DB.prepare("SELECT secret_encrypted, enabled FROM mfa_totp WHERE user_id = ?").bind(user.id).first<{ secret_encrypted: string; enabled: number }>();
    expect(row?.enabled).toBe(0);
    expect(row?.secret_encrypted).toMatch(/^v1\./);
    expect(row?.secret_encrypted).not.toContain(secret);
  });

  it("enable needs a valid code; a wrong one → 401 invalid_mfa_code; success returns 10 single-use backup codes", async () => {
    const { user, token } = await signedInUser();
    const { secret } = await setup(token);
    const wrong = String((Number(await codeAt(secret, now())) + 1) % 1_000_000).padStart(6, "0");
    await expectProblem(await call("auth/mfa/totp/enable", { body: { code: wrong }, token }), 401, "invalid_mfa_code");
    const res = await call("auth/mfa/totp/enable", { body: { code: await codeAt(secret, now()) }, token });
    expect(res.status).toBe(200);
    const { backup_codes } = await json<{ backup_codes: string[] }>(res);
    expect(backup_codes).toHaveLength(10);
    expect(new Set(backup_codes).size).toBe(10);
    const stored = await env.DB.prepare("SELECT code_hash FROM mfa_backup_codes WHERE user_id = ?").bind(user.id).all<{ code_hash: string }>();
    expect(stored.results).toHaveLength(10);
    for (const code of backup_codes) expect(JSON.stringify(stored.results)).not.toContain(code.replace("-", ""));
    const me = await json<{ two_factor_enabled: boolean }>(await call("me", { token }));
    expect(me.two_factor_enabled).toBe(true);
  });
});

describe("two-step login", () => {
  it("login answers mfa_required; a code computed from the secret completes it; the same code cannot be replayed", async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await passwordStep(user);
    const code = await codeAt(secret, now());
    const res = await verify({ mfa_token: mfaToken, code });
    expect(res.status).toBe(200);
    const tokens = await json<Tokens>(res);
    expect(tokens.user.two_factor_enabled).toBe(true);
    expect((await call("me", { token: tokens.access_token })).status).toBe(200);

    // The mfa_token is single-use, and the code's time step is spent.
    await expectProblem(await verify({ mfa_token: mfaToken, code }), 401, "unauthenticated");
    const second = await passwordStep(user);
    await expectProblem(await verify({ mfa_token: second, code }), 401, "invalid_mfa_code");
  });

  it("a wrong code → 401 invalid_mfa_code and an audit event; attempts are limited per mfa_token", async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await passwordStep(user);
    const wrong = String((Number(await codeAt(secret, now())) + 500_000) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 5; i++) await expectProblem(await verify({ mfa_token: mfaToken, code: wrong }), 401, "invalid_mfa_code");
    await expectProblem(await verify({ mfa_token: mfaToken, code: await codeAt(secret, now()) }), 429, "rate_limited");
    const failed = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'mfa.failed'").bind(user.id).first<{ n: number }>();
    expect(failed?.n).toBe(5);
  });

  it("a backup code works once", async () => {
    const { user, backupCodes } = await userWithTotp();
    const first = await passwordStep(user);
    expect((await verify({ mfa_token: first, backup_code: backupCodes[3]!.toUpperCase() })).status).toBe(200);
    const second = await passwordStep(user);
    await expectProblem(await verify({ mfa_token: second, backup_code: backupCodes[3]! }), 401, "invalid_mfa_code");
    expect((await verify({ mfa_token: second, backup_code: backupCodes[4]! })).status).toBe(200);
    const used = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'mfa.backup_code_used'").bind(user.id).first<{ n: number }>();
    expect(used?.n).toBe(2);
  });

  it("two concurrent second steps with the same backup code: exactly one wins", async () => {
    const { user, backupCodes } = await userWithTotp();
    const steps = [await passwordStep(user), await passwordStep(user)];
    const results = await Promise.all(steps.map((mfa_token) => verify({ mfa_token, backup_code: backupCodes[0]! })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    await expectProblem(results.find((r) => r.status === 401)!, 401, "invalid_mfa_code");
    const used = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'mfa.backup_code_used'").bind(user.id).first<{ n: number }>();
    expect(used?.n).toBe(1);
  });

  it("an unknown or expired mfa_token → 401", async () => {
    const { user, secret } = await userWithTotp();
    const mfaToken = await passwordStep(user);
    await expireOneTimeTokens(user.id, "mfa_login");
    await expectProblem(await verify({ mfa_token: mfaToken, code: await codeAt(secret, now()) }), 401, "unauthenticated");
    await expectProblem(await verify({ mfa_token: "B".repeat(43), code: "123456" }), 401, "unauthenticated");
  });

  it("the request must carry exactly one of code and backup_code", async () => {
    await expectProblem(await verify({ mfa_token: "B".repeat(43) }), 422, "validation_failed");
    await expectProblem(await verify({ mfa_token: "B".repeat(43), code: "123456", backup_code: "abcde-fghij" }), 422, "validation_failed");
  });
});

describe("disable and backup-code rotation", () => {
  it("disable with the password turns 2FA off; login is one step again", async () => {
    const { user, token } = await userWithTotp();
    await expectProblem(await call("auth/mfa/totp/disable", { body: { password: "definitely-not-it" }, token }), 401, "invalid_credentials");
    expect((await call("auth/mfa/totp/disable", { body: { password: user.password }, token })).status).toBe(204);
    const tokens = await login(user);
    expect(tokens.access_token).toBeTruthy();
    const left = await env.DB.prepare("SELECT (SELECT count(*) FROM mfa_totp WHERE user_id = ?1) + (SELECT count(*) FROM mfa_backup_codes WHERE user_id = ?1) AS n").bind(user.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("disable with a current code works; a wrong code does not", async () => {
    const { token, secret } = await userWithTotp();
    await expectProblem(await call("auth/mfa/totp/disable", { body: { code: "000000" === (await codeAt(secret, now())) ? "111111" : "000000" }, token }), 401, "invalid_mfa_code");
    expect((await call("auth/mfa/totp/disable", { body: { code: await codeAt(secret, now()) }, token })).status).toBe(204);
  });

  it("regenerating backup codes needs a code and invalidates the old ones", async () => {
    const { user, token, secret, backupCodes } = await userWithTotp();
    const res = await call("auth/mfa/backup-codes", { body: { code: await codeAt(secret, now()) }, token });
    expect(res.status).toBe(200);
    const fresh = (await json<{ backup_codes: string[] }>(res)).backup_codes;
    expect(fresh).toHaveLength(10);
    const mfaToken = await passwordStep(user);
    await expectProblem(await verify({ mfa_token: mfaToken, backup_code: backupCodes[0]! }), 401, "invalid_mfa_code");
    expect((await verify({ mfa_token: mfaToken, backup_code: fresh[0]! })).status).toBe(200);
  });

  it("2FA routes refuse API keys and anonymous callers", async () => {
    const { token } = await signedInUser();
    const { key } = await json<{ key: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["read:profile"] }, token }));
    await expectProblem(await call("auth/mfa/totp/setup", { method: "POST", apiKey: key }), 403, "insufficient_scope");
    await expectProblem(await call("auth/mfa/totp/setup", { method: "POST" }), 401, "unauthenticated");
  });

  it("setup twice before enabling replaces the pending secret; setup when enabled → 409", async () => {
    const { token } = await signedInUser();
    const a = await setup(token);
    const b = await setup(token);
    expect(a.secret).not.toBe(b.secret);
    await expectProblem(await call("auth/mfa/totp/enable", { body: { code: await codeAt(a.secret, now()) }, token }), 401, "invalid_mfa_code");
    expect((await call("auth/mfa/totp/enable", { body: { code: await codeAt(b.secret, now()) }, token })).status).toBe(200);
    await expectProblem(await call("auth/mfa/totp/setup", { method: "POST", token }), 409, "conflict");
  });
});


// Issue 10, point 1: the second factor cannot be brute-forced by minting fresh mfa tokens.
describe("second-factor lockout per user", () => {
  it("10 failures spread over three mfa tokens and /backup-codes lock the second step (423, even for a correct code), audit it and email the user", async () => {
    const { user, token, secret } = await userWithTotp();
    const wrong = String((Number(await codeAt(secret, now())) + 500_000) % 1_000_000).padStart(6, "0");
    for (const failures of [3, 3, 1]) {
      const mfaToken = await passwordStep(user);
      for (let i = 0; i < failures; i++) await expectProblem(await verify({ mfa_token: mfaToken, code: wrong }), 401, "invalid_mfa_code");
    }
    // Codes sent to the signed-in 2FA routes count too.
    for (let i = 0; i < 2; i++) await expectProblem(await call("auth/mfa/backup-codes", { body: { code: wrong }, token }), 401, "invalid_mfa_code");
    const started = Date.now();
    await expectProblem(await call("auth/mfa/totp/disable", { body: { code: wrong }, token }), 401, "invalid_mfa_code");

    const mfaToken = await passwordStep(user);
    const locked = await verify({ mfa_token: mfaToken, code: await codeAt(secret, now()) });
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(29 * 60);
    const body = (await expectProblem(locked, 423, "account_locked")) as unknown as { locked_until: string };
    expect(Date.parse(body.locked_until)).toBeGreaterThanOrEqual(started + 30 * 60_000 - 1000);
    await expectProblem(await call("auth/mfa/backup-codes", { body: { code: await codeAt(secret, now() + 30) }, token }), 423, "account_locked");

    const mail = await waitForMail(user.email, "second_factor_locked");
    expect(mail.text).toContain(body.locked_until.slice(0, 16).replace("T", "T"));
    const locks = await env.DB.prepare("SELECT details FROM audit_log WHERE user_id = ? AND action = 'auth.account_locked'").bind(user.id).all<{ details: string }>();
    expect(locks.results).toHaveLength(1);
    expect(JSON.parse(locks.results[0]!.details)).toMatchObject({ factor: "second_factor" });
  });

  it("a success resets the count: failures must be consecutive", async () => {
    const { user, secret } = await userWithTotp();
    const wrong = String((Number(await codeAt(secret, now())) + 500_000) % 1_000_000).padStart(6, "0");
    const fail = async (n: number) => {
      for (let done = 0; done < n; ) {
        const mfaToken = await passwordStep(user);
        const batch = Math.min(4, n - done);
        for (let i = 0; i < batch; i++, done++) await expectProblem(await verify({ mfa_token: mfaToken, code: wrong }), 401, "invalid_mfa_code");
      }
    };
    await fail(9);
    expect((await verify({ mfa_token: await passwordStep(user), code: await codeAt(secret, now()) })).status).toBe(200);
    await fail(9);
    expect((await verify({ mfa_token: await passwordStep(user), code: await codeAt(secret, now() + 30) })).status).toBe(200);
  });
});

// Issue 10, point 9: enabling checks the secret it verified in the same guarded statement.
describe("TOTP enable against a concurrent setup", () => {
  it("never enables a secret other than the one the code was verified against", async () => {
    for (let round = 0; round < 4; round++) {
      const { user, token } = await signedInUser();
      const { secret } = await setup(token);
      const sealed = async () =>
        (await env.DB.prepare("SELECT secret_encrypted, enabled FROM mfa_totp WHERE user_id = ?").bind(user.id).first<{ secret_encrypted: string; enabled: number }>())!;
      const verified = (await sealed()).secret_encrypted;
      const [enabled] = await Promise.all([
        call("auth/mfa/totp/enable", { body: { code: await codeAt(secret, now()) }, token }),
        call("auth/mfa/totp/setup", { method: "POST", token }),
      ]);
      const row = await sealed();
      if (enabled.status === 200) expect(row).toEqual({ secret_encrypted: verified, enabled: 1 });
      else {
        await expectProblem(enabled, 401, "invalid_mfa_code");
        expect(row.enabled).toBe(0);
        const me = await json<{ two_factor_enabled: boolean }>(await call("me", { token }));
        expect(me.two_factor_enabled).toBe(false);
      }
    }
  });
});

// Issue 14, point 13: each second-factor lock lasts twice as long as the one before, up to 24 h,
// until a success.
describe("second-factor locks grow", () => {
  it("30 min, 1 h, 2 h … capped at 24 h; a success starts again at 30 min", async () => {
    const { user, secret } = await userWithTotp();
    // One failure locks, and the per-token rate is out of the way: only the lock's length is under test.
    const config = { MFA_LOCKOUT_THRESHOLD: "1", RATE_MFA_PER_TOKEN: "100/300" };
    const wrong = String((Number(await codeAt(secret, now())) + 500_000) % 1_000_000).padStart(6, "0");
    const mfaToken = await passwordStep(user);
    const verifyWith = (code: string) => callWithConfig(config, "auth/mfa/verify", { body: { mfa_token: mfaToken, code }, ip: randomIp() });
    const guard = env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(`mfa:${user.id}`));
    const expireLock = () =>
      runInDurableObject(guard, (instance) => {
        const s = (instance as unknown as { state: { lockedUntil: number } }).state;
        s.lockedUntil = Date.now() - 1;
      });
    /** One wrong code (which locks), then the lock's length as the next attempt's Retry-After. */
    const lockLength = async () => {
      await expectProblem(await verifyWith(wrong), 401, "invalid_mfa_code");
      const locked = await verifyWith(wrong);
      await expectProblem(locked.clone(), 423, "account_locked");
      await expireLock();
      return Number(locked.headers.get("retry-after"));
    };
    const minutes: number[] = [];
    for (let i = 0; i < 8; i++) minutes.push(Math.round((await lockLength()) / 60));
    expect(minutes).toEqual([30, 60, 120, 240, 480, 960, 1440, 1440]);

    expect((await verifyWith(await codeAt(secret, now()))).status).toBe(200);
    const next = await passwordStep(user);
    await expectProblem(await callWithConfig(config, "auth/mfa/verify", { body: { mfa_token: next, code: wrong }, ip: randomIp() }), 401, "invalid_mfa_code");
    const locked = await callWithConfig(config, "auth/mfa/verify", { body: { mfa_token: next, code: wrong }, ip: randomIp() });
    expect(Math.round(Number(locked.headers.get("retry-after")) / 60)).toBe(30);
  });
});
