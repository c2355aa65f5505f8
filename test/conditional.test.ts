import { describe, expect, it } from "vitest";
import { call, expectProblem, json, signedInUser } from "./helpers/harness";

// Issue 18, point 4: ETag on single resources; If-None-Match → 304; If-Match on PATCH/DELETE →
// 412 precondition_failed when the resource changed, checked atomically with the write.

type Resource = { id?: string; updated_at: string };

async function conditionalGet(path: string, token: string) {
  const first = await call(path, { token });
  expect(first.status).toBe(200);
  const etag = first.headers.get("ETag");
  expect(etag).toMatch(/^"[^"]+"$/);
  const notModified = await call(path, { token, headers: { "If-None-Match": etag! } });
  expect(notModified.status).toBe(304);
  expect(await notModified.text()).toBe("");
  expect(notModified.headers.get("ETag")).toBe(etag);
  // A weak form and a list naming it also hit; another tag does not.
  expect((await call(path, { token, headers: { "If-None-Match": `"x", W/${etag}` } })).status).toBe(304);
  expect((await call(path, { token, headers: { "If-None-Match": '"other"' } })).status).toBe(200);
  return etag!;
}

/** Two PATCHes based on the same ETag, at once: exactly one wins, the other is 412. */
async function racingPatches(path: string, token: string, etag: string, bodies: [Record<string, unknown>, Record<string, unknown>]) {
  const results = await Promise.all(bodies.map((body) => call(path, { method: "PATCH", body, token, headers: { "If-Match": etag } })));
  const statuses = results.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 412]);
  await expectProblem(results.find((r) => r.status === 412)!, 412, "precondition_failed");
  return json<Resource>(results.find((r) => r.status === 200)!);
}

describe("conditional requests", () => {
  it("GET/PATCH /me/profile: ETag, 304, If-Match 412 when changed, and concurrent PATCHes → exactly one 200", async () => {
    const { token } = await signedInUser();
    const etag = await conditionalGet("me/profile", token);
    const patched = await call("me/profile", { method: "PATCH", body: { company_name: "Acme" }, token, headers: { "If-Match": etag } });
    expect(patched.status).toBe(200);
    const next = patched.headers.get("ETag");
    expect(next).toMatch(/^"[^"]+"$/);
    expect(next).not.toBe(etag);
    // The old ETag is stale now: the GET is a 200 again, a write on it is refused and changes nothing.
    expect((await call("me/profile", { token, headers: { "If-None-Match": etag } })).status).toBe(200);
    await expectProblem(await call("me/profile", { method: "PATCH", body: { company_name: "Stale" }, token, headers: { "If-Match": etag } }), 412, "precondition_failed");
    expect((await json<{ company_name: string }>(await call("me/profile", { token }))).company_name).toBe("Acme");
    // `*` and no header do not block.
    expect((await call("me/profile", { method: "PATCH", body: { company_name: "Star" }, token, headers: { "If-Match": "*" } })).status).toBe(200);
    const current = (await call("me/profile", { token })).headers.get("ETag")!;
    const winner = await racingPatches("me/profile", token, current, [{ company_name: "Tab one" }, { company_name: "Tab two" }]);
    expect(["Tab one", "Tab two"]).toContain((winner as unknown as { company_name: string }).company_name);
  });

  it("GET/PATCH /me/preferences: ETag, 304, 412 and one winner of two", async () => {
    const { token } = await signedInUser();
    const etag = await conditionalGet("me/preferences", token);
    await racingPatches("me/preferences", token, etag, [{ tenders_per_page: 50 }, { tenders_per_page: 10 }]);
    await expectProblem(await call("me/preferences", { method: "PATCH", body: { tenders_per_page: 20 }, token, headers: { "If-Match": etag } }), 412, "precondition_failed");
    // A weak tag never satisfies If-Match (strong comparison).
    const now = (await call("me/preferences", { token })).headers.get("ETag")!;
    await expectProblem(await call("me/preferences", { method: "PATCH", body: { tenders_per_page: 20 }, token, headers: { "If-Match": `W/${now}` } }), 412, "precondition_failed");
  });

  it("alerts: ETag and 304 on GET /me/alerts/{id}; If-Match on PATCH and DELETE; someone else's alert is 404, not 412", async () => {
    const { token } = await signedInUser();
    const other = await signedInUser();
    const created = await call("me/alerts", { body: { name: "a", criteria: { keywords: ["bridge"] } }, token });
    expect(created.status).toBe(201);
    const alert = await json<Resource & { id: string }>(created);
    const etag = await conditionalGet(`me/alerts/${alert.id}`, token);
    await racingPatches(`me/alerts/${alert.id}`, token, etag, [{ name: "one" }, { name: "two" }]);
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "DELETE", token, headers: { "If-Match": etag } }), 412, "precondition_failed");
    expect((await call(`me/alerts/${alert.id}`, { token })).status).toBe(200);
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { name: "x" }, token: other.token, headers: { "If-Match": etag } }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "DELETE", token: other.token, headers: { "If-Match": etag } }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}`, { token: other.token, headers: { "If-None-Match": etag } }), 404, "not_found");
    const current = (await call(`me/alerts/${alert.id}`, { token })).headers.get("ETag")!;
    expect((await call(`me/alerts/${alert.id}`, { method: "DELETE", token, headers: { "If-Match": current } })).status).toBe(204);
  });

  it("organizations: ETag on GET /orgs/{id}, If-Match on PATCH", async () => {
    const { token } = await signedInUser();
    const org = await json<Resource & { id: string }>(await call("orgs", { body: { name: "Acme Bidders" }, token }));
    const etag = await conditionalGet(`orgs/${org.id}`, token);
    await racingPatches(`orgs/${org.id}`, token, etag, [{ name: "Acme One" }, { name: "Acme Two" }]);
  });

  it("documents ETag, 304 and 412 in OpenAPI", async () => {
    type Op = { parameters?: { name: string; in: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> };
    const doc = await json<{ paths: Record<string, Record<string, Op>> }>(await call("/openapi.json"));
    for (const path of ["/api/v1/me/profile", "/api/v1/me/preferences", "/api/v1/me/alerts/{id}", "/api/v1/orgs/{id}"]) {
      const ops = doc.paths[path]!;
      expect(ops.get!.responses["304"], path).toBeDefined();
      expect(ops.get!.responses["200"]!.headers?.ETag, path).toBeDefined();
      expect(ops.get!.parameters?.some((p) => p.name === "if-none-match" && p.in === "header"), path).toBe(true);
      expect(ops.patch!.responses["412"], path).toBeDefined();
      expect(ops.patch!.parameters?.some((p) => p.name === "if-match" && p.in === "header"), path).toBe(true);
    }
    expect(doc.paths["/api/v1/me/alerts/{id}"]!.delete!.responses["412"]).toBeDefined();
  });
});
