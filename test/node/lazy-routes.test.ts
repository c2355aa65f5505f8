import { describe, expect, it } from "vitest";
import { newApp, ROUTE_GROUPS } from "../../src/app";
import { allGroupApps, groupMatches } from "../../src/platform/lazy-routes";

// Issue 20, point 3: every feature's routes load on first use, through a table of path patterns
// (src/app.ts ROUTE_GROUPS). A route whose path no pattern of its group matches would be
// unreachable: this checks every route of every group, and that the document lists them all.
describe("route groups loaded on first use", () => {
  it("every route of every group is reachable through the group's patterns", async () => {
    const apps = await allGroupApps(ROUTE_GROUPS);
    const unreachable: string[] = [];
    let routes = 0;
    apps.forEach((app, i) => {
      const group = ROUTE_GROUPS[i]!;
      for (const r of app.routes) {
        if (r.path === "/*") continue; // the group's own handoff middleware
        routes++;
        const sample = r.path.replace(/:\w+/g, "x1");
        if (!groupMatches(group, sample)) unreachable.push(`${group.name}: ${r.method} ${r.path}`);
      }
    });
    expect(unreachable).toEqual([]);
    expect(routes).toBeGreaterThan(200);
  });

  it("the OpenAPI document lists every route of every group", async () => {
    const res = await newApp().request("/openapi.json", {}, { ENVIRONMENT: "development", DB: {} });
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)));
    const served = (await allGroupApps(ROUTE_GROUPS))
      .flatMap((app) => app.routes)
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(150);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
  });

  it("a pattern matches by whole segments; `*` is one segment; `$` is exact", () => {
    const g = { match: ["/api/v1/me$", "/api/v1/orgs/*/webhooks"] };
    expect(groupMatches(g, "/api/v1/me")).toBe(true);
    expect(groupMatches(g, "/api/v1/me/profile")).toBe(false);
    expect(groupMatches(g, "/api/v1/meow")).toBe(false);
    expect(groupMatches(g, "/api/v1/orgs/o1/webhooks/w1/test")).toBe(true);
    expect(groupMatches(g, "/api/v1/orgs/o1/webhooksx")).toBe(false);
  });
});
