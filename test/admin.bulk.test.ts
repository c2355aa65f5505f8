import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertUsers } from "./helpers/fixtures";
import { apiKeyFor, signedInWithRole } from "./helpers/admin";
import { call, expectProblem, json, signedInUser } from "./helpers/harness";

interface BulkResult {
  succeeded: string[];
  failed: { id: string; code: string }[];
}

const bulk = (token: string, body: unknown) => call("admin/users/bulk", { body, token });

/** `n` users written straight into D1 in one statement (fast setup for the 500-id case). */
const usersInD1 = insertUsers;

const countWhere = async (ids: string[], where: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM users WHERE id IN (SELECT value FROM json_each(?)) AND ${where}`).bind(JSON.stringify(ids)).first<{ n: number }>())!.n;

describe("POST /admin/users/bulk", () => {
  it("suspends 3 ids with one unknown: 2 succeeded, 1 failed not_found; the two stop working at once", async () => {
    const admin = await signedInWithRole("admin");
    const a = await signedInUser();
    const b = await signedInUser();
    const keyB = await apiKeyFor(b.token);
    const res = await bulk(admin.token, { action: "suspend", user_ids: [a.user.id, "usr_unknown", b.user.id] });
    expect(res.status).toBe(200);
    expect(await json<BulkResult>(res)).toEqual({ succeeded: [a.user.id, b.user.id], failed: [{ id: "usr_unknown", code: "not_found" }] });
    await expectProblem(await call("me", { token: a.token }), 403, "account_inactive");
    await expectProblem(await call("me", { apiKey: keyB }), 403, "account_inactive");
    const audit = await env.DB.prepare("SELECT user_id, actor_id FROM audit_log WHERE action = 'admin.user_suspended' AND actor_id = ? ORDER BY user_id")
      .bind(admin.user.id)
      .all();
    expect(audit.results).toEqual([a.user.id, b.user.id].sort().map((id) => ({ user_id: id, actor_id: admin.user.id })));
  });

  it("acts on 500 ids in one request (one JSON parameter, not 500 bound ids), and one audit row per user", async () => {
    const admin = await signedInWithRole("admin");
    const ids = await usersInD1(500);
    const suspended = await json<BulkResult>(await bulk(admin.token, { action: "suspend", user_ids: ids }));
    expect(suspended.failed).toEqual([]);
    expect(suspended.succeeded).toHaveLength(500);
    expect(await countWhere(ids, "status = 'suspended'")).toBe(500);
    const audited = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'admin.user_suspended' AND user_id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(ids))
      .first<{ n: number }>();
    expect(audited!.n).toBe(500);

    const assigned = await json<BulkResult>(await bulk(admin.token, { action: "assign_role", role: "moderator", user_ids: ids }));
    expect(assigned.succeeded).toHaveLength(500);
    const search = await json<{ total: number }>(await call(`admin/users?role=moderator&status=suspended&page_size=1`, { token: admin.token }));
    expect(search.total).toBeGreaterThanOrEqual(500);

    const activated = await json<BulkResult>(await bulk(admin.token, { action: "activate", user_ids: ids }));
    expect(activated.succeeded).toHaveLength(500);
    expect(await countWhere(ids, "status = 'active'")).toBe(500);
    await expectProblem(await bulk(admin.token, { action: "activate", user_ids: [...ids, "usr_one_too_many"] }), 422, "validation_failed");
  });

  it("refuses the acting administrator itself per id, and needs a role for role actions", async () => {
    const admin = await signedInWithRole("admin");
    const other = await signedInUser();
    const res = await json<BulkResult>(await bulk(admin.token, { action: "deactivate", user_ids: [admin.user.id, other.user.id] }));
    expect(res).toEqual({ succeeded: [other.user.id], failed: [{ id: admin.user.id, code: "forbidden" }] });
    expect((await call("me", { token: admin.token })).status).toBe(200);
    await expectProblem(await bulk(admin.token, { action: "assign_role", user_ids: [other.user.id] }), 422, "validation_failed");
    await expectProblem(await bulk(admin.token, { action: "assign_role", role: "superuser", user_ids: [other.user.id] }), 403, "forbidden");
    const removed = await json<BulkResult>(await bulk(admin.token, { action: "remove_role", role: "moderator", user_ids: [other.user.id] }));
    expect(removed.failed).toEqual([{ id: other.user.id, code: "not_found" }]);
  });

  it("delete deactivates at once, requests erasure and revokes the API keys", async () => {
    const admin = await signedInWithRole("admin");
    const { user, token } = await signedInUser();
    const key = await apiKeyFor(token);
    const res = await json<BulkResult>(await bulk(admin.token, { action: "delete", user_ids: [user.id] }));
    expect(res.succeeded).toEqual([user.id]);
    const row = await env.DB.prepare("SELECT status, deletion_requested_at FROM users WHERE id = ?").bind(user.id).first<{ status: string; deletion_requested_at: number | null }>();
    expect(row!.status).toBe("inactive");
    expect(row!.deletion_requested_at).not.toBeNull();
    const keys = await env.DB.prepare("SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL").bind(user.id).first<{ n: number }>();
    expect(keys!.n).toBe(0);
    // Revoked in D1, so refused as a revoked key (401), not only as an inactive owner's.
    await expectProblem(await call("me", { apiKey: key }), 401, "unauthenticated");
    await expectProblem(await call("me", { token }), 403, "account_inactive");
  });
});
