import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { getConfig } from "../../src/platform/config";
import { getKeySet } from "../../src/platform/jwt";
import { warmUp } from "../../src/platform/warm-up";

// Issue 20, point 3: src/index.ts runs warmUp at module evaluation (the config parse, the JWT key
// import, the router build happen while the isolate starts, not in its first request). A throw
// there would fail the whole Worker at startup; a bad configuration or key must instead fail the
// request that needs it, as without the warm-up.
const env = (vars: Record<string, string>) => vars as unknown as Env;

describe("warmUp at startup", () => {
  it("an invalid configuration does not throw at startup; the request that reads it still fails", () => {
    const bad = env({ ENVIRONMENT: "development", ACCESS_TOKEN_TTL_SECONDS: "not a number" });
    expect(() => warmUp(bad)).not.toThrow();
    expect(() => getConfig(bad)).toThrow(/Invalid configuration/);
  });

  it("a malformed JWT_SIGNING_KEYS does not throw at startup; the request's key import still fails", async () => {
    const bad = env({ ENVIRONMENT: "development", JWT_SIGNING_KEYS: "[not json" });
    expect(() => warmUp(bad)).not.toThrow();
    await expect(getKeySet(bad, getConfig(bad))).rejects.toThrow();
  });

  it("a router that cannot match does not throw, and no env is fine", () => {
    const router = { match: vi.fn(() => { throw new Error("no"); }) };
    expect(() => warmUp(undefined, router)).not.toThrow();
    expect(router.match).toHaveBeenCalledOnce();
  });
});

describe("route groups and SQL built at startup", () => {
  it("buildStartupGroups builds only the startup groups' routers, once, and a failing load throws nothing", async () => {
    const { buildStartupGroups, groupApp } = await import("../../src/platform/lazy-routes");
    const hot = { name: "hot", match: ["/hot$"], load: vi.fn(async () => (app: import("../../src/platform/context").App) => void app.get("/hot", (c) => c.text("hot"))), startup: true as const };
    const cold = { name: "cold", match: ["/cold$"], load: vi.fn(async () => () => undefined) };
    const broken = { name: "broken", match: ["/broken$"], load: vi.fn(() => Promise.reject(new Error("no chunk"))), startup: true as const };
    expect(() => buildStartupGroups([hot, cold, broken])).not.toThrow();
    expect(hot.load).toHaveBeenCalledOnce();
    expect(cold.load).not.toHaveBeenCalled();
    const app = await groupApp(hot);
    expect(await (await app.request("/hot")).text()).toBe("hot");
    expect(hot.load).toHaveBeenCalledOnce(); // the request reuses the router built at startup
    // A load that failed at startup is retried by the group's first request.
    await new Promise((r) => setTimeout(r, 0));
    await expect(groupApp(broken)).rejects.toThrow("no chunk");
    expect(broken.load).toHaveBeenCalledTimes(2);
  });

  it("GET /me's group is a startup group, the only one", async () => {
    const { ROUTE_GROUPS } = await import("../../src/app");
    expect(ROUTE_GROUPS.filter((g) => g.startup).map((g) => g.name)).toEqual(["me"]);
  });

  it("warmHotQueries builds the SQL without running it and never throws", async () => {
    const { warmHotQueries } = await import("../../src/app");
    const prepare = vi.fn(() => ({ bind: () => ({}) }));
    const db = { prepare, batch: vi.fn(), exec: vi.fn(), withSession: vi.fn() } as unknown as D1Database;
    expect(() => warmHotQueries({ DB: db })).not.toThrow();
    expect(prepare).not.toHaveBeenCalled(); // toSQL() only: no statement reaches D1 at startup
    expect(() => warmHotQueries({ DB: {} as D1Database })).not.toThrow();
    expect(() => warmHotQueries(undefined)).not.toThrow();
  });
});
