import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { carveLease, IDLE_CLEANUP_MS, type LeaseWindow, type RateLimiter } from "../src/durable-objects/rate-limiter";
import type { AppError } from "../src/platform/errors";
import { LeaseClient } from "../src/platform/rate-lease";
import { HOUR, MINUTE } from "../src/platform/time";
import { signedInWithRole } from "./helpers/admin";
import { call, callAt, expectProblem, json, movableClock, signedInUser, unique } from "./helpers/harness";
import { admits, countingNamespace, type LimiterNamespace } from "./helpers/limiter";

/**
 * Issue 20, point 1: API-key budgets leased to isolates in blocks. Most requests decide in the
 * isolate's memory; the hourly limit stays exact: never more than `limit` in one window, under
 * any interleaving of isolates.
 */

type Ns = LimiterNamespace;
const stubFor = (name: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name));

/** Moves the limiter object's clock `ms` ahead of the wall clock (a window passes without waiting). */
const jumpAhead = (name: string, ms: number) =>
  runInDurableObject(stubFor(name), (instance: RateLimiter) => {
    instance.clock = { now: () => Date.now() + ms };
  });


/** One request through `client`: true when admitted, false on 429 (anything else throws). */
const admitted = (client: LeaseClient, ns: Ns, name: string, limit: number, now: number) => admits(() => client.take(ns, name, { limit, windowSeconds: 3600 }, now));

describe("carveLease (pure)", () => {
  it("property: isolates asking, spending and giving back in any order never spend more than the limit in a window", () => {
    const op = fc.record({ client: fc.nat(3), kind: fc.constantFrom("spend", "spend", "spend", "giveBack"), dt: fc.oneof({ arbitrary: fc.nat(2_000), weight: 30 }, { arbitrary: fc.integer({ min: 3_000_000, max: 4_000_000 }), weight: 1 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20 }), fc.array(op, { maxLength: 400 }), (limit, want, ops) => {
        let state: LeaseWindow | undefined;
        let now = 1_000_000;
        const held = Array.from({ length: 4 }, () => ({ window: -1, left: 0 }));
        const spentIn = new Map<number, number>();
        for (const { client, kind, dt } of ops) {
          now += dt;
          const mine = held[client]!;
          // A block is only spent in its window (the client's lifetime check, on the same clock here);
          // the rest of a block from an ended window is still sent back, and must count for nothing.
          if (kind === "spend" && mine.left > 0 && now < mine.window + 3_600_000) {
            mine.left--;
            spentIn.set(mine.window, (spentIn.get(mine.window) ?? 0) + 1);
            continue;
          }
          const giveBack = mine.left > 0 ? { window: mine.window, count: mine.left } : undefined;
          const r = carveLease(state, now, { limit, windowSeconds: 3600, want, ...(giveBack ? { giveBack } : {}) });
          state = r.state;
          mine.left = 0;
          if (r.result.granted > 0) {
            expect(r.result.granted).toBeLessThanOrEqual(want);
            mine.window = r.result.window;
            mine.left = r.result.granted;
          }
        }
        for (const spent of spentIn.values()) expect(spent).toBeLessThanOrEqual(limit);
        // Tokens spent + tokens outstanding never exceed the limit in the current window.
        if (state) {
          const outstanding = held.filter((h) => h.window === state!.start).reduce((n, h) => n + h.left, 0);
          expect((spentIn.get(state.start) ?? 0) + outstanding).toBeLessThanOrEqual(limit);
        }
      }),
    );
  });

  it("tokens given back count only in the window they were carved from", () => {
    const req = { limit: 10, windowSeconds: 3600, want: 10 };
    const w1 = carveLease(undefined, 0, req);
    const w2 = carveLease(w1.state, 3_600_000, req); // the next window
    expect(w2.result.window).not.toBe(w1.result.window);
    let state = w2.state;
    for (let r = carveLease(state, 3_600_001, req); r.result.granted > 0; r = carveLease(state, 3_600_001, req)) state = r.state;
    // The first window's unspent block comes back late: the second window stays spent.
    const late = carveLease(state, 3_600_002, { ...req, giveBack: { window: w1.result.window, count: w1.result.granted } });
    expect(late.result.granted).toBe(0);
    // In its own window a give-back frees its tokens.
    const own = carveLease(w1.state, 1, { ...req, giveBack: { window: w1.result.window, count: 1 } });
    expect(own.result.granted).toBe(1);
  });

  it("shrinks blocks near exhaustion: single tokens once fewer than 8 are left", () => {
    let state: LeaseWindow | undefined;
    const grants: number[] = [];
    for (;;) {
      const r = carveLease(state, 0, { limit: 100, windowSeconds: 3600, want: 20 });
      state = r.state;
      if (r.result.granted === 0) break;
      grants.push(r.result.granted);
    }
    expect(grants.reduce((a, b) => a + b, 0)).toBe(100);
    expect(grants[0]).toBe(12);
    expect(grants.slice(-7)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });
});

describe("leased hourly budgets (several isolates, one limiter object)", () => {
  it("5 isolates hammering one key concurrently admit exactly the limit, never more", async () => {
    const name = unique("apikey:lease");
    const limit = 503;
    const clients = Array.from({ length: 5 }, () => new LeaseClient());
    const now = Date.now();
    // 900 requests for 500 places, interleaved across the isolates.
    const results = await Promise.all(Array.from({ length: 900 }, (_, i) => admitted(clients[i % 5]!, env.RATE_LIMITER, name, limit, now)));
    expect(results.filter(Boolean)).toHaveLength(limit);
    // And later requests in the same window are refused in every isolate.
    for (const c of clients) expect(await admitted(c, env.RATE_LIMITER, name, limit, now + 1000)).toBe(false);
  });

  it("leases that expire mid-hour are given back and spent elsewhere: still exactly the limit", async () => {
    const name = unique("apikey:lease");
    const limit = 307;
    const clients = Array.from({ length: 4 }, () => new LeaseClient());
    let admittedCount = 0;
    let now = Date.now();
    // Rounds of concurrent requests from a few isolates at a time, the isolates' clocks moving
    // past the lease lifetime now and then (their unused tokens go back to the object).
    for (let round = 0; round < 40; round++) {
      const active = clients.filter((_, i) => (round + i) % 3 !== 0);
      const batch = await Promise.all(Array.from({ length: 12 }, (_, i) => admitted(active[i % active.length]!, env.RATE_LIMITER, name, limit, now)));
      admittedCount += batch.filter(Boolean).length;
      now += round % 4 === 3 ? 11_000 : 500;
    }
    expect(admittedCount).toBeLessThanOrEqual(limit);
    // Demand beyond the limit: every isolate drains until refused; the total is exactly the limit.
    for (const c of clients) while (await admitted(c, env.RATE_LIMITER, name, limit, now)) admittedCount++;
    expect(admittedCount).toBe(limit);
  });

  it("most requests decide in memory: one object call per block, not per request", async () => {
    const name = unique("apikey:lease");
    const { ns, calls } = countingNamespace();
    const client = new LeaseClient();
    const now = Date.now();
    for (let i = 0; i < 200; i++) expect(await admitted(client, ns, name, 10_000, now)).toBe(true);
    // Blocks of 2 % of 10,000 = 200: one call.
    expect(calls()).toBeLessThanOrEqual(2);
  });

  it("a refused isolate remembers the refusal for a second: hammering a spent key costs no object call per request", async () => {
    const name = unique("apikey:lease");
    const { ns, calls } = countingNamespace();
    const client = new LeaseClient();
    const now = Date.now();
    for (let i = 0; i < 3; i++) expect(await admitted(client, ns, name, 3, now)).toBe(true);
    const before = calls();
    for (let i = 0; i < 50; i++) expect(await admitted(client, ns, name, 3, now + i)).toBe(false);
    expect(calls() - before).toBe(1);
    // The refusal names the rest of the window, not the second it is remembered.
    const err = await client.take(ns, name, { limit: 3, windowSeconds: 3600 }, now + 100).catch((e: unknown) => e);
    expect((err as AppError).extra.retryAfter).toBeGreaterThan(3500);
    // After the second, the isolate asks the object again (another isolate may have given tokens back).
    expect(await admitted(client, ns, name, 3, now + 1500)).toBe(false);
    expect(calls() - before).toBe(2);
  });

  it("the object keeps its window across eviction, and cleans its storage once the window has been over for a while", async () => {
    const name = unique("apikey:lease");
    const stub = stubFor(name);
    const req = { limit: 10, windowSeconds: 3600, want: 4 };
    expect((await stub.lease(req)).granted).toBe(1);
    await evictDurableObject(stub);
    // Still the same window: 9 left, not 10.
    expect((await stub.lease(req)).remaining).toBe(8);
    await jumpAhead(name, HOUR + IDLE_CLEANUP_MS + 1000);
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, async (_: RateLimiter, s) => (await s.storage.list()).size)).toBe(0);
  });

  it("a lease dies at the window's edge; the next window admits the limit again", async () => {
    const name = unique("apikey:lease");
    const limit = 101;
    const clients = [new LeaseClient(), new LeaseClient()];
    const now = Date.now();
    let first = 0;
    while (await admitted(clients[first % 2]!, env.RATE_LIMITER, name, limit, now)) first++;
    expect(first).toBe(limit);
    await jumpAhead(name, HOUR + 1000);
    let second = 0;
    const later = now + HOUR + 1000;
    while (await admitted(clients[second % 2]!, env.RATE_LIMITER, name, limit, later)) second++;
    expect(second).toBe(limit);
  });
});

interface CreatedKey {
  id: string;
  key: string;
}

async function createKey(token: string, rate: number): Promise<CreatedKey> {
  const res = await call("me/api-keys", { body: { name: "lease", scopes: ["read:profile"], rate_limit_per_hour: rate }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<CreatedKey>(res);
}

describe("an API key's hourly limit through HTTP", () => {
  it("counts per hour window: refused for the rest of the window (no trickle), admitted again in the next", async () => {
    const { token } = await signedInUser();
    const { key, id } = await createKey(token, 5);
    const clock = movableClock();
    for (let i = 0; i < 5; i++) expect((await callAt(clock, "me", { apiKey: key })).status).toBe(200);
    const refused = await callAt(clock, "me", { apiKey: key });
    const retry = Number(refused.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    await expectProblem(refused, 429, "rate_limited");
    // Half an hour later: still the same window, still refused.
    await jumpAhead(`apikey:${id}`, 30 * MINUTE);
    clock.advance(30 * MINUTE);
    await expectProblem(await callAt(clock, "me", { apiKey: key }), 429, "rate_limited");
    // The next window admits five again.
    await jumpAhead(`apikey:${id}`, HOUR + 1000);
    clock.advance(30 * MINUTE + 1000);
    for (let i = 0; i < 5; i++) expect((await callAt(clock, "me", { apiKey: key })).status).toBe(200);
    await expectProblem(await callAt(clock, "me", { apiKey: key }), 429, "rate_limited");
  });

  it("RateLimit-Remaining counts down by one per request in an isolate", async () => {
    const { token } = await signedInUser();
    const { key } = await createKey(token, 1000);
    const seen: string[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await call("me", { apiKey: key });
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("1000");
      seen.push(res.headers.get("ratelimit-remaining")!);
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => String(999 - i)));
  });

  it("a suspended owner's key stops at once even while its isolate holds budget for it", async () => {
    const admin = await signedInWithRole("admin");
    const { user, token } = await signedInUser();
    const { key } = await createKey(token, 10_000);
    expect((await call("me", { apiKey: key })).status).toBe(200);
    expect((await call(`admin/users/${user.id}/suspend`, { method: "POST", token: admin.token })).status).toBe(200);
    await expectProblem(await call("me", { apiKey: key }), 403, "account_inactive");
  });

  it("a revoked key stops at once even while its isolate holds budget for it", async () => {
    const { token } = await signedInUser();
    const { key, id } = await createKey(token, 10_000);
    expect((await call("me", { apiKey: key })).status).toBe(200);
    expect((await call(`me/api-keys/${id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call("me", { apiKey: key }), 401, "unauthenticated");
  });
});
