import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiKeyFor, auditRows, signedInWithRole } from "./helpers/admin";
import { grantRole, recordEngagement } from "./helpers/fixtures";
import { call, createUser, expectProblem, json, login, signedInUser, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

interface Op {
  method: string;
  path: string;
}

/** Every documented admin operation, with placeholder path ids. */
async function adminOperations(): Promise<Op[]> {
  const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call("/openapi.json"));
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith("/api/v1/admin/"))
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "x_missing") })));
}

describe("admin guard", () => {
  it("a signed-in user without an admin role gets 403 on every admin route", async () => {
    const { token } = await signedInUser();
    const ops = await adminOperations();
    expect(ops.length).toBeGreaterThanOrEqual(17);
    for (const op of ops) {
      const res = await call(op.path, { method: op.method, token, ...(["POST", "PATCH", "PUT"].includes(op.method) ? { body: {} } : {}) });
      expect(`${op.method} ${op.path} → ${res.status}`).toBe(`${op.method} ${op.path} → 403`);
      await expectProblem(res, 403, "forbidden");
    }
  });

  it("an admin role assigned through the API with an expiry in the past grants nothing; a future one grants at once", async () => {
    const admin = await signedInWithRole("admin");
    const { user, token } = await signedInUser();
    const past = await call(`admin/users/${user.id}/roles`, { body: { role: "admin", expires_at: new Date(Date.now() - 60_000).toISOString() }, token: admin.token });
    expect(past.status).toBe(201);
    expect(await json(past)).toMatchObject({ role: "admin", active: false });
    await expectProblem(await call("admin/users", { token }), 403, "forbidden");
    await expectProblem(await call("admin/roles", { token }), 403, "forbidden");

    const future = await call(`admin/users/${user.id}/roles`, { body: { role: "admin", expires_at: new Date(Date.now() + 3_600_000).toISOString() }, token: admin.token });
    expect(await json(future)).toMatchObject({ role: "admin", active: true });
    expect((await call("admin/users", { token })).status).toBe(200);
    expect((await auditRows(user.id, "role.assigned")).map((r) => r.actor_id)).toEqual([admin.user.id, admin.user.id]);

    expect((await call(`admin/users/${user.id}/roles/admin`, { method: "DELETE", token: admin.token })).status).toBe(204);
    await expectProblem(await call("admin/users", { token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${user.id}/roles/admin`, { method: "DELETE", token: admin.token }), 404, "not_found");
    expect(await auditRows(user.id, "role.removed")).toHaveLength(1);
  });

  it("only a superuser grants superuser; nobody grants roles to themselves", async () => {
    const admin = await signedInWithRole("admin");
    const root = await signedInWithRole("superuser");
    const target = await createUser();
    await expectProblem(await call(`admin/users/${target.id}/roles`, { body: { role: "superuser" }, token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${admin.user.id}/roles`, { body: { role: "moderator" }, token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${target.id}/roles`, { body: { role: "no-such-role" }, token: admin.token }), 422, "validation_failed");
    expect((await call(`admin/users/${target.id}/roles`, { body: { role: "superuser" }, token: root.token })).status).toBe(201);
    // …and an admin cannot act on the superuser's account.
    await expectProblem(await call(`admin/users/${target.id}/suspend`, { method: "POST", token: admin.token }), 403, "forbidden");
  });
});

describe("roles", () => {
  it("lists the built-in roles with their permissions; creates, edits and deletes a custom role", async () => {
    const admin = await signedInWithRole("admin");
    const list = await json<{ items: { name: string; is_builtin: boolean; permissions: string[] }[] }>(await call("admin/roles", { token: admin.token }));
    const superuser = list.items.find((r) => r.name === "superuser")!;
    expect(superuser).toMatchObject({ is_builtin: true });
    expect(superuser.permissions).toContain("write:all");

    const name = unique("support").toLowerCase();
    const created = await call("admin/roles", { body: { name, description: "Support desk", permissions: ["read:all", "admin:audit"] }, token: admin.token });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ name, is_builtin: false, permissions: ["admin:audit", "read:all"], users: 0 });
    await expectProblem(await call("admin/roles", { body: { name, permissions: [] }, token: admin.token }), 409, "conflict");
    await expectProblem(await call("admin/roles", { body: { name: `${name}x`, permissions: ["root:all"] }, token: admin.token }), 422, "validation_failed");
    // An admin lacks write:all, so it cannot put it on a role.
    await expectProblem(await call("admin/roles", { body: { name: `${name}y`, permissions: ["write:all"] }, token: admin.token }), 403, "forbidden");

    const put = await call(`admin/roles/${name}/permissions`, { method: "PUT", body: { permissions: ["read:own"] }, token: admin.token });
    expect(await json(put)).toMatchObject({ permissions: ["read:own"] });
    expect((await call(`admin/roles/${name}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    await expectProblem(await call(`admin/roles/${name}`, { method: "DELETE", token: admin.token }), 404, "not_found");

    const audit = await json<{ items: { action: string; actor_id: string; details: { role?: string } }[] }>(
      await call(`admin/audit?action=role.*`, { token: admin.token }),
    );
    expect(audit.items.filter((e) => e.details.role === name).map((e) => e.action)).toEqual(["role.deleted", "role.permissions_changed", "role.created"]);
    expect(audit.items.every((e) => e.actor_id === admin.user.id || e.details.role !== name)).toBe(true);
  });

  it("built-in roles cannot be deleted, superuser cannot be weakened, and user cannot carry admin permissions", async () => {
    const root = await signedInWithRole("superuser");
    for (const role of ["user", "moderator", "admin", "superuser"]) {
      await expectProblem(await call(`admin/roles/${role}`, { method: "DELETE", token: root.token }), 409, "conflict");
    }
    await expectProblem(await call("admin/roles/superuser/permissions", { method: "PUT", body: { permissions: ["read:own"] }, token: root.token }), 409, "conflict");
    await expectProblem(await call("admin/roles/user/permissions", { method: "PUT", body: { permissions: ["read:own", "admin:users"] }, token: root.token }), 409, "conflict");
    const roles = await json<{ items: { name: string; permissions: string[] }[] }>(await call("admin/roles", { token: root.token }));
    expect(roles.items.find((r) => r.name === "superuser")!.permissions).toHaveLength(8);
  });
});

describe("user lifecycle", () => {
  it("suspending a user stops its access token, refresh token and API key at once; activating restores sign-in", async () => {
    const admin = await signedInWithRole("admin");
    const { user, tokens, token } = await signedInUser();
    const key = await apiKeyFor(token);
    expect((await call("me", { apiKey: key })).status).toBe(200);

    const res = await call(`admin/users/${user.id}/suspend`, { method: "POST", token: admin.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: user.id, status: "suspended" });
    await expectProblem(await call("me", { token }), 403, "account_inactive");
    await expectProblem(await call("me", { apiKey: key }), 403, "account_inactive");
    expect((await call("auth/refresh", { body: { refresh_token: tokens.refresh_token } })).status).toBe(401);
    expect(await auditRows(user.id, "admin.user_suspended")).toMatchObject([{ actor_id: admin.user.id }]);

    expect((await call(`admin/users/${user.id}/activate`, { method: "POST", token: admin.token })).status).toBe(200);
    // The old session stays ended; a new sign-in works, and so does the key.
    await expectProblem(await call("me", { token }), 401, "unauthenticated");
    expect((await call("me", { token: (await login(user)).access_token })).status).toBe(200);
    expect((await call("me", { apiKey: key })).status).toBe(200);
  });

  it("an administrator cannot deactivate itself; unknown ids are 404", async () => {
    const admin = await signedInWithRole("admin");
    await expectProblem(await call(`admin/users/${admin.user.id}/deactivate`, { method: "POST", token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/usr_nobody/deactivate`, { method: "POST", token: admin.token }), 404, "not_found");
    await expectProblem(await call(`admin/users/usr_nobody`, { token: admin.token }), 404, "not_found");
    await expectProblem(await call(`admin/users/usr_nobody`, { method: "PATCH", body: { full_name: "x" }, token: admin.token }), 404, "not_found");
  });

  it("unlock clears the failed sign-in state", async () => {
    const admin = await signedInWithRole("admin");
    const user = await createUser();
    // The lock lives in the SignInGuard object of the email: reach it the way an attacker would.
    for (let i = 0; i < 5; i++) {
      await expectProblem(await call("auth/login", { body: { email: user.email, password: "not-the-password-at-all" }, ip: user.ip }), 401, "invalid_credentials");
    }
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 423, "account_locked");
    expect((await call(`admin/users/${user.id}/unlock`, { method: "POST", token: admin.token })).status).toBe(200);
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip })).status).toBe(200);
    expect(await auditRows(user.id, "admin.user_unlocked")).toHaveLength(1);
  });

  it("PATCH changes fields; a status change ends the sessions like the lifecycle route", async () => {
    const admin = await signedInWithRole("admin");
    const { user, token } = await signedInUser();
    const res = await call(`admin/users/${user.id}`, { method: "PATCH", body: { full_name: "Renamed Person", account_type: "premium", status: "inactive" }, token: admin.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ full_name: "Renamed Person", account_type: "premium", status: "inactive", sessions: { active: 0 } });
    await expectProblem(await call("me", { token }), 403, "account_inactive");
    await expectProblem(await call(`admin/users/${user.id}`, { method: "PATCH", body: { password_hash: "x" }, token: admin.token }), 422, "validation_failed");
    expect(await auditRows(user.id, "admin.user_updated")).toMatchObject([{ actor_id: admin.user.id }]);
  });

  it("the admin view shows roles with expiry, sessions, 2FA and lock state, and no secret", async () => {
    const admin = await signedInWithRole("admin");
    const { user, token } = await signedInUser();
    await grantRole(user.id, "moderator", Date.now() + 86_400_000);
    const key = await apiKeyFor(token, ["read:profile", "read:favorites"]);
    const res = await call(`admin/users/${user.id}`, { token: admin.token });
    const body = await res.text();
    const view = JSON.parse(body) as Record<string, unknown>;
    expect(view).toMatchObject({
      id: user.id,
      roles: ["user", "moderator"],
      password_set: true,
      two_factor_enabled: false,
      locked_until: null,
      sessions: { active: 1 },
      profile: { timezone: "Asia/Kolkata" },
    });
    expect((view.role_assignments as { role: string; expires_at: string | null }[])[0]).toMatchObject({ role: "moderator", active: true });
    expect(JSON.stringify(view)).not.toMatch(/password_hash|\$scrypt|secret/);
    // The live session and key are listed, by their visible parts only.
    const sessionsList = view.sessions_list as { id: string; created_at: string; expires_at: string }[];
    expect(sessionsList).toHaveLength(1);
    expect(sessionsList[0]).toMatchObject({ id: expect.any(String), created_at: expect.any(String), expires_at: expect.any(String) });
    const keys = view.api_keys_list as { name: string; prefix: string; scopes: string[] }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ name: "k", last_used_at: null, expires_at: null });
    expect([...keys[0]!.scopes].sort()).toEqual(["read:favorites", "read:profile"]);
    expect(key.startsWith(keys[0]!.prefix)).toBe(true);
    expect(view).toMatchObject({ api_keys: { active: 1 } });
    expect(body).not.toMatch(/key_hash|token_hash|keyHash|tokenHash/);
    expect(body).not.toContain(key);
  });
});

describe("POST /admin/users", () => {
  it("creates a verified user with a policy-checked password", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("made")}@example.com`;
    await expectProblem(await call("admin/users", { body: { email, full_name: "Made Here", password: "short" }, token: admin.token }), 422, "weak_password");
    const res = await call("admin/users", { body: { email, full_name: "Made Here", password: STRONG_PASSWORD, email_verified: true, account_type: "basic" }, token: admin.token });
    expect(res.status).toBe(201);
    const made = await json<{ id: string; account_type: string; email_verified: boolean; profile: unknown }>(res);
    expect(made).toMatchObject({ account_type: "basic", email_verified: true });
    expect(made.profile).not.toBeNull();
    expect((await call("auth/login", { body: { email, password: STRONG_PASSWORD } })).status).toBe(200);
    await expectProblem(await call("admin/users", { body: { email, full_name: "Again" }, token: admin.token }), 409, "conflict");
    expect(await auditRows(made.id, "admin.user_created")).toMatchObject([{ actor_id: admin.user.id }]);
  });

  it("without a password: no password signs in until the emailed single-use link sets one", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("invited")}@example.com`;
    const res = await call("admin/users", { body: { email, full_name: "Invited Person" }, token: admin.token });
    expect(res.status).toBe(201);
    const made = await json<{ id: string; password_set: boolean }>(res);
    expect(made.password_set).toBe(false);
    for (const password of ["!no-password", "", STRONG_PASSWORD]) {
      expect((await call("auth/login", { body: { email, password: password || "x" } })).status).toBe(401);
    }
    const mail = await waitForMail(email, "account_invite");
    expect(mail.text).toContain("/reset-password?token=");
    const token = tokenFromMail(mail);
    expect((await call("auth/password/reset", { body: { token, new_password: STRONG_PASSWORD } })).status).toBe(204);
    expect((await call("auth/password/reset", { body: { token, new_password: "another-long-passphrase-9" } })).status).toBe(400);
    // The link proved the mailbox: the account is verified and signs in.
    expect((await call("auth/login", { body: { email, password: STRONG_PASSWORD } })).status).toBe(200);
    await expectProblem(await call(`admin/users/${made.id}/resend-invite`, { method: "POST", token: admin.token }), 409, "conflict");
  });
});

describe("GET /admin/audit and /admin/stats", () => {
  it("filters by user, action (exact or prefix) and time, newest first, with a cursor", async () => {
    const admin = await signedInWithRole("admin");
    const { user } = await signedInUser();
    const t0 = new Date(Date.now() - 1).toISOString();
    for (const action of ["suspend", "activate", "deactivate"]) {
      expect((await call(`admin/users/${user.id}/${action}`, { method: "POST", token: admin.token })).status).toBe(200);
    }
    const page = (q: string) => call(`admin/audit?${q}`, { token: admin.token }).then((r) => json<{ items: { action: string; user_id: string; actor_id: string }[]; next_cursor: string | null }>(r));
    const admins = await page(`user_id=${user.id}&action=admin.*`);
    expect(admins.items.map((e) => e.action)).toEqual(["admin.user_deactivated", "admin.user_activated", "admin.user_suspended"]);
    expect(admins.items.every((e) => e.actor_id === admin.user.id)).toBe(true);
    expect((await page(`user_id=${user.id}&action=admin.user_activated`)).items).toHaveLength(1);
    expect((await page(`user_id=${user.id}&action=auth.login_succeeded&since=${encodeURIComponent(t0)}`)).items).toHaveLength(0);
    expect((await page(`user_id=${user.id}&action=auth.login_succeeded&until=${encodeURIComponent(t0)}`)).items).toHaveLength(1);

    const first = await page(`user_id=${user.id}&limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await page(`user_id=${user.id}&limit=2&cursor=${first.next_cursor}`);
    const all = await page(`user_id=${user.id}&limit=100`);
    expect([...first.items, ...second.items]).toEqual(all.items.slice(0, 4));
    await expectProblem(await call("admin/audit?cursor=bogus", { token: admin.token }), 422, "validation_failed");
    // The audit log needs admin:audit.
    const { token } = await signedInUser();
    await expectProblem(await call("admin/audit", { token }), 403, "forbidden");
  });

  it("stats count users, sign-ins per day (30 days, zero-filled) and engagement", async () => {
    const admin = await signedInWithRole("admin");
    const u = await createUser();
    const today = new Date().toISOString().slice(0, 10);
    await recordEngagement(u.id, today, { login_count: 1, engagement_score: 30 });
    await recordEngagement(admin.user.id, today, { login_count: 1, engagement_score: 5 });
    const stats = await json<{
      total_users: number;
      verified_users: number;
      new_users_30d: number;
      logins_by_day: { date: string; logins: number }[];
      new_users_by_day: { date: string; users: number }[];
      engagement: { users_with_activity_30d: number; average_score: number; score_distribution: { bucket: string; users: number }[] };
    }>(await call("admin/stats", { token: admin.token }));
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM users").all<{ n: number }>();
    expect(stats.total_users).toBe(results[0]!.n);
    expect(stats.new_users_30d).toBe(stats.total_users);
    expect(stats.logins_by_day).toHaveLength(30);
    expect(stats.logins_by_day.at(-1)).toMatchObject({ date: today });
    expect(stats.logins_by_day.at(-1)!.logins).toBeGreaterThanOrEqual(1);
    expect(stats.logins_by_day[0]!.logins).toBe(0);
    // New users per day: the same 30 days. Every user of this file was created while it ran, which
    // is today or, when the run crosses midnight UTC, yesterday; the rest of the window is zero.
    expect(stats.new_users_by_day.map((d) => d.date)).toEqual(stats.logins_by_day.map((d) => d.date));
    expect(stats.new_users_by_day.at(-1)).toMatchObject({ date: today });
    expect(stats.new_users_by_day.reduce((sum, d) => sum + d.users, 0)).toBe(stats.total_users);
    expect(stats.new_users_by_day.slice(0, -2).every((d) => d.users === 0)).toBe(true);
    expect(stats.engagement.users_with_activity_30d).toBe(2);
    expect(stats.engagement.average_score).toBe(17.5);
    expect(stats.engagement.score_distribution).toEqual([
      { bucket: "0-10", users: 1 },
      { bucket: "10-25", users: 0 },
      { bucket: "25-50", users: 1 },
      { bucket: "50-100", users: 0 },
      { bucket: "100+", users: 0 },
    ]);
  });
});
