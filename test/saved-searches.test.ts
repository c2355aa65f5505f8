import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type OrgRole, orgWithMembers } from "./helpers/fixtures";
import { call, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { inDays, ingest, tenderAdmin } from "./helpers/tenders";

interface SavedSearch {
  id: string;
  name: string;
  use_count: number;
  last_used_at: string | null;
}

const create = (token: string, query: Record<string, unknown>, name = "s") => call("me/saved-searches", { body: { name, query }, token });

/** An organization with the given saved-search limit, and `userId` in it with `role`. */
const joinOrg = (userId: string, maxSavedSearches: number, role: OrgRole = "member") => orgWithMembers([[userId, role]], { max_saved_searches: maxSavedSearches });

describe("saved searches", () => {
  it("runs with the one matcher (keywords, excludes, states), counting each run", async () => {
    const { key } = await tenderAdmin();
    const { token } = await signedInUser();
    const word = unique("ss");
    await ingest(key, [
      { external_id: `${word}-1`, title: `${word} road construction`, state: "Bihar", closing_date: inDays(5) },
      { external_id: `${word}-2`, title: `${word} road construction supply only`, state: "Bihar", closing_date: inDays(6) },
      { external_id: `${word}-3`, title: `${word} roads`, state: "Odisha", closing_date: inDays(7) },
      { external_id: `${word}-4`, title: `${word} roads`, state: "bihar", closing_date: inDays(8) },
    ]);
    const res = await create(token, { keywords: [`${word} road*`], exclude_keywords: ["supply only"], states: ["Bihar"] });
    expect(res.status).toBe(201);
    const saved = await json<SavedSearch>(res);
    expect(saved).toMatchObject({ use_count: 0, last_used_at: null });

    const run = async () => {
      const r = await call(`me/saved-searches/${saved.id}/run`, { method: "POST", token });
      expect(r.status).toBe(200);
      return json<{ items: { external_id: string }[]; saved_search: SavedSearch }>(r);
    };
    const first = await run();
    expect(first.items.map((t) => t.external_id)).toEqual([`${word}-1`, `${word}-4`]);
    expect(first.saved_search.use_count).toBe(1);
    const second = await run();
    expect(second.saved_search.use_count).toBe(2);
    expect(second.saved_search.last_used_at).not.toBeNull();
    const list = await json<{ items: SavedSearch[] }>(await call("me/saved-searches", { token }));
    expect(list.items).toMatchObject([{ id: saved.id, use_count: 2 }]);
  });

  it("validates the query with the criteria schema", async () => {
    const { token } = await signedInUser();
    await expectProblem(await create(token, { exclude_keywords: ["x"] }), 422, "validation_failed");
    await expectProblem(await create(token, { min_value: 10, max_value: 5 }), 422, "validation_failed");
    await expectProblem(await create(token, { keywords: Array.from({ length: 21 }, (_, i) => `k${i}`) }), 422, "validation_failed");
    await expectProblem(await create(token, { states: ["Bihar"], colour: "red" }), 422, "validation_failed");
  });

  it("a user in no organization has the free plan's 5; an organization's limit raises it; concurrent creates never pass it", async () => {
    const { user, token } = await signedInUser();
    for (let i = 0; i < 5; i++) expect((await create(token, { states: ["Bihar"] })).status).toBe(201);
    await expectProblem(await create(token, { states: ["Bihar"] }), 409, "limit_reached");

    await joinOrg(user.id, 3); // in an organization, its limit counts (3 < the 5 held): still refused
    await expectProblem(await create(token, { states: ["Bihar"] }), 409, "limit_reached");
    await joinOrg(user.id, 8, "viewer"); // the most generous of the organizations wins, whatever the role
    const results = await Promise.all(Array.from({ length: 6 }, () => create(token, { states: ["Bihar"] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM saved_searches WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(count?.n).toBe(8);
  });

  it("deletes its own (204) and answers 404 for another user's, also on run", async () => {
    const { token } = await signedInUser();
    const other = await signedInUser();
    const saved = await json<SavedSearch>(await create(token, { states: ["Bihar"] }));
    await expectProblem(await call(`me/saved-searches/${saved.id}/run`, { method: "POST", token: other.token }), 404, "not_found");
    await expectProblem(await call(`me/saved-searches/${saved.id}`, { method: "DELETE", token: other.token }), 404, "not_found");
    expect((await call(`me/saved-searches/${saved.id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call(`me/saved-searches/${saved.id}/run`, { method: "POST", token }), 404, "not_found");
  });
});
