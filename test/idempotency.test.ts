import { describe, expect, it } from "vitest";
import { runScheduled } from "../src/jobs/cron";
import { HOUR } from "../src/platform/time";
import { call, callAt, callWithConfig, db, expectProblem, json, movableClock, signedInUser } from "./helpers/harness";
import { env } from "cloudflare:workers";

// Issue 18, point 3: Idempotency-Key on every authenticated POST, per caller, kept 24 hours.

const search = (token: string, key: string | undefined, name = "tenders in Bihar", extra: Record<string, string> = {}) =>
  call("me/saved-searches", { body: { name, query: { keywords: ["bridge"] } }, token, headers: { ...(key === undefined ? {} : { "Idempotency-Key": key }), ...extra } });

const countSearches = async (userId: string) =>
  (await db().prepare("SELECT count(*) AS n FROM saved_searches WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;

describe("Idempotency-Key", () => {
  it("replays the first response for the same key and body, with Idempotent-Replayed, and creates one row", async () => {
    const { user, token } = await signedInUser();
    const first = await search(token, "order-1");
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const created = await json<{ id: string }>(first);
    const again = await search(token, "order-1");
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("content-type")).toContain("application/json");
    expect((await json<{ id: string }>(again)).id).toBe(created.id);
    expect(await countSearches(user.id)).toBe(1);
    // The draft writes the key as a structured-field string: the quoted form is the same key.
    const quoted = await search(token, '"order-1"');
    expect(quoted.headers.get("Idempotent-Replayed")).toBe("true");
    // Without a key, or with another key, the request runs.
    expect((await search(token, undefined, "no key")).status).toBe(201);
    expect((await search(token, "order-2", "another key")).status).toBe(201);
    expect(await countSearches(user.id)).toBe(3);
  });

  it("answers 422 idempotency_key_reused for the same key with another body", async () => {
    const { user, token } = await signedInUser();
    expect((await search(token, "k")).status).toBe(201);
    await expectProblem(await search(token, "k", "another name"), 422, "idempotency_key_reused");
    expect(await countSearches(user.id)).toBe(1);
  });

  it("two identical POSTs at once create one row: the other is 409 conflict or the replay", async () => {
    const { user, token } = await signedInUser();
    const results = await Promise.all([search(token, "same"), search(token, "same"), search(token, "same")]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const fresh = results.filter((r) => r.status === 201 && r.headers.get("Idempotent-Replayed") !== "true");
    expect(fresh).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 409)) await expectProblem(r, 409, "conflict");
    expect(await countSearches(user.id)).toBe(1);
  });

  it("keys are per caller: another user's identical key runs their own request and never sees the first response", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const first = await json<{ id: string }>(await search(a.token, "shared-key"));
    const other = await search(b.token, "shared-key");
    expect(other.status).toBe(201);
    expect(other.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await json<{ id: string }>(other)).id).not.toBe(first.id);
    // Another body from B under the same key is B's own reuse question, not A's.
    expect(await countSearches(b.user.id)).toBe(1);
  });

  it("a key is kept IDEMPOTENCY_TTL_HOURS: after that the same key runs again, and the cron purges it", async () => {
    const { user, token } = await signedInUser();
    const keyRes = await call("me/api-keys", { body: { name: "sync", scopes: ["write:searches"] }, token });
    expect(keyRes.status).toBe(201);
    const apiKey = (await json<{ key: string }>(keyRes)).key;
    const clock = movableClock();
    const post = (name = "n") => callAt(clock, "me/saved-searches", { body: { name, query: { keywords: ["road"] } }, apiKey, headers: { "Idempotency-Key": "daily" } });
    expect((await post()).status).toBe(201);
    clock.advance(23 * HOUR);
    expect((await post()).headers.get("Idempotent-Replayed")).toBe("true");
    clock.advance(1 * HOUR + 1000);
    // Expired: the key is free again, even for another body.
    const later = await post("n2");
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await countSearches(user.id)).toBe(2);
    // The purge deletes rows whose 24 h are over.
    const rows = () => db().prepare("SELECT count(*) AS n FROM idempotency_keys WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect((await rows())!.n).toBe(1);
    const report = await runScheduled(env, clock.now().getTime() + 25 * HOUR);
    expect(report.purged.idempotency_keys).toBeGreaterThanOrEqual(1);
    expect((await rows())!.n).toBe(0);
  });

  it("an API key and its owner's session are different callers", async () => {
    const { user, token } = await signedInUser();
    const apiKey = (await json<{ key: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["write:searches"] }, token }))).key;
    expect((await search(token, "k1", "same")).status).toBe(201);
    const viaKey = await call("me/saved-searches", { body: { name: "same", query: { keywords: ["bridge"] } }, apiKey, headers: { "Idempotency-Key": "k1" } });
    expect(viaKey.status).toBe(201);
    expect(viaKey.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await countSearches(user.id)).toBe(2);
  });

  it("a response carrying a secret is not kept: a repeat answers 409 and nothing is created twice", async () => {
    const { user, token } = await signedInUser();
    const create = () => call("me/api-keys", { body: { name: "ci", scopes: ["read:profile"] }, token, headers: { "Idempotency-Key": "mk-key" } });
    const first = await create();
    expect(first.status).toBe(201);
    const secret = (await json<{ key: string }>(first)).key;
    const again = await create();
    const problem = await expectProblem(again, 409, "conflict");
    expect(JSON.stringify(problem)).not.toContain(secret);
    const stored = await db().prepare("SELECT body, status FROM idempotency_keys WHERE user_id = ?").bind(user.id).all<{ body: string | null; status: number }>();
    expect(stored.results).toEqual([{ body: null, status: 201 }]);
    const keys = await db().prepare("SELECT count(*) AS n FROM api_keys WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(keys!.n).toBe(1);
    // TOTP setup returns a secret too.
    const totp = () => call("auth/mfa/totp/setup", { method: "POST", token, headers: { "Idempotency-Key": "totp" } });
    expect((await totp()).status).toBe(200);
    await expectProblem(await totp(), 409, "conflict");
  });

  it("a response larger than IDEMPOTENCY_MAX_BODY_BYTES is not kept", async () => {
    const { token } = await signedInUser();
    const post = () =>
      callWithConfig({ IDEMPOTENCY_MAX_BODY_BYTES: "10" }, "me/saved-searches", { body: { name: "n", query: { keywords: ["x"] } }, token, headers: { "Idempotency-Key": "big" } });
    expect((await post()).status).toBe(201);
    await expectProblem(await post(), 409, "conflict");
  });

  it("a 4xx is final and replayed; a 5xx/429 releases the key so a retry runs", async () => {
    const { user, token } = await signedInUser();
    const bad = () => call("me/saved-searches", { body: { name: "", query: {} }, token, headers: { "Idempotency-Key": "bad" } });
    expect((await bad()).status).toBe(422);
    const replayed = await bad();
    expect(replayed.status).toBe(422);
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await countSearches(user.id)).toBe(0);
  });

  it("validates the key: empty, too long or non-printable → 400", async () => {
    const { user, token } = await signedInUser();
    await expectProblem(await search(token, ""), 400, "validation_failed");
    await expectProblem(await search(token, "x".repeat(256)), 400, "validation_failed");
    await expectProblem(await search(token, "tab\there"), 400, "validation_failed");
    expect((await search(token, "x".repeat(255))).status).toBe(201);
    expect(await countSearches(user.id)).toBe(1);
  });

  it("public POSTs ignore the header (no caller to scope it by)", async () => {
    const body = { email: "nobody-idem@example.com", password: "wrong-password-123456" };
    const one = await call("auth/login", { body, headers: { "Idempotency-Key": "login" } });
    const two = await call("auth/login", { body, headers: { "Idempotency-Key": "login" } });
    expect(one.status).toBe(401);
    expect(two.status).toBe(401);
    expect(two.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("is documented on every secured POST in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> }>(
      await call("/openapi.json"),
    );
    const posts = Object.entries(doc.paths).flatMap(([path, ops]) => (ops.post?.security ? [[path, ops.post] as const] : []));
    expect(posts.length).toBeGreaterThan(10);
    for (const [path, op] of posts) {
      expect(op.parameters?.some((p) => p.name === "Idempotency-Key" && p.in === "header"), path).toBe(true);
      expect(op.responses["409"], path).toBeDefined();
      expect(op.responses["422"], path).toBeDefined();
    }
  });
});
