import { describe, expect, it } from "vitest";
import { call, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";
import { canMoveBid } from "../src/features/favorites/bid-status";

interface Favorite {
  id: string;
  tender_id: string;
  folder: string | null;
  tags: string[];
  notes: string | null;
  priority: string | null;
  bid_status: string | null;
  bid_amount: number | null;
  bid_submitted_at: string | null;
  tender: { id: string; title: string; state: string | null };
}

async function tenders(n: number) {
  const { key } = await tenderAdmin();
  const word = unique("fav");
  const sent = (await ingest(key, Array.from({ length: n }, (_, i) => ({ external_id: `${word}-${i}`, title: `${word} tender ${i}`, state: "Bihar" })))).sent;
  return Promise.all(sent.map((t) => tenderId(t.external_id!)));
}

const save = (token: string, body: Record<string, unknown>) => call("me/favorites", { body, token });
const patch = (token: string, id: string, body: Record<string, unknown>) => call(`me/favorites/${id}`, { method: "PATCH", body, token });

describe("favorites", () => {
  it("saves with 201, saves again with 200 (updating only the fields given), and embeds the tender", async () => {
    const [t1] = await tenders(1);
    const { token } = await signedInUser();
    const first = await save(token, { tender_id: t1, folder: "Roads", tags: ["nh", "nh"], priority: "high" });
    expect(first.status).toBe(201);
    const created = await json<Favorite>(first);
    expect(created).toMatchObject({ tender_id: t1, folder: "Roads", tags: ["nh"], priority: "high", bid_status: null, tender: { id: t1, state: "Bihar" } });
    const again = await save(token, { tender_id: t1, notes: "check EMD" });
    expect(again.status).toBe(200);
    expect(await json<Favorite>(again)).toMatchObject({ id: created.id, folder: "Roads", priority: "high", notes: "check EMD" });
    await expectProblem(await save(token, { tender_id: "tnd_nope" }), 404, "not_found");
    await expectProblem(await save(token, { tender_id: t1, colour: "red" }), 422, "validation_failed");
  });

  it("lists newest first with folder, priority, bid_status and tag filters, paged by cursor", async () => {
    const [a, b, c] = (await tenders(3)) as [string, string, string];
    const { token } = await signedInUser();
    const fa = await json<Favorite>(await save(token, { tender_id: a, folder: "Roads", tags: ["x"], priority: "low" }));
    await save(token, { tender_id: b, folder: "Water", tags: ["x", "y"], priority: "high" });
    await save(token, { tender_id: c, folder: "Roads", priority: "high" });
    await patch(token, fa.id, { bid_status: "planning" });
    const list = async (q = "") => (await json<{ items: Favorite[]; next_cursor: string | null }>(await call(`me/favorites${q}`, { token }))).items.map((f) => f.tender_id);
    expect(await list()).toEqual([c, b, a]);
    expect(await list("?folder=Roads")).toEqual([c, a]);
    expect(await list("?priority=high")).toEqual([c, b]);
    expect(await list("?tag=x")).toEqual([b, a]);
    expect(await list("?bid_status=planning")).toEqual([a]);
    const page1 = await json<{ items: Favorite[]; next_cursor: string }>(await call("me/favorites?limit=2", { token }));
    expect(page1.items.map((f) => f.tender_id)).toEqual([c, b]);
    expect(await list(`?limit=2&cursor=${page1.next_cursor}`)).toEqual([a]);
    // Another user sees none of them.
    const other = await signedInUser();
    expect((await json<{ items: unknown[] }>(await call("me/favorites", { token: other.token }))).items).toEqual([]);
  });

  it("walks the bid lifecycle; submitted stamps bid_submitted_at; invalid moves are 422; foreign ids 404", async () => {
    const [t] = await tenders(1);
    const { token } = await signedInUser();
    const fav = await json<Favorite>(await save(token, { tender_id: t }));
    for (const s of ["planning", "preparing"]) expect((await json<Favorite>(await patch(token, fav.id, { bid_status: s }))).bid_submitted_at).toBeNull();
    const submitted = await json<Favorite>(await patch(token, fav.id, { bid_status: "submitted", bid_amount: 1250000 }));
    expect(submitted).toMatchObject({ bid_status: "submitted", bid_amount: 1250000 });
    expect(submitted.bid_submitted_at).not.toBeNull();
    const won = await json<Favorite>(await patch(token, fav.id, { bid_status: "won" }));
    expect(won).toMatchObject({ bid_status: "won", bid_submitted_at: submitted.bid_submitted_at });
    await expectProblem(await patch(token, fav.id, { bid_status: "lost" }), 422, "validation_failed");

    const other = await signedInUser();
    await expectProblem(await patch(other.token, fav.id, { folder: "mine" }), 404, "not_found");
    await expectProblem(await call(`me/favorites/${fav.id}`, { method: "DELETE", token: other.token }), 404, "not_found");
    expect((await call(`me/favorites/${fav.id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call(`me/favorites/${fav.id}`, { method: "DELETE", token }), 404, "not_found");
  });

  // Issue 14, point 20: the lifecycle records what happened.
  it("records a bid submitted offline directly: no status → submitted is 200 and stamps bid_submitted_at", async () => {
    const [t] = await tenders(1);
    const { token } = await signedInUser();
    const fav = await json<Favorite>(await save(token, { tender_id: t }));
    const res = await patch(token, fav.id, { bid_status: "submitted", bid_amount: 990000 });
    expect(res.status).toBe(200);
    const submitted = await json<Favorite>(res);
    expect(submitted).toMatchObject({ bid_status: "submitted", bid_amount: 990000 });
    expect(submitted.bid_submitted_at).not.toBeNull();
  });

  it("forward moves skip steps; a withdrawn bid reopens; a submitted bid moved back loses its bid_submitted_at", async () => {
    const [t] = await tenders(1);
    const { token } = await signedInUser();
    const fav = await json<Favorite>(await save(token, { tender_id: t }));
    expect((await json<Favorite>(await patch(token, fav.id, { bid_status: "planning" }))).bid_status).toBe("planning");
    expect((await json<Favorite>(await patch(token, fav.id, { bid_status: "submitted" }))).bid_status).toBe("submitted");
    expect((await json<Favorite>(await patch(token, fav.id, { bid_status: "withdrawn" }))).bid_status).toBe("withdrawn");
    const reopened = await json<Favorite>(await patch(token, fav.id, { bid_status: "preparing" }));
    expect(reopened).toMatchObject({ bid_status: "preparing", bid_submitted_at: null });
    expect((await json<Favorite>(await patch(token, fav.id, { bid_status: "lost" }))).bid_status).toBe("lost");
  });

  it("a move that contradicts a recorded outcome is 422 with a message naming both, and changes nothing", async () => {
    const [t] = await tenders(1);
    const { token } = await signedInUser();
    const fav = await json<Favorite>(await save(token, { tender_id: t }));
    const won = await json<Favorite>(await patch(token, fav.id, { bid_status: "won" }));
    expect(won.bid_status).toBe("won");
    for (const to of ["planning", "lost", "withdrawn"]) {
      const problem = await expectProblem(await patch(token, fav.id, { bid_status: to, folder: "changed" }), 422, "validation_failed");
      expect(problem.detail).toBe(`The bid's outcome is recorded as won; it cannot move to ${to}`);
      expect(problem.errors).toEqual([{ path: "bid_status", message: `The outcome is recorded as won` }]);
    }
    const [now] = (await json<{ items: Favorite[] }>(await call("me/favorites", { token }))).items;
    expect(now).toMatchObject({ bid_status: "won", folder: null });
    expect((await patch(token, fav.id, { bid_status: "won" })).status).toBe(200);
  });

  it("the guarded UPDATE allows exactly the moves canMoveBid allows, for every pair of statuses", async () => {
    const statuses = ["planning", "preparing", "submitted", "won", "lost", "withdrawn"] as const;
    const pairs = [null, ...statuses].flatMap((from) => statuses.map((to) => ({ from, to })));
    const ids = await tenders(pairs.length);
    const { token } = await signedInUser();
    await Promise.all(
      pairs.map(async ({ from, to }, i) => {
        const fav = await json<Favorite>(await save(token, { tender_id: ids[i] }));
        if (from) expect((await patch(token, fav.id, { bid_status: from })).status).toBe(200);
        const res = await patch(token, fav.id, { bid_status: to });
        expect(res.status, `${from} → ${to}`).toBe(canMoveBid(from, to) ? 200 : 422);
        // What is stored afterwards: the new status, or the old one untouched.
        const after = await json<Favorite>(await patch(token, fav.id, { notes: "checked" }));
        expect(after.bid_status, `${from} → ${to}`).toBe(canMoveBid(from, to) ? to : from);
      }),
    );
  });

  it("needs read:favorites / write:favorites on an API key", async () => {
    const [t] = await tenders(1);
    const { token } = await signedInUser();
    const reader = await json<{ key: string }>(await call("me/api-keys", { body: { name: "r", scopes: ["read:favorites"] }, token }));
    await expectProblem(await call("me/favorites", { body: { tender_id: t }, apiKey: reader.key }), 403, "insufficient_scope");
    expect((await call("me/favorites", { apiKey: reader.key })).status).toBe(200);
  });
});
