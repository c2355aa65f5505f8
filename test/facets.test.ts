import { describe, expect, it } from "vitest";
import { call, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin } from "./helpers/tenders";

interface Facets {
  states: { value: string; count: number }[];
  departments: { value: string; count: number }[];
}

describe("GET /tenders/facets", () => {
  it("counts states and departments (spellings that match alike count as one), refreshed by an ingest; needs read:tenders", async () => {
    const admin = await tenderAdmin();
    const state = `Facetland ${unique("")}`;
    const dept = `Dept ${unique("")}`;
    await ingest(admin.key, [
      { title: "A", state, department: dept },
      { title: "B", state: state.toUpperCase(), department: dept },
      { title: "C", state },
    ]);
    const { token } = await signedInUser();
    const res = await call("tenders/facets", { token });
    expect(res.status).toBe(200);
    const facets = await json<Facets>(res);
    expect(facets.states.find((f) => f.value.toLowerCase() === state.toLowerCase())).toEqual({ value: state, count: 3 });
    expect(facets.departments.find((f) => f.value === dept)).toEqual({ value: dept, count: 2 });

    // Cached, but an ingest drops the cache.
    await ingest(admin.key, [{ title: "D", state }]);
    const again = await json<Facets>(await call("tenders/facets", { token }));
    expect(again.states.find((f) => f.value === state)?.count).toBe(4);

    await expectProblem(await call("tenders/facets"), 401, "unauthenticated");
    const key = await json<{ key: string }>(await call("me/api-keys", { body: { name: "alerts only", scopes: ["read:alerts"] }, token }));
    expect((await call("tenders/facets", { apiKey: key.key })).status).toBe(403);
  });
});

describe("alerts refuse states and departments no tender has had", () => {
  it("422 unknown_criteria_value naming the field and value, unless allow_unknown_values; PATCH too", async () => {
    const admin = await tenderAdmin();
    const state = `Knownstate ${unique("")}`;
    await ingest(admin.key, [{ title: "Road", state, department: "Known Works" }]);
    const { token } = await signedInUser();
    const create = (body: Record<string, unknown>) => call("me/alerts", { body: { name: "a", notification_methods: ["in_app"], ...body }, token });

    const bad = await create({ criteria: { states: [state, "Bihr"], departments: ["known works", "Nowhere Dept"] } });
    const problem = await expectProblem(bad, 422, "unknown_criteria_value");
    expect((problem as { errors: { path: string; message: string }[] }).errors.map((e) => e.path)).toEqual(["criteria.states.1", "criteria.departments.1"]);
    expect(JSON.stringify(problem)).toContain("Bihr");

    // Known values (any case), or the explicit opt-out.
    const ok = await create({ criteria: { states: [state.toLowerCase()] } });
    expect(ok.status, await ok.clone().text()).toBe(201);
    const { id } = await json<{ id: string }>(ok);
    expect((await create({ criteria: { states: ["Bihr"] }, allow_unknown_values: true })).status).toBe(201);

    await expectProblem(await call(`me/alerts/${id}`, { method: "PATCH", body: { criteria: { states: ["Bihr"] } }, token }), 422, "unknown_criteria_value");
    expect((await call(`me/alerts/${id}`, { method: "PATCH", body: { criteria: { states: ["Bihr"] }, allow_unknown_values: true }, token })).status).toBe(200);
    expect((await call(`me/alerts/${id}`, { method: "PATCH", body: { name: "renamed" }, token })).status).toBe(200);
  });
});
