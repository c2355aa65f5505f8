import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/platform/crypto";
import { grantRole, setUserStatus } from "./helpers/fixtures";
import { call, callAt, expectProblem, json, movableClock, signedInUser } from "./helpers/harness";

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  scopes: string[];
  allowed_ips: string[] | null;
  rate_limit_per_hour: number;
  expires_at: string | null;
  use_count: number;
  last_used_at: string | null;
}

async function createKey(token: string, body: Record<string, unknown>) {
  const res = await call("me/api-keys", { body: { name: "integration", scopes: ["read:profile"], ...body }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<CreatedKey>(res);
}

describe("POST /me/api-keys", () => {
  it("shows the key once, stores only its hash, and lists keys without secrets", async () => {
    const { user, token } = await signedInUser();
    const created = await createKey(token, { name: "CI bot", scopes: ["read:profile", "read:tenders"] });
    expect(created.key).toMatch(/^keel_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ name: "CI bot", scopes: ["read:profile", "read:tenders"], rate_limit_per_hour: 1000, allowed_ips: null, expires_at: null, use_count: 0 });

    const row = await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?").bind(created.id).first<{ key_hash: string }>();
    expect(row?.key_hash).toBe(sha256Hex(created.key));
    const list = await call("me/api-keys", { token });
    const text = await list.text();
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(row!.key_hash);
    expect(JSON.parse(text).items.map((k: { id: string }) => k.id)).toEqual([created.id]);

    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'api_key.created'").bind(user.id).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("validates scopes, IPs and expiry", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("me/api-keys", { body: { name: "x", scopes: ["root:everything"] }, token }), 422, "validation_failed");
    await expectProblem(await call("me/api-keys", { body: { name: "x", scopes: ["read:profile"], allowed_ips: ["300.1.1.1"] }, token }), 422, "validation_failed");
    await expectProblem(await call("me/api-keys", { body: { name: "x", scopes: ["read:profile"], expires_at: "2020-01-01T00:00:00Z" }, token }), 422, "validation_failed");
    await expectProblem(await call("me/api-keys", { body: { name: "x", scopes: [] }, token }), 422, "validation_failed");
  });

  it("write:tenders needs the admin:system permission", async () => {
    const { user, token } = await signedInUser();
    await expectProblem(await call("me/api-keys", { body: { name: "ingest", scopes: ["write:tenders"] }, token }), 403, "forbidden");
    await grantRole(user.id, "admin");
    expect((await call("me/api-keys", { body: { name: "ingest", scopes: ["write:tenders"] }, token })).status).toBe(201);
  });
});

describe("authenticating with an API key", () => {
  it("acts as its owner through Authorization: Bearer or X-API-Key, and counts its use", async () => {
    const { user, token } = await signedInUser();
    const { key, id } = await createKey(token, {});
    const viaBearer = await call("me", { token: key });
    expect(viaBearer.status).toBe(200);
    expect((await json<{ id: string }>(viaBearer)).id).toBe(user.id);
    expect(viaBearer.headers.get("ratelimit-limit")).toBe("1000");
    expect((await call("me", { apiKey: key })).status).toBe(200);

    const listed = await json<{ items: CreatedKey[] }>(await call("me/api-keys", { token }));
    const mine = listed.items.find((k) => k.id === id)!;
    expect(mine.use_count).toBe(2);
    expect(Date.parse(mine.last_used_at!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("outside its scopes → 403 insufficient_scope; never for keys, sessions, passwords or 2FA", async () => {
    const { token } = await signedInUser();
    const { key } = await createKey(token, { scopes: ["read:tenders"] });
    await expectProblem(await call("me", { token: key }), 403, "insufficient_scope");
    const full = await createKey(token, { scopes: ["read:profile", "write:profile"] });
    await expectProblem(await call("me/api-keys", { token: full.key }), 403, "insufficient_scope");
    await expectProblem(await call("me/api-keys", { body: { name: "y", scopes: ["read:profile"] }, token: full.key }), 403, "insufficient_scope");
    await expectProblem(await call("me/sessions", { token: full.key }), 403, "insufficient_scope");
    await expectProblem(await call("auth/logout-all", { method: "POST", token: full.key }), 403, "insufficient_scope");
    expect((await call("me", { method: "PATCH", body: { full_name: "Renamed By Key" }, token: full.key })).status).toBe(200);
  });

  it("from an IP outside allowed_ips → 403 forbidden (CIDR ranges, IPv4 and IPv6)", async () => {
    const { token } = await signedInUser();
    const { key } = await createKey(token, { allowed_ips: ["203.0.113.0/24", "2001:db8::/32"] });
    expect((await call("me", { token: key, ip: "203.0.113.77" })).status).toBe(200);
    expect((await call("me", { token: key, ip: "2001:db8:abcd::1" })).status).toBe(200);
    await expectProblem(await call("me", { token: key, ip: "198.51.100.7" }), 403, "forbidden");
    await expectProblem(await call("me", { token: key, ip: "2001:db9::1" }), 403, "forbidden");
  });

  it("over its hourly limit → 429 with Retry-After, at exactly the limit", async () => {
    const { token } = await signedInUser();
    const { key } = await createKey(token, { rate_limit_per_hour: 3 });
    for (let i = 0; i < 3; i++) expect((await call("me", { token: key })).status).toBe(200);
    const limited = await call("me", { token: key });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(limited, 429, "rate_limited");
  });

  it("revoked → 401 at once; a foreign key id → 404 like a missing one", async () => {
    const { token } = await signedInUser();
    const other = await signedInUser();
    const { key, id } = await createKey(token, {});
    const foreign = await expectProblem(await call(`me/api-keys/${id}`, { method: "DELETE", token: other.token }), 404, "not_found");
    const missing = await expectProblem(await call("me/api-keys/key_missing", { method: "DELETE", token: other.token }), 404, "not_found");
    expect({ ...foreign, request_id: 0, instance: 0 }).toEqual({ ...missing, request_id: 0, instance: 0 });
    expect((await call("me", { token: key })).status).toBe(200);
    expect((await call(`me/api-keys/${id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call("me", { token: key }), 401, "unauthenticated");
    await expectProblem(await call(`me/api-keys/${id}`, { method: "DELETE", token }), 404, "not_found");
    expect((await json<{ items: unknown[] }>(await call("me/api-keys", { token }))).items).toEqual([]);
    // The foreign attempt left no audit trace; the real revoke did.
    const audit = await env.DB.prepare("SELECT user_id FROM audit_log WHERE action = 'api_key.revoked' AND details LIKE ?").bind(`%${id}%`).all();
    expect(audit.results).toHaveLength(1);
  });

  // Issue 10, point 10: a cache refill that raced the revoke cannot bring the key back.
  it("a revoked key stays revoked after a lookup that raced the revoke re-cached it as live", async () => {
    const { token } = await signedInUser();
    const { key, id } = await createKey(token, {});
    const kv = `ak:${sha256Hex(key)}`;
    expect((await call("me", { token: key })).status).toBe(200);
    let live: string | null = null;
    for (let i = 0; i < 50 && live === null; i++) {
      live = await env.CACHE.get(kv);
      if (live === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(live).not.toBeNull();
    expect((await call(`me/api-keys/${id}`, { method: "DELETE", token })).status).toBe(204);
    // The racing lookup read D1 before the revoke and writes its record after it.
    await env.CACHE.put(kv, live!, { expirationTtl: 300 });
    await expectProblem(await call("me", { token: key }), 401, "unauthenticated");
    expect(await env.CACHE.get(`akr:${sha256Hex(key)}`)).not.toBeNull();
  });

  // Issue 10, point 10: the owner check does not rest on the KV marker alone.
  it("a suspended owner's keys stop even when the KV marker was never written", async () => {
    const { user, token } = await signedInUser();
    const { key } = await createKey(token, {});
    await setUserStatus(user.id, "suspended");
    await expectProblem(await call("me", { token: key }), 403, "account_inactive");
  });

  it("expired → 401", async () => {
    const { token } = await signedInUser();
    const clock = movableClock();
    const { key } = await createKey(token, { expires_at: new Date(clock.now().getTime() + 3000).toISOString() });
    expect((await callAt(clock, "me", { token: key })).status).toBe(200);
    clock.advance(3100);
    await expectProblem(await callAt(clock, "me", { token: key }), 401, "unauthenticated");
  });

  it("an unknown key → 401", async () => {
    await expectProblem(await call("me", { token: `keel_${"x".repeat(43)}` }), 401, "unauthenticated");
  });
});
