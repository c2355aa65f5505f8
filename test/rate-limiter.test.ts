import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rateLimit } from "../src/platform/rate-limit";
import { AppError } from "../src/platform/errors";
import { IDLE_CLEANUP_MS, type RateLimiter } from "../src/durable-objects/rate-limiter";
import { unique } from "./helpers/harness";

const stubFor = (key: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));

/** Moves the object's clock `ms` ahead of the wall clock: time passes without waiting for it. */
const jumpAhead = (stub: DurableObjectStub<RateLimiter>, ms: number) =>
  runInDurableObject(stub, (instance: RateLimiter) => {
    instance.clock = { now: () => Date.now() + ms };
  });

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
    await jumpAhead(stub, 1100);
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
  });

  it("persists its state, survives eviction, and cleans its storage with an alarm once idle for a while", async () => {
    const stub = stubFor(unique("alarm"));
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
    const state = await runInDurableObject(stub, async (_: RateLimiter, s) => ({ tat: await s.storage.get<number>("tat"), alarm: await s.storage.getAlarm() }));
    expect(state.tat).toBeGreaterThan(Date.now());
    // Cleanup is due once the bucket has been full for IDLE_CLEANUP_MS, not as soon as it refills.
    expect(state.alarm).toBe(state.tat! + IDLE_CLEANUP_MS);

    // A fresh instance (after eviction) continues from storage: one token left, not two.
    await evictDurableObject(stub);
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(true);
    expect((await stub.limit({ limit: 2, windowSeconds: 1 })).allowed).toBe(false);

    // The bucket is full again after a second, but used a moment ago: the alarm keeps the
    // storage and moves itself.
    await jumpAhead(stub, 1100);
    await runDurableObjectAlarm(stub);
    const kept = await runInDurableObject(stub, async (_: RateLimiter, s) => ({ size: (await s.storage.list()).size, alarm: await s.storage.getAlarm() }));
    expect(kept.size).toBe(1);
    expect(kept.alarm).toBeGreaterThan(Date.now());

    // Idle for longer than IDLE_CLEANUP_MS: the alarm deletes the storage.
    await runInDurableObject(stub, (instance: RateLimiter) => {
      (instance as unknown as { tat: number }).tat = Date.now() - IDLE_CLEANUP_MS - 1;
    });
    await runDurableObjectAlarm(stub);
    const left = await runInDurableObject(stub, async (_: RateLimiter, s) => (await s.storage.list()).size);
    expect(left).toBe(0);
  });

  it("sliding mode: exactly `limit` per window, kept across eviction, and cleaned up once idle", async () => {
    const stub = stubFor(unique("sliding"));
    const req = { limit: 2, windowSeconds: 60, sliding: true };
    expect((await stub.limit(req)).allowed).toBe(true);
    expect((await stub.limit(req)).remaining).toBe(0);
    await evictDurableObject(stub);
    const refused = await stub.limit(req);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBeGreaterThan(55);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Idle past the window and IDLE_CLEANUP_MS: the alarm deletes the log.
    await runInDurableObject(stub, (instance: RateLimiter) => {
      (instance as unknown as { logEmptyAt: number }).logEmptyAt = Date.now() - IDLE_CLEANUP_MS - 1;
    });
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, async (_: RateLimiter, s) => (await s.storage.list()).size)).toBe(0);
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
