import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { revokeRoles, setPreferences } from "./helpers/fixtures";
import { call, callWithConfig, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { inDays, ingest, listTenders, tenderAdmin, tenderId } from "./helpers/tenders";

describe("POST /tenders (bulk upsert)", () => {
  it("inserts, then counts only real changes, and the FTS index follows an update", async () => {
    const { key, token } = await tenderAdmin();
    const word = unique("w");
    const first = await ingest(key, [
      { external_id: `A-${word}`, title: `Repair of ${word} culvert`, state: "Bihar" },
      { external_id: `B-${word}`, title: `Supply of ${word} pipes` },
    ]);
    expect([first.inserted, first.updated]).toEqual([2, 0]);

    // Same content again: nothing changed, nothing counted.
    const same = await call("tenders", { body: { tenders: first.sent }, apiKey: key });
    expect(await json(same)).toEqual({ inserted: 0, updated: 0 });

    // One changed title, one new tender.
    const renamed = unique("renamed");
    const next = await call("tenders", {
      body: { tenders: [{ ...first.sent[0], title: `Repair of ${renamed} culvert` }, first.sent[1], { external_id: `C-${word}`, title: `${word} survey` }] },
      apiKey: key,
    });
    expect(await json(next)).toEqual({ inserted: 1, updated: 1 });

    const byNew = await listTenders(token, { q: renamed });
    expect(byNew.items.map((t) => t.external_id)).toEqual([`A-${word}`]);
    const byWord = await listTenders(token, { q: word, sort: "closing_date" });
    expect(byWord.items.map((t) => t.external_id).sort()).toEqual([`B-${word}`, `C-${word}`]);
  });

  it("upserts 500 tenders in one request (chunked statements)", async () => {
    const { key, token } = await tenderAdmin();
    const word = unique("bulk");
    const tenders = Array.from({ length: 500 }, (_, i) => ({ external_id: `${word}-${i}`, title: `${word} lot ${i}`, value: i }));
    expect((await ingest(key, tenders)).inserted).toBe(500);
    const page = await listTenders(token, { q: word, sort: "value", limit: "3" });
    expect(page.items.map((t) => t.value)).toEqual([499, 498, 497]);
  });

  it("refuses a user without admin:system and bad input", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("tenders", { body: { tenders: [{ external_id: "x", title: "t" }] }, token }), 403, "forbidden");

    const admin = await tenderAdmin();
    const dup = { tenders: [{ external_id: "d", title: "a" }, { external_id: "d", title: "b" }] };
    await expectProblem(await call("tenders", { body: dup, apiKey: admin.key }), 422, "validation_failed");
    const tooMany = { tenders: Array.from({ length: 501 }, (_, i) => ({ external_id: `m${i}`, title: "t" })) };
    await expectProblem(await call("tenders", { body: tooMany, apiKey: admin.key }), 422, "validation_failed");
    await expectProblem(await call("tenders", { body: { tenders: [{ external_id: "u", title: "t", extra: 1 }] }, apiKey: admin.key }), 422, "validation_failed");
  });

  it("checks the key owner's admin:system at every use, not only at key creation", async () => {
    // A fresh admin, called only without the per-isolate access cache (whose documented
    // propagation window is ACCESS_CACHE_SECONDS), so the role removal in D1 counts at once.
    const admin = await tenderAdmin();
    const noCache = { ACCESS_CACHE_SECONDS: "0" };
    const body = { tenders: [{ external_id: unique("k"), title: "Key check" }] };
    expect((await callWithConfig(noCache, "tenders", { body, headers: { "x-api-key": admin.key } })).status).toBe(200);
    await revokeRoles(admin.user.id);
    await expectProblem(await callWithConfig(noCache, "tenders", { body, headers: { "x-api-key": admin.key } }), 403, "forbidden");
  });
});

describe("GET /tenders: the keyword rule", () => {
  it("follows API.md's examples: whole words in any order, prefixes, accents and case", async () => {
    const { key, token } = await tenderAdmin();
    const state = unique("State");
    await ingest(key, [
      { external_id: `${state}-1`, title: "Construction of road and bridge", state },
      { external_id: `${state}-2`, title: "Construction of rural roads", state },
      { external_id: `${state}-3`, title: "Réfection du CAFÉ municipal", state },
      { external_id: `${state}-4`, title: "Boundary wall", description: "Construction near the old road", state },
    ]);
    const ids = async (q: string) => (await listTenders(token, { q, states: state })).items.map((t) => t.external_id.slice(state.length + 1)).sort();
    expect(await ids("road construction")).toEqual(["1", "4"]);
    expect(await ids("road* construction")).toEqual(["1", "2", "4"]);
    expect(await ids("roads")).toEqual(["2"]);
    expect(await ids("ROAD")).toEqual(["1", "4"]);
    expect(await ids("cafe")).toEqual(["3"]);
    expect(await ids("Café refection")).toEqual(["3"]);
    expect(await ids("caf")).toEqual([]);
    expect(await ids("caf*")).toEqual(["3"]);
    expect(await ids("bridge wall")).toEqual([]);
    expect(await ids("***")).toEqual([]);
  });

  it("finds text that FTS5 alone would not fold: full-width letters, ligatures, Indic vowel signs", async () => {
    const { key, token } = await tenderAdmin();
    const state = unique("State");
    await ingest(key, [
      { external_id: `${state}-1`, title: "ＲＯＡＤ ｗｏｒｋｓ at Patna", state },
      { external_id: `${state}-2`, title: "Supply of ﬁre extinguishers", state },
      { external_id: `${state}-3`, title: "Sadak works", description: "सड़क निर्माण कार्य", state },
    ]);
    const ids = async (q: string) => (await listTenders(token, { q, states: state })).items.map((t) => t.external_id.slice(state.length + 1)).sort();
    expect(await ids("road works")).toEqual(["1"]);
    expect(await ids("fire")).toEqual(["2"]);
    expect(await ids("निर्माण")).toEqual(["3"]);
    expect(await ids("निर्माण कार्य")).toEqual(["3"]);
    // The stored and returned text is the original; only the index is normalised.
    expect((await listTenders(token, { q: "road", states: state })).items[0]?.title).toBe("ＲＯＡＤ ｗｏｒｋｓ at Patna");
  });

  it("sort=relevance ranks by bm25: a title hit before a description-only hit", async () => {
    const { key, token } = await tenderAdmin();
    const word = unique("rel");
    await ingest(key, [
      { external_id: `${word}-desc`, title: "Annual maintenance", description: `Includes ${word} work`, published_at: inDays(-1) },
      { external_id: `${word}-title`, title: `${word} ${word} works`, published_at: inDays(-10) },
    ]);
    const rel = await listTenders(token, { q: word, sort: "relevance" });
    expect(rel.items.map((t) => t.external_id)).toEqual([`${word}-title`, `${word}-desc`]);
    const newest = await listTenders(token, { q: word, sort: "published_at" });
    expect(newest.items.map((t) => t.external_id)).toEqual([`${word}-desc`, `${word}-title`]);
  });

  it("filters by states, departments (ignoring case), value and closing dates, and pages with a cursor", async () => {
    const { key, token } = await tenderAdmin();
    const state = unique("Filt");
    await ingest(key, [
      { external_id: `${state}-a`, title: "Alpha", state, department: "Public Works", value: 100, closing_date: inDays(3) },
      { external_id: `${state}-b`, title: "Beta", state, department: "Energy", value: 200, closing_date: inDays(10) },
      { external_id: `${state}-c`, title: "Gamma", state, department: "public works", value: 300, closing_date: inDays(20) },
      { external_id: `${state}-d`, title: "Delta", state, department: "Public Works", value: null, closing_date: null },
    ]);
    const ext = (p: { items: { external_id: string }[] }) => p.items.map((t) => t.external_id.slice(state.length + 1));
    expect(ext(await listTenders(token, { states: state.toUpperCase(), departments: "PUBLIC WORKS", sort: "closing_date" }))).toEqual(["a", "c", "d"]);
    expect(ext(await listTenders(token, { states: state, min_value: "150", max_value: "300", sort: "value" }))).toEqual(["c", "b"]);
    expect(ext(await listTenders(token, { states: state, closing_after: inDays(5), closing_before: inDays(15) }))).toEqual(["b"]);
    await expectProblem(await call(`tenders?min_value=5&max_value=1`, { token }), 422, "validation_failed");
    await expectProblem(await call(`tenders?cursor=bogus`, { token }), 422, "validation_failed");

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listTenders(token, { states: state, sort: "value", limit: "1", ...(cursor ? { cursor } : {}) });
      seen.push(...ext(page));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(["c", "b", "a", "d"]);
  });
});

describe("GET /tenders: preferences take effect", () => {
  it("tenders_per_page and default_sort are the defaults; the query overrides them", async () => {
    const { key } = await tenderAdmin();
    const { user, token } = await signedInUser();
    const state = unique("Pref");
    await ingest(key, [1, 2, 3].map((i) => ({ external_id: `${state}-${i}`, title: `T${i}`, state, value: i * 10, closing_date: inDays(10 - i) })));
    const ext = (p: { items: { external_id: string }[] }) => p.items.map((t) => t.external_id.slice(state.length + 1));
    expect(ext(await listTenders(token, { states: state }))).toEqual(["3", "2", "1"]); // closing_date default
    await setPreferences(user.id, { tenders_per_page: 2, default_sort: "value" });
    const page = await listTenders(token, { states: state });
    expect(ext(page)).toEqual(["3", "2"]);
    expect(page.next_cursor).not.toBeNull();
    expect(ext(await listTenders(token, { states: state, sort: "closing_date", limit: "5" }))).toEqual(["3", "2", "1"]);
  });

  it("hides expired tenders unless show_expired_tenders or include_expired; flags urgent ones", async () => {
    const { key } = await tenderAdmin();
    const { user, token } = await signedInUser();
    const state = unique("Exp");
    await ingest(key, [
      { external_id: `${state}-old`, title: "Closed", state, closing_date: inDays(-1) },
      { external_id: `${state}-soon`, title: "Soon", state, closing_date: inDays(2) },
      { external_id: `${state}-late`, title: "Later", state, closing_date: inDays(40) },
    ]);
    const view = async (q: Record<string, string> = {}) =>
      Object.fromEntries((await listTenders(token, { states: state, ...q })).items.map((t) => [t.external_id.slice(state.length + 1), t.urgent]));
    expect(await view()).toEqual({ soon: true, late: false });
    expect(await view({ include_expired: "true" })).toEqual({ old: false, soon: true, late: false });
    await setPreferences(user.id, { show_expired_tenders: 1, highlight_urgent_tenders: 0 });
    expect(await view()).toEqual({ old: false, soon: false, late: false });
    expect(await view({ include_expired: "false" })).toEqual({ soon: false, late: false });
  });
});

describe("GET /tenders/{id}", () => {
  it("returns the tender and records a view with its source; unknown id → 404", async () => {
    const { key } = await tenderAdmin();
    const { user, token } = await signedInUser();
    const ext = unique("view");
    await ingest(key, [{ external_id: ext, title: "Viewed tender", closing_date: inDays(1) }]);
    const id = await tenderId(ext);
    const res = await call(`tenders/${id}?source=recommendation`, { token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, external_id: ext, title: "Viewed tender", urgent: true, notes: [] });
    await expectProblem(await call(`tenders/${id}?source=elsewhere`, { token }), 422, "validation_failed");
    await expectProblem(await call(`tenders/tnd_missing`, { token }), 404, "not_found");
    // The view is written after the response; poll briefly.
    let rows: { source: string; interaction_type: string }[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = (await env.DB.prepare("SELECT source, interaction_type FROM tender_interactions WHERE user_id = ? AND tender_id = ?").bind(user.id, id).all<{ source: string; interaction_type: string }>()).results;
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(rows).toEqual([{ source: "recommendation", interaction_type: "view" }]);
  });

  it("is readable with a read:tenders key and not with a key lacking it", async () => {
    const { key } = await tenderAdmin();
    const { token } = await signedInUser();
    const ext = unique("scope");
    await ingest(key, [{ external_id: ext, title: "Scoped" }]);
    const reader = await json<{ key: string }>(await call("me/api-keys", { body: { name: "r", scopes: ["read:tenders"] }, token }));
    const other = await json<{ key: string }>(await call("me/api-keys", { body: { name: "o", scopes: ["read:favorites"] }, token }));
    expect((await call(`tenders/${await tenderId(ext)}`, { apiKey: reader.key })).status).toBe(200);
    await expectProblem(await call(`tenders?q=Scoped`, { apiKey: other.key }), 403, "insufficient_scope");
  });
});
