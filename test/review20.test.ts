import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { orgWithMembers } from "./helpers/fixtures";
import { call, json, signedInUser, unique } from "./helpers/harness";
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
