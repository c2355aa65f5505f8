import { env } from "cloudflare:workers";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { auditRows, signedInWithRole } from "./helpers/admin";
import { call, codeAt, enablingCode, createUser, db, expectProblem, json, login, OTHER_PASSWORD, randomIp, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";

interface ImportResult {
  created: number;
  updated: number;
  skipped: number;
  failed: { index: number; email: string | null; code: string }[];
}

/** Werkzeug's `generate_password_hash(pw, "pbkdf2:sha256:<iterations>")`, computed independently with WebCrypto. */
async function werkzeugPbkdf2(password: string, salt: string, iterations = 1000): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: enc.encode(salt), iterations }, key, 256);
  const hex = [...new Uint8Array(bits)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `pbkdf2:sha256:${iterations}$${salt}$${hex}`;
}

const storedHash = async (email: string) =>
  (await db().prepare("SELECT password_hash FROM users WHERE email = ?").bind(email).first<{ password_hash: string }>())!.password_hash;

const importUsers = (token: string, body: unknown) => call("admin/users/import", { body, token });

describe("POST /admin/users/import", () => {
  it("imports bcrypt, Werkzeug and hash-less users: old passwords sign in and are rehashed; the third sets a password from the email", async () => {
    const admin = await signedInWithRole("admin");
    const [a, b, c] = [unique("imp-a"), unique("imp-b"), unique("imp-c")].map((p) => `${p}@example.com`) as [string, string, string];
    const pwA = "old-bcrypt-password-1";
    const pwB = "old-werkzeug-password-2";
    const users = [
      { email: a, full_name: "Alpha", password_hash: bcrypt.hashSync(pwA, 4), email_verified: true, profile: { company_name: "Alpha Infra", operating_states: ["Bihar"] } },
      { email: b, full_name: "Beta", password_hash: await werkzeugPbkdf2(pwB, "NaCl1234"), email_verified: true, account_type: "premium", created_at: "2020-01-02T03:04:05Z" },
      { email: c, full_name: "Gamma", phone: "+91 98765 43210" },
    ];
    const res = await importUsers(admin.token, { mode: "skip", users });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<ImportResult>(res)).toEqual({ created: 3, updated: 0, skipped: 0, failed: [] });

    expect(await storedHash(a)).toMatch(/^\$2b\$04\$/);
    expect(await storedHash(b)).toMatch(/^pbkdf2:sha256:1000\$/);
    for (const [email, password] of [[a, pwA], [b, pwB]] as const) {
      const login = await call("auth/login", { body: { email, password }, ip: randomIp() });
      expect(login.status, await login.clone().text()).toBe(200);
      expect(await storedHash(email)).toMatch(/^\$scrypt\$/);
      // And the rehashed password still works.
      expect((await call("auth/login", { body: { email, password }, ip: randomIp() })).status).toBe(200);
    }

    // Profile, account type and created_at arrived.
    const me = await call("auth/login", { body: { email: b, password: pwB }, ip: randomIp() });
    const bUser = (await json<{ user: { account_type: string; created_at: string } }>(me)).user;
    expect(bUser.account_type).toBe("premium");
    expect(bUser.created_at).toBe("2020-01-02T03:04:05.000Z");
    const aLogin = await json<{ access_token: string }>(await call("auth/login", { body: { email: a, password: pwA }, ip: randomIp() }));
    const profile = await json<{ company_name: string; operating_states: string[]; timezone: string }>(await call("me/profile", { token: aLogin.access_token }));
    expect(profile).toMatchObject({ company_name: "Alpha Infra", operating_states: ["Bihar"], timezone: "Asia/Kolkata" });

    // The hash-less user cannot sign in, gets a set-password email, and the token works once.
    await expectProblem(await call("auth/login", { body: { email: c, password: OTHER_PASSWORD }, ip: randomIp() }), 401, "invalid_credentials");
    const token = tokenFromMail(await waitForMail(c, "account_invite"));
    expect((await call("auth/password/reset", { body: { token, new_password: OTHER_PASSWORD } })).status).toBe(204);
    expect((await call("auth/login", { body: { email: c, password: OTHER_PASSWORD }, ip: randomIp() })).status).toBe(200);

    // ONE audit event for the request, by the administrator, with the counts.
    const events = (await db().prepare("SELECT * FROM audit_log WHERE actor_id = ? AND action = 'admin.users_imported'").bind(admin.user.id).all<{ details: string }>()).results;
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details)).toMatchObject({ mode: "skip", created: 3, updated: 0, skipped: 0, failed: 0, invited: 1 });

    // Re-importing the same rows with mode skip changes nothing.
    const again = await importUsers(admin.token, { mode: "skip", users });
    expect(await json<ImportResult>(again)).toEqual({ created: 0, updated: 0, skipped: 3, failed: [] });
    expect(await storedHash(a)).toMatch(/^\$scrypt\$/);
  });

  it("fails only the bad rows: malformed hash, bad shape, duplicate email, unknown role", async () => {
    const admin = await signedInWithRole("admin");
    const ok = `${unique("imp-ok")}@example.com`;
    const bad = `${unique("imp-bad")}@example.com`;
    const res = await importUsers(admin.token, {
      users: [
        { email: bad, full_name: "Bad Hash", password_hash: "$2b$10$tooshort" },
        { email: ok, full_name: "Fine", roles: ["moderator"] },
        { email: "not-an-email", full_name: "Bad Email" },
        { email: ok, full_name: "Twice" },
        { email: `${unique("imp-r")}@example.com`, full_name: "Role", roles: ["no-such-role"] },
        { email: `${unique("imp-x")}@example.com`, full_name: "Extra", unknown_field: 1 },
        { email: `${unique("imp-w")}@example.com`, full_name: "Werkzeug typo", password_hash: "pbkdf2:sha256:1000$salt$xyz" },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<ImportResult>(res);
    expect(body.created).toBe(1);
    expect(body.failed.map((f) => [f.index, f.code])).toEqual([
      [0, "invalid_password_hash"],
      [2, "validation_failed"],
      [3, "duplicate_in_request"],
      [4, "unknown_role"],
      [5, "validation_failed"],
      [6, "invalid_password_hash"],
    ]);
    expect(body.failed[0]!.email).toBe(bad);
    expect(await db().prepare("SELECT 1 FROM users WHERE email = ?").bind(bad).first()).toBeNull();
    const roles = await db()
      .prepare("SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id WHERE u.email = ?")
      .bind(ok)
      .all<{ name: string }>();
    expect(roles.results.map((r) => r.name)).toEqual(["moderator"]);
  });

  it("upsert updates existing users' fields (the hash only when given) and never the administrator's own account", async () => {
    // Changing a hash or a status on upsert is a superuser's (issue 14.4; see admin.trust.test.ts).
    const admin = await signedInWithRole("superuser");
    const email = `${unique("imp-up")}@example.com`;
    const first = await importUsers(admin.token, { users: [{ email, full_name: "Before", password_hash: bcrypt.hashSync("first-password-1", 4) }] });
    expect((await json<ImportResult>(first)).created).toBe(1);
    const hashBefore = await storedHash(email);

    const res = await importUsers(admin.token, {
      mode: "upsert",
      users: [
        { email, full_name: "After", account_type: "basic", profile: { designation: "Director" } },
        { email: admin.user.email, full_name: "Me myself" },
      ],
    });
    expect(await json<ImportResult>(res)).toEqual({ created: 0, updated: 1, skipped: 0, failed: [{ index: 1, email: admin.user.email, code: "forbidden" }] });
    const row = await db()
      .prepare("SELECT u.full_name, u.account_type, u.password_hash, p.designation FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE u.email = ?")
      .bind(email)
      .first<Record<string, string>>();
    expect(row).toEqual({ full_name: "After", account_type: "basic", password_hash: hashBefore, designation: "Director" });

    const newHash = bcrypt.hashSync("second-password-2", 4);
    await importUsers(admin.token, { mode: "upsert", users: [{ email, full_name: "After", password_hash: newHash, status: "suspended" }] });
    expect(await storedHash(email)).toBe(newHash);
    await expectProblem(await call("auth/login", { body: { email, password: "second-password-2" }, ip: randomIp() }), 403, "account_inactive");
  });

  it("upsert with a new password_hash ends the user's sessions, as a password change does; the stored hash again ends nothing", async () => {
    const admin = await signedInWithRole("superuser");
    const user = await createUser();
    const [a, b] = [await login(user), await login(user)];
    const upsert = (passwordHash: string) => importUsers(admin.token, { mode: "upsert", users: [{ email: user.email, full_name: user.fullName, password_hash: passwordHash }] });

    // The hash it already has (a keel hash, kept as it is): no password changes, the sessions live.
    expect(await json<ImportResult>(await upsert(await storedHash(user.email)))).toMatchObject({ updated: 1, failed: [] });
    expect((await call("me", { token: a.access_token })).status).toBe(200);

    const newPassword = "imported-password-3";
    expect(await json<ImportResult>(await upsert(bcrypt.hashSync(newPassword, 4)))).toMatchObject({ updated: 1, failed: [] });
    for (const session of [a, b]) {
      await expectProblem(await call("auth/refresh", { body: { refresh_token: session.refresh_token } }), 401, "unauthenticated");
      await expectProblem(await call("me", { token: session.access_token }), 401, "unauthenticated");
      // Published to KV for the other locations (README "Consistency windows": revocation).
      expect(await env.CACHE.get(`rs:${session.session_id}`)).toBe("1");
    }
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }), 401, "invalid_credentials");
    const fresh = await login({ ...user, password: newPassword }, { ip: randomIp() });
    expect((await call("me", { token: fresh.access_token })).status).toBe(200);
  });

  it("upsert with a new password_hash also spends a second sign-in step opened with the old password", async () => {
    const admin = await signedInWithRole("superuser");
    const { user, token } = await signedInUser();
    const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    const nowS = () => Math.floor(Date.now() / 1000);
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token })).status).toBe(200);
    const step = await json<{ mfa_token: string }>(await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() }));
    expect(step.mfa_token).toBeTruthy();

    await importUsers(admin.token, { mode: "upsert", users: [{ email: user.email, full_name: user.fullName, password_hash: bcrypt.hashSync("imported-password-4", 4) }] });
    await expectProblem(await call("auth/mfa/verify", { body: { mfa_token: step.mfa_token, code: await codeAt(secret, nowS()) }, ip: randomIp() }), 401, "unauthenticated");
  });

  it("imports 1,000 users in one request", async () => {
    const admin = await signedInWithRole("admin");
    const hash = bcrypt.hashSync("shared-import-password", 4);
    const run = unique("bulk");
    const users = Array.from({ length: 1000 }, (_, i) => ({
      email: `${run}-${i}@example.com`,
      full_name: `Bulk ${i}`,
      ...(i % 10 === 0 ? {} : { password_hash: hash }),
      ...(i % 7 === 0 ? { profile: { company_name: `Company ${i}`, operating_states: ["Bihar", "Goa"] } } : {}),
    }));
    const res = await importUsers(admin.token, { users });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<ImportResult>(res)).toEqual({ created: 1000, updated: 0, skipped: 0, failed: [] });
    const counts = await db()
      .prepare(
        `SELECT count(*) AS users, sum(p.user_id IS NOT NULL) AS profiles, sum(pr.user_id IS NOT NULL) AS prefs, sum(u.password_hash = '!no-password') AS invited
         FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id LEFT JOIN user_preferences pr ON pr.user_id = u.id WHERE u.email LIKE ?`,
      )
      .bind(`${run}-%`)
      .first<Record<string, number>>();
    expect(counts).toEqual({ users: 1000, profiles: 1000, prefs: 1000, invited: 100 });
    const company = await db().prepare("SELECT p.company_name FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE u.email = ?").bind(`${run}-7@example.com`).first();
    expect(company).toEqual({ company_name: "Company 7" });
  });

  it("needs admin:users, and rejects more than 1,000 rows as a whole", async () => {
    const plain = await signedInUser();
    await expectProblem(await importUsers(plain.token, { users: [{ email: "x@example.com", full_name: "X" }] }), 403, "forbidden");
    const admin = await signedInWithRole("admin");
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ email: `t${i}@example.com`, full_name: "T" }));
    await expectProblem(await importUsers(admin.token, { users: tooMany }), 422, "validation_failed");
    expect(await auditRows(admin.user.id, "admin.users_imported")).toHaveLength(0);
  });
});
