import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/platform/crypto";
import { expireOneTimeTokens } from "./helpers/fixtures";
import {
  call,
  createUser,
  expectProblem,
  json,
  mailbox,
  randomIp,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
} from "./helpers/harness";

const newEmail = () => `${unique("reg")}@example.com`;

describe("POST /auth/register", () => {
  it("creates an unverified user, answers the public User shape and emails a verification link", async () => {
    const email = newEmail();
    const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Ada Lovelace", phone: "+91 98765 43210" }, ip: randomIp() });
    expect(res.status).toBe(201);
    const body = await json<{ user: Record<string, unknown>; verification_required: boolean }>(res);
    expect(body.verification_required).toBe(true);
    expect(body.user).toMatchObject({ email, email_verified: false, full_name: "Ada Lovelace", phone: "+91 98765 43210", status: "active", account_type: "free", two_factor_enabled: false, roles: ["user"], last_login_at: null });
    expect(Object.keys(body.user).sort()).toEqual(
      ["account_type", "created_at", "email", "email_verified", "full_name", "id", "last_login_at", "phone", "roles", "status", "two_factor_enabled"].sort(),
    );
    expect(JSON.stringify(body)).not.toMatch(/scrypt|hash/i);

    const mail = await waitForMail(email, "verification");
    expect(mail.subject).toBe("Verify your email address");
    expect(mail.text).toMatch(/^[\s\S]*http:\/\/127\.0\.0\.1:8787\/verify-email\?token=/);
    expect(mail.html).toContain("verify-email?token=");
    // Only the token's hash is stored.
    const token = tokenFromMail(mail);
    const stored = await env.DB.prepare("SELECT token_hash, expires_at, created_at FROM one_time_tokens WHERE user_id = ?").bind(body.user.id).first<{ token_hash: string; expires_at: number; created_at: number }>();
    expect(stored?.token_hash).toBe(sha256Hex(token));
    expect(stored!.expires_at - stored!.created_at).toBe(24 * 3600 * 1000);
  });

  it("normalises the email and refuses a taken one with 409 conflict (case-insensitive)", async () => {
    const email = newEmail();
    expect((await call("auth/register", { body: { email: `  ${email.toUpperCase()} `, password: STRONG_PASSWORD, full_name: "A" }, ip: randomIp() })).status).toBe(201);
    await expectProblem(await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "B" }, ip: randomIp() }), 409, "conflict");
  });

  it("rejects a weak password with 422 weak_password listing every broken rule", async () => {
    const body = await expectProblem(
      await call("auth/register", { body: { email: newEmail(), password: "password", full_name: "A" }, ip: randomIp() }),
      422,
      "weak_password",
    );
    const messages = body.errors!.map((e) => e.message).join(" | ");
    expect(body.errors!.length).toBeGreaterThanOrEqual(2);
    expect(messages).toMatch(/at least 15/);
    expect(messages).toMatch(/common/i);
  });

  it("rejects a password that contains the email's name", async () => {
    const local = unique("ramanujan");
    const body = await expectProblem(
      await call("auth/register", { body: { email: `${local}@example.com`, password: `my-${local}-secret-phrase`, full_name: "A" }, ip: randomIp() }),
      422,
      "weak_password",
    );
    expect(JSON.stringify(body.errors)).toMatch(/email/i);
  });

  it("rate-limits registrations per IP before hashing (429 with Retry-After)", async () => {
    const ip = randomIp();
    const attempt = () => call("auth/register", { body: { email: newEmail(), password: "short", full_name: "A" }, ip });
    // 60 per hour (with a burst of 60) is the configured limit: weak passwords fail fast (422) but still count.
    for (let i = 0; i < 60; i++) expect((await attempt()).status).toBe(422);
    const limited = await attempt();
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(limited, 429, "rate_limited");
  });
});

// Issue 10, point 13: per-IP limits that fit an office behind one address.
describe("an office behind one IP", () => {
  it("25 people of a business-plan organization register and sign in from one IP within the hour", async () => {
    const office = randomIp();
    const people: { email: string }[] = [];
    for (let i = 0; i < 25; i++) {
      const email = newEmail();
      const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: `Colleague ${i}` }, ip: office });
      expect(res.status, `registration ${i + 1}`).toBe(201);
      people.push({ email });
    }
    for (const [i, p] of people.entries()) {
      const res = await call("auth/login", { body: { email: p.email, password: STRONG_PASSWORD }, ip: office });
      // Unverified accounts: the password is right, so the answer is 403, not a limit.
      expect(res.status, `sign-in ${i + 1}`).toBe(403);
    }
  });
});

describe("email verification", () => {
  it("login before verification → 403 email_not_verified; the emailed token verifies once", async () => {
    const user = await createUser({ verified: false });
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 403, "email_not_verified");

    const token = tokenFromMail(await waitForMail(user.email, "verification"));
    const res = await call("auth/verify-email", { body: { token } });
    expect(res.status).toBe(200);
    expect((await json<{ user: { email_verified: boolean } }>(res)).user.email_verified).toBe(true);
    await expectProblem(await call("auth/verify-email", { body: { token } }), 400, "validation_failed");
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip })).status).toBe(200);

    const audit = await env.DB.prepare("SELECT action FROM audit_log WHERE user_id = ? ORDER BY id").bind(user.id).all<{ action: string }>();
    expect(audit.results.map((r) => r.action)).toEqual(expect.arrayContaining(["user.registered", "user.email_verified", "auth.login_succeeded"]));
  });

  it("an expired or unknown token → 400 validation_failed", async () => {
    const user = await createUser({ verified: false });
    const token = tokenFromMail(await waitForMail(user.email, "verification"));
    await expireOneTimeTokens(user.id);
    await expectProblem(await call("auth/verify-email", { body: { token } }), 400, "validation_failed");
    await expectProblem(await call("auth/verify-email", { body: { token: "x".repeat(43) } }), 400, "validation_failed");
  });

  it("resend answers 202 whether or not the account exists, and only the newest link works", async () => {
    const user = await createUser({ verified: false });
    const first = tokenFromMail(await waitForMail(user.email, "verification"));
    const unknown = await call("auth/resend-verification", { body: { email: newEmail() } });
    const known = await call("auth/resend-verification", { body: { email: user.email } });
    expect([unknown.status, known.status]).toEqual([202, 202]);
    expect(await unknown.text()).toBe(await known.text());

    let mails = await mailbox(user.email);
    for (let i = 0; i < 50 && mails.filter((m) => m.template === "verification").length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      mails = await mailbox(user.email);
    }
    const verifications = mails.filter((m) => m.template === "verification");
    expect(verifications).toHaveLength(2);
    const second = tokenFromMail(verifications[0]!);
    expect(second).not.toBe(first);
    await expectProblem(await call("auth/verify-email", { body: { token: first } }), 400, "validation_failed");
    expect((await call("auth/verify-email", { body: { token: second } })).status).toBe(200);
  });
});
