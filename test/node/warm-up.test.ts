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
