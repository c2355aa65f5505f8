import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rateLimit } from "../src/platform/rate-limit";
import { AppError } from "../src/platform/errors";
import type { RateLimiter } from "../src/durable-objects/rate-limiter";
import { unique } from "./helpers/harness";

const stubFor = (key: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));

describe("RateLimiter Durable Object", () => {
  it("lets exactly N of N+1 concurrent requests through", async () => {
    const stub = stubFor(unique("conc"));
    const results = await Promise.all(Array.from({ length: 11 }, () => stub.limit({ limit: 10, windowSeconds: 60 })));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    const denied = results.filter((r) => !r.allowed);
    expect(denied).toHaveLength(1);
    expect(denied[0]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(denied[0]!.retryAfterSeconds).toBeLessThanOrEqual(6);
  });

  it("counts remaining requests down and keys are independent", async () => {
    const a = stubFor(unique("a"));
    const b = stubFor(unique("b"));
    expect((await a.limit({ limit: 3, windowSeconds: 60 })).remaining).toBe(2);
    expect((await a.limit({ limit: 3, windowSeconds: 60 })).remaining).toBe(1);
    expect((await b.limit({ limit: 3, windowSeconds: 60 })).remaining).toBe(2);
  });

  it("refills after the window", async () => {
    const stub = stubFor(unique("refill"));
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
  });

  it("persists its state in SQLite storage and cleans it up with an alarm when idle", async () => {
    const stub = stubFor(unique("alarm"));
    await stub.limit({ limit: 5, windowSeconds: 1 });
    const state = await runInDurableObject(stub, async (_: RateLimiter, s) => ({
      rows: s.storage.sql.exec("SELECT count(*) AS n FROM bucket").one().n,
      alarm: await s.storage.getAlarm(),
    }));
    expect(state.rows).toBe(1);
    expect(state.alarm).toBeGreaterThan(Date.now());
    // Once the bucket is full again the alarm deletes the storage.
    await new Promise((r) => setTimeout(r, Math.max(0, state.alarm! - Date.now()) + 100));
    await runDurableObjectAlarm(stub);
    const tables = await runInDurableObject(stub, (_: RateLimiter, s) =>
      s.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'bucket'").one().n,
    );
    expect(tables).toBe(0);
  });

  it("the rateLimit helper throws 429 rate_limited with a retry-after", async () => {
    const key = unique("helper");
    await rateLimit(env, key, { limit: 1, windowSeconds: 60 });
    const err = await rateLimit(env, key, { limit: 1, windowSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("rate_limited");
    expect((err as AppError).extra.retryAfter).toBeGreaterThan(0);
  });
});
