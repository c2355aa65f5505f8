import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { orgWithMembers } from "./helpers/fixtures";
import { API, BASE, call, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { exports } from "cloudflare:workers";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";

// Issue 20 review (adversarial). Locally D1 has no replica, so a stale read cannot be produced;
// what can be pinned is WHERE each statement is sent: these tests wrap env.DB.withSession and
// record, per statement, the constraint of the session it ran in.

type Seen = { constraint: string; sql: string };
let seen: Seen[] = [];
let original: D1Database["withSession"] | undefined;

beforeEach(() => {
  seen = [];
  const db = env.DB as D1Database & { withSession: D1Database["withSession"] };
  original = db.withSession.bind(db);
  const wrapped = (constraint?: string) => {
    const session = original!(constraint as never);
    const tag = constraint ?? "first-unconstrained";
    return new Proxy(session, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "prepare") return (sql: string) => (seen.push({ constraint: tag, sql }), (value as (s: string) => D1PreparedStatement).call(target, sql));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  Object.defineProperty(db, "withSession", { value: wrapped, configurable: true, writable: true });
});

afterEach(() => {
  if (original) Object.defineProperty(env.DB, "withSession", { value: original, configurable: true, writable: true });
});

/** Statements that read organization membership, run in a session a replica may serve. */
const membershipReadsOffPrimary = () => seen.filter((s) => /organization_members/.test(s.sql) && s.constraint !== "first-primary");

async function sharedNote() {
  const { key } = await tenderAdmin();
  const ext = unique("r20");
  await ingest(key, [{ external_id: ext, title: "Tender with a shared note" }]);
  const tender = await tenderId(ext);
  const author = await signedInUser();
  const colleague = await signedInUser();
  await orgWithMembers([[author.user.id, "member"], [colleague.user.id, "member"]]);
  expect((await call("me/notes", { body: { tender_id: tender, note_text: "Shared insight", is_shared: true }, token: author.token })).status).toBe(201);
  return { tender, colleague };
}

describe("review 20: D1 sessions — reads that check another user's membership start from the primary", () => {
  it("the harness sees sessions: GET /orgs/{id}/notes reads membership from a first-primary session", async () => {
    const { colleague } = await sharedNote();
    const orgs = await json<{ items: { id: string }[] }>(await call("orgs", { token: colleague.token }));
    seen = [];
    expect((await call(`orgs/${orgs.items[0]!.id}/notes`, { token: colleague.token })).status).toBe(200);
    expect(seen.some((s) => /organization_members/.test(s.sql) && s.constraint === "first-primary")).toBe(true);
    expect(membershipReadsOffPrimary()).toEqual([]);
  });

  it("a percent-encoded organization path (/api/v1/%6Frgs/{id}/notes) still reads membership on the primary", async () => {
    const { colleague } = await sharedNote();
    const orgs = await json<{ items: { id: string }[] }>(await call("orgs", { token: colleague.token }));
    seen = [];
    const res = await call(`%6Frgs/${orgs.items[0]!.id}/notes`, { token: colleague.token });
    if (res.status === 200) expect(seen.some((s) => /organization_members/.test(s.sql))).toBe(true);
    else expect(res.status).toBe(404);
    expect(membershipReadsOffPrimary()).toEqual([]);
  });

  it("GET /tenders/{id} (shared notes of fellow members) does not read membership from a replica", async () => {
    const { tender, colleague } = await sharedNote();
    seen = [];
    const res = await call(`tenders/${tender}`, { token: colleague.token });
    expect(res.status).toBe(200);
    expect((await json<{ notes: { note_text: string }[] }>(res)).notes.map((n) => n.note_text)).toEqual(["Shared insight"]);
    expect(membershipReadsOffPrimary()).toEqual([]);
  });

  it("GET /me/notes?tender_id= (shared notes of fellow members) does not read membership from a replica", async () => {
    const { tender, colleague } = await sharedNote();
    seen = [];
    const res = await call(`me/notes?tender_id=${tender}`, { token: colleague.token });
    expect(res.status).toBe(200);
    expect((await json<{ items: { note_text: string }[] }>(res)).items.map((n) => n.note_text)).toEqual(["Shared insight"]);
    expect(membershipReadsOffPrimary()).toEqual([]);
  });
});

// Lazy route groups (src/platform/lazy-routes.ts): every request that reaches a group has been
// through the main app's global middleware, and what a group does not own ends in the main 404.
const worker = (exports as unknown as { default: { fetch: (url: string, init?: RequestInit) => Promise<Response> } }).default;
const raw = (url: string, init: RequestInit = {}) => worker.fetch(url, init);

function globalHeaders(res: Response) {
  expect(res.headers.get("x-request-id")).toBeTruthy();
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
}

describe("review 20: lazy route groups — no way around the global middleware", () => {
  it("a chunked body over 1 MiB (no Content-Length) to a group's route answers 413, not the route", async () => {
    const { token } = await signedInUser();
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 17) return c.close();
        sent++;
        c.enqueue(chunk);
      },
    });
    const res = await raw(`${API}/me/saved-searches`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, duplex: "half" } as RequestInit);
    globalHeaders(res);
    await expectProblem(res, 413, "payload_too_large");
  });

  it("path tricks on a group's path end in the main 404 problem (with the global headers), never in a route", async () => {
    const { token } = await signedInUser();
    const headers = { authorization: `Bearer ${token}` };
    for (const path of ["/api/v1/me/api-keys/", "//api/v1/me/api-keys", "/api/v1/me%2Fapi-keys", "/api/v1/ME/api-keys", "/api/v1//admin/users", "/api/v1/admin%2Fusers"]) {
      const res = await raw(`${BASE}${path}`, { headers });
      globalHeaders(res);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toContain("application/problem+json");
    }
  });

  it("an unknown method on a group's path: the main 404 problem, with the request id and security headers", async () => {
    const { token } = await signedInUser();
    const res = await call("me/api-keys", { method: "PUT", token, body: {} });
    globalHeaders(res);
    const problem = await expectProblem(res, 404, "not_found");
    expect(problem.detail).toContain("PUT /api/v1/me/api-keys");
  });

  it("an error inside a group is the same problem+json, its request_id the response's X-Request-Id", async () => {
    const { token } = await signedInUser();
    const res = await call("me/saved-searches", { method: "POST", token, rawBody: "{not json", headers: { "content-type": "application/json" } });
    globalHeaders(res);
    const problem = (await expectProblem(res, 400, "validation_failed")) as unknown as { request_id?: string };
    expect(problem.request_id).toBe(res.headers.get("x-request-id"));
  });

  it("HEAD on a group's GET route: the GET's status and headers, no body", async () => {
    const { token } = await signedInUser();
    const res = await call("me/saved-searches", { method: "HEAD", token });
    globalHeaders(res);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    const anon = await call("me/saved-searches", { method: "HEAD" });
    expect(anon.status).toBe(401);
  });

  it("a preflight on a group's path from a listed origin is answered by CORS, not by the group", async () => {
    const res = await raw(`${API}/me/api-keys`, { method: "OPTIONS", headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
  });
});
