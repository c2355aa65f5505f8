import { describe, expect, it } from "vitest";
import { call, createUser, json, signedInUser } from "./helpers/harness";

// Issue 20, point 5: every request reads through a D1 session (the Sessions API), and the
// response carries X-D1-Bookmark so the client's next request reads its own writes.
//
// What these tests can prove locally: the session path runs (workerd's withSession, miniflare's
// commit tokens), the header round-trips, a malformed header is ignored, a route that must be fresh
// works without one, and CORS lets a browser read the header. What they cannot prove: that a replica
// serves a read, or that a bookmark holds a lagging replica back — local D1 has one instance, so
// every read sees every write whatever the session. src/platform/d1-session.test.ts pins the choice
// of constraint per route (first-primary for writes, auth, admin; the client's bookmark or
// first-unconstrained for other reads).

const APP = "http://localhost:3000";
/** The shape of a D1 bookmark (the same as a Durable Object storage bookmark). */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
const bookmarkOf = (res: Response) => res.headers.get("x-d1-bookmark");
const saveSearch = (token: string, name: string, headers: Record<string, string> = {}) =>
  call("me/saved-searches", { body: { name, query: { keywords: ["bridge"] } }, token, headers });

describe("D1 sessions: X-D1-Bookmark", () => {
  it("a write answers with a bookmark; a read sent with it sees the write and answers with a bookmark no older", async () => {
    const { token } = await signedInUser();
    const created = await saveSearch(token, "culverts");
    expect(created.status).toBe(201);
    const after = bookmarkOf(created);
    expect(after).toMatch(BOOKMARK);

    const read = await call("me/saved-searches", { token, headers: { "X-D1-Bookmark": after! } });
    expect(read.status).toBe(200);
    const names = (await json<{ items: { name: string }[] }>(read)).items.map((s) => s.name);
    expect(names).toContain("culverts");
    const next = bookmarkOf(read);
    expect(next).toMatch(BOOKMARK);
    // Bookmarks order lexicographically (fixed-width hex): the read's is not older than the write's.
    expect(next! >= after!).toBe(true);
  });

  it("each later write moves the bookmark forward", async () => {
    const { token } = await signedInUser();
    const first = bookmarkOf(await saveSearch(token, "one"))!;
    const second = bookmarkOf(await saveSearch(token, "two", { "X-D1-Bookmark": first }))!;
    expect(second).toMatch(BOOKMARK);
    expect(second > first).toBe(true);
  });

  it("ignores a malformed bookmark (and the constraint words): the request answers as without one, never echoing it", async () => {
    const { token } = await signedInUser();
    await saveSearch(token, "kept");
    for (const bad of ["garbage", "first-primary", "first-unconstrained", "0000000a-00000008", "'; DROP TABLE users; --", `${"0".repeat(8)}-${"0".repeat(8)}-${"0".repeat(8)}-${"z".repeat(32)}`]) {
      const res = await call("me/saved-searches", { token, headers: { "X-D1-Bookmark": bad } });
      expect(res.status, bad).toBe(200);
      expect((await json<{ items: { name: string }[] }>(res)).items.map((s) => s.name)).toEqual(["kept"]);
      expect(bookmarkOf(res), bad).toMatch(BOOKMARK);
    }
  });

  it("a route that must be fresh (login, a write) works without a bookmark and answers with one", async () => {
    const user = await createUser();
    const login = await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip });
    expect(login.status).toBe(200);
    expect(bookmarkOf(login)).toMatch(BOOKMARK);
    // A bookmark sent to a fresh route changes nothing: it starts from the primary anyway.
    const { access_token } = await json<{ access_token: string }>(login);
    const write = await saveSearch(access_token, "fresh", { "X-D1-Bookmark": bookmarkOf(login)! });
    expect(write.status).toBe(201);
    expect(bookmarkOf(write)! >= bookmarkOf(login)!).toBe(true);
  });

  it("a request that reads no D1 hands the client's bookmark back, so the client never loses it", async () => {
    const { token } = await signedInUser();
    const b = bookmarkOf(await saveSearch(token, "x"))!;
    expect(b).toMatch(BOOKMARK);
    const res = await call("/health/none-such-path", { headers: { "X-D1-Bookmark": b } });
    expect(res.status).toBe(404);
    expect(bookmarkOf(res)).toBe(b);
    // And no header at all when neither the client nor D1 gave one.
    expect(bookmarkOf(await call("/health/none-such-path"))).toBeNull();
  });

  it("exposes X-D1-Bookmark to a listed origin's scripts and lets them send it", async () => {
    const { token } = await signedInUser();
    const res = await call("me/saved-searches", { token, headers: { origin: APP } });
    expect((res.headers.get("access-control-expose-headers") ?? "").toLowerCase()).toContain("x-d1-bookmark");
    const pre = await call("/api/v1/me/saved-searches", {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "GET", "access-control-request-headers": "authorization, x-d1-bookmark" },
    });
    expect(pre.status).toBe(204);
    expect((pre.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("x-d1-bookmark");
  });

  it("documents the header in the OpenAPI document: a shared response header on every response, and the request header as a component", async () => {
    const doc = await json<{ components: { headers?: Record<string, unknown>; parameters?: Record<string, unknown> }; paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { $ref?: string }> }> }>> }>(
      await call("/openapi.json"),
    );
    expect(doc.components.headers?.["D1Bookmark"]).toBeDefined();
    expect(doc.components.parameters?.["D1Bookmark"]).toMatchObject({ name: "X-D1-Bookmark", in: "header", required: false });
    const list = doc.paths["/api/v1/me/saved-searches"]!;
    for (const [op, status] of [["get", "200"], ["post", "201"], ["post", "422"]] as const) {
      expect(list[op]!.responses[status]!.headers?.["X-D1-Bookmark"]?.$ref, `${op} ${status}`).toBe("#/components/headers/D1Bookmark");
    }
  });
});
