import { describe, expect, it } from "vitest";
import { setPreferences } from "./helpers/fixtures";
import { call, json, signedInUser, unique } from "./helpers/harness";
import { inDays, ingest, tenderAdmin, tenderId } from "./helpers/tenders";

interface Recs {
  items: { tender: { external_id: string }; score: number; reasons: string[] }[];
  reason?: string;
}

describe("GET /me/recommendations", () => {
  it("ranks open tenders by profile and favorites, explains each, and skips favorites and expired tenders", async () => {
    const { key } = await tenderAdmin();
    const { user, token } = await signedInUser();
    const word = unique("spec");
    const state = unique("Rst");
    const dept = unique("Dept");
    await ingest(key, [
      { external_id: `${word}-1`, title: `${word} construction at the river`, state, value: 5_000_000 },
      { external_id: `${word}-2`, title: `Supply for ${word} works`, state: "Elsewhere", value: 1 },
      { external_id: `${word}-3`, title: "Unrelated building", state },
      { external_id: `${word}-4`, title: `${word} expired`, state, closing_date: inDays(-2) },
      { external_id: `${word}-5`, title: `${word} already favorite`, state, department: dept },
      { external_id: `${word}-6`, title: "Same department as a favorite", department: dept, state: "Nowhere" },
    ]);
    const profile = { specializations: [word], operating_states: [state], min_tender_value: 1_000_000, max_tender_value: 10_000_000 };
    expect((await call("me/profile", { method: "PATCH", body: profile, token })).status).toBe(200);
    expect((await call("me/favorites", { body: { tender_id: await tenderId(`${word}-5`) }, token })).status).toBe(201);

    const res = await call("me/recommendations?limit=50", { token });
    expect(res.status).toBe(200);
    const mine = (await json<Recs>(res)).items.filter((i) => i.tender.external_id.startsWith(word));
    expect(mine.map((i) => i.tender.external_id.slice(word.length + 1))).toEqual(["1", "2", "3", "6"]);
    expect(mine[0]!.reasons).toEqual([`keyword: ${word}`, `state: ${state}`, "value: within your range", `state of your favorites: ${state}`]);
    expect(mine[1]!.reasons).toEqual([`keyword: ${word}`]);
    expect(mine[2]!.reasons).toEqual([`state: ${state}`, `state of your favorites: ${state}`]);
    expect(mine[3]!.reasons).toEqual([`department of your favorites: ${dept}`]);
    expect(mine[0]!.score).toBeGreaterThan(mine[1]!.score);

    await setPreferences(user.id, { enable_ai_recommendations: 0 });
    const off = await json<Recs>(await call("me/recommendations", { token }));
    expect(off.items).toEqual([]);
    expect(off.reason).toContain("enable_ai_recommendations");
  });

  it("answers an empty list with a reason when there is nothing to go on", async () => {
    const { token } = await signedInUser();
    const body = await json<Recs>(await call("me/recommendations", { token }));
    expect(body.items).toEqual([]);
    expect(body.reason).toBeTruthy();
  });
});
