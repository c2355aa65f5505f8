import { env } from "cloudflare:workers";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { apiKeyFor, auditRows, signedInWithRole } from "./helpers/admin";
import { customRole, grantRole, orgWithMembers } from "./helpers/fixtures";
import { call, createUser, expectProblem, json, login, randomIp, signedInUser, unique, waitForMail } from "./helpers/harness";

// Issue 14, points 4–6: import cannot take over accounts, admin actions respect the superuser
// line and the last-owner rule, and legacy hashes are bounded.

interface ImportResult {
  created: number;
  updated: number;
  skipped: number;
  failed: { index: number; email: string | null; code: string }[];
}
interface BulkResult {
  succeeded: string[];
  failed: { id: string; code: string }[];
}

const importUsers = (token: string, body: unknown) => call("admin/users/import", { body, token });
const bulk = (token: string, body: unknown) => call("admin/users/bulk", { body, token });
const storedHash = async (email: string) =>
  (await env.DB.prepare("SELECT password_hash FROM users WHERE email = ?").bind(email).first<{ password_hash: string }>())!.password_hash;

/** A signed-in user whose only role carries `admin:users` alone (a custom role made in D1). */
async function usersOnlyAdmin() {
  const role = await customRole(["perm_admin_users"], "admin:users only");
  const signed = await signedInUser();
  await grantRole(signed.user.id, role);
  return signed;
}

describe("import cannot take over accounts (issue 14.4)", () => {
  it("an admin:users-only role importing an administrator with a hash of its choosing: failed forbidden, and the chosen password does not sign in", async () => {
    const attacker = await usersOnlyAdmin();
    const victim = await signedInWithRole("admin");
    const before = await storedHash(victim.user.email);
    const chosen = "attacker-chosen-password-1";
    const res = await importUsers(attacker.token, {
      mode: "upsert",
      users: [{ email: victim.user.email, full_name: victim.user.fullName, password_hash: bcrypt.hashSync(chosen, 4) }],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<ImportResult>(res)).toEqual({ created: 0, updated: 0, skipped: 0, failed: [{ index: 0, email: victim.user.email, code: "forbidden" }] });
    expect(await storedHash(victim.user.email)).toBe(before);
    await expectProblem(await call("auth/login", { body: { email: victim.user.email, password: chosen }, ip: randomIp() }), 401, "invalid_credentials");
    // The victim's own session lives on.
    expect((await call("me", { token: victim.token })).status).toBe(200);
  });

  it("a non-superuser's upsert that changes hash, status, verification or roles fails that row; unchanged values and other fields pass", async () => {
    const admin = await signedInWithRole("admin");
    const user = await createUser();
    const hash = await storedHash(user.email);
    const row = { email: user.email, full_name: user.fullName };
    for (const change of [
      { password_hash: bcrypt.hashSync("another-password-9", 4) },
      { status: "suspended" },
      { email_verified: false },
      { roles: ["moderator"] },
    ]) {
      const one = await json<ImportResult>(await importUsers(admin.token, { mode: "upsert", users: [{ ...row, full_name: "Changed Name", ...change }] }));
      expect(one, JSON.stringify(change)).toEqual({ created: 0, updated: 0, skipped: 0, failed: [{ index: 0, email: user.email, code: "forbidden" }] });
    }
    const unchanged = await db1(user.email);
    expect(unchanged).toEqual({ full_name: user.fullName, status: "active", email_verified: 1, password_hash: hash, roles: 0 });

    // The values it already has, and fields outside the protected ones: updated.
    const ok = await json<ImportResult>(
      await importUsers(admin.token, {
        mode: "upsert",
        users: [{ ...row, full_name: "New Name", account_type: "basic", password_hash: hash, status: "active", email_verified: true }],
      }),
    );
    expect(ok).toEqual({ created: 0, updated: 1, skipped: 0, failed: [] });
    expect(await db1(user.email)).toEqual({ full_name: "New Name", status: "active", email_verified: 1, password_hash: hash, roles: 0 });
    const audit = await auditRows(user.id, "admin.user_imported");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: admin.user.id });
  });

  it("a superuser's upsert changes the hash: own audit row per user, a password-changed email, sessions and API keys end at once", async () => {
    const root = await signedInWithRole("superuser");
    const { user, token } = await signedInUser();
    const key = await apiKeyFor(token);
    expect((await call("me", { apiKey: key })).status).toBe(200);
    const other = await createUser();
    const newPassword = "imported-by-root-7";
    const started = Date.now();
    const res = await importUsers(root.token, {
      mode: "upsert",
      users: [
        { email: user.email, full_name: user.fullName, password_hash: bcrypt.hashSync(newPassword, 4) },
        { email: other.email, full_name: "Renamed Other" },
      ],
    });
    expect(await json<ImportResult>(res)).toEqual({ created: 0, updated: 2, skipped: 0, failed: [] });
    await expectProblem(await call("me", { apiKey: key }), 401, "unauthenticated");
    await expectProblem(await call("me", { token }), 401, "unauthenticated");
    expect((await login({ ...user, password: newPassword }, { ip: randomIp() })).access_token).toBeTruthy();
    await waitForMail(user.email, "password_changed", { after: started - 1000 });
    for (const id of [user.id, other.id]) expect(await auditRows(id, "admin.user_imported"), id).toMatchObject([{ actor_id: root.user.id }]);
    const details = JSON.parse((await auditRows(user.id, "admin.user_imported"))[0]!.details as string);
    expect(details).toMatchObject({ password_changed: true });
  });

  it("a created user gets its own audit row too", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("imp-new")}@example.com`;
    expect((await json<ImportResult>(await importUsers(admin.token, { users: [{ email, full_name: "New One" }] }))).created).toBe(1);
    const id = (await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first<{ id: string }>())!.id;
    expect(await auditRows(id, "admin.user_imported")).toMatchObject([{ actor_id: admin.user.id }]);
  });
});

async function db1(email: string) {
  return env.DB.prepare(
    `SELECT u.full_name, u.status, u.email_verified, u.password_hash,
      (SELECT count(*) FROM user_roles ur WHERE ur.user_id = u.id) AS roles FROM users u WHERE u.email = ?`,
  )
    .bind(email)
    .first();
}

describe("admin actions respect the superuser line (issue 14.5)", () => {
  it("an admin is refused on a superuser target for every lifecycle action, unlock, PATCH, roles and bulk (per id)", async () => {
    const admin = await signedInWithRole("admin");
    const root = await signedInWithRole("superuser");
    const id = root.user.id;
    for (const action of ["activate", "deactivate", "suspend", "unlock"]) {
      await expectProblem(await call(`admin/users/${id}/${action}`, { method: "POST", token: admin.token }), 403, "forbidden");
    }
    await expectProblem(await call(`admin/users/${id}`, { method: "PATCH", body: { full_name: "Pwned" }, token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${id}/roles`, { body: { role: "moderator" }, token: admin.token }), 403, "forbidden");
    await grantRole(id, "moderator");
    await expectProblem(await call(`admin/users/${id}/roles/moderator`, { method: "DELETE", token: admin.token }), 403, "forbidden");
    for (const action of ["activate", "deactivate", "suspend", "delete"]) {
      const res = await json<BulkResult>(await bulk(admin.token, { action, user_ids: [id] }));
      expect(res, action).toEqual({ succeeded: [], failed: [{ id, code: "forbidden" }] });
    }
    expect(await auditRows(id, "admin.user_unlocked")).toHaveLength(0);
    expect((await call("me", { token: root.token })).status).toBe(200);
    // A superuser may act on a superuser.
    const root2 = await signedInWithRole("superuser");
    expect((await call(`admin/users/${id}/unlock`, { method: "POST", token: root2.token })).status).toBe(200);
  });

  it("nobody acts on their own account: unlock, PATCH, lifecycle, roles and bulk delete", async () => {
    const root = await signedInWithRole("superuser");
    const id = root.user.id;
    for (const action of ["unlock", "suspend"]) {
      await expectProblem(await call(`admin/users/${id}/${action}`, { method: "POST", token: root.token }), 403, "forbidden");
    }
    await expectProblem(await call(`admin/users/${id}`, { method: "PATCH", body: { full_name: "Me" }, token: root.token }), 403, "forbidden");
    await expectProblem(await call(`admin/users/${id}/roles`, { body: { role: "moderator" }, token: root.token }), 403, "forbidden");
    expect(await json<BulkResult>(await bulk(root.token, { action: "delete", user_ids: [id] }))).toEqual({ succeeded: [], failed: [{ id, code: "forbidden" }] });
    expect(await auditRows(id, "admin.user_unlocked")).toHaveLength(0);
  });

  it("admin delete keeps the last-owner rule: the sole owner of an organization with other members fails conflict; a co-owned one goes", async () => {
    const admin = await signedInWithRole("admin");
    const owner = await createUser();
    const member = await createUser();
    const coOwned = await createUser();
    const lonely = await createUser();
    await orgWithMembers([[owner.id, "owner"], [member.id, "member"]], { name: "Owned" });
    await orgWithMembers([[coOwned.id, "owner"], [owner.id, "owner"]], { name: "Co-owned" });
    await orgWithMembers([[lonely.id, "owner"]], { name: "Alone" });

    const res = await json<BulkResult>(await bulk(admin.token, { action: "delete", user_ids: [owner.id, coOwned.id, lonely.id] }));
    expect(res).toEqual({ succeeded: [coOwned.id, lonely.id], failed: [{ id: owner.id, code: "conflict" }] });
    const status = await env.DB.prepare("SELECT status, deletion_requested_at FROM users WHERE id = ?").bind(owner.id).first<{ status: string; deletion_requested_at: number | null }>();
    expect(status).toEqual({ status: "active", deletion_requested_at: null });
    expect(await auditRows(owner.id, "admin.user_deletion_requested")).toHaveLength(0);
    expect((await login(owner, { ip: randomIp() })).access_token).toBeTruthy();
  });
});

describe("bounded legacy hashes (issue 14.6)", () => {
  it("bcrypt cost 13, scrypt with a huge N and pbkdf2 beyond the cap fail their row with hash_too_costly; cost 12 is accepted", async () => {
    const admin = await signedInWithRole("admin");
    const base = bcrypt.hashSync("whatever-password", 4); // $2b$04$…: the cost is only read, never computed here
    const withCost = (cost: string) => `$2b$${cost}$${base.slice(7)}`;
    const hex128 = "ab".repeat(64);
    const emails = Array.from({ length: 5 }, () => `${unique("imp-cost")}@example.com`);
    const res = await importUsers(admin.token, {
      users: [
        { email: emails[0], full_name: "Cost 13", password_hash: withCost("13") },
        { email: emails[1], full_name: "Huge N", password_hash: `scrypt:1048576:8:1$salt$${hex128}` },
        { email: emails[2], full_name: "Many iterations", password_hash: `pbkdf2:sha256:50000000$salt$${"cd".repeat(32)}` },
        { email: emails[3], full_name: "Cost 12", password_hash: withCost("12") },
        { email: emails[4], full_name: "Werkzeug default scrypt", password_hash: `scrypt:32768:8:1$salt$${hex128}` },
      ],
    });
    const body = await json<ImportResult>(res);
    expect(body.failed.map((f) => [f.index, f.code])).toEqual([
      [0, "hash_too_costly"],
      [1, "hash_too_costly"],
      [2, "hash_too_costly"],
    ]);
    expect(body.created).toBe(2);
  });
});
