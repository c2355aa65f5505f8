import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { takeToken } from "../src/durable-objects/rate-limiter";
import { IP_BLOCK_TTL_MS, IpBlocks, type Rate } from "../src/platform/rate-limit";
import { callWithConfig, expectProblem, randomIp, unique } from "./helpers/harness";
import { admits, countingNamespace, type LimiterNamespace } from "./helpers/limiter";

/**
 * Issue 20, point 2: per-IP budgets (sign-in, registration, …) spent in small blocks, so that a
 * second sign-in from an address this isolate has just admitted makes no limiter call, while a
 * burst from one address never passes more than the limit, under any interleaving of isolates.
 */

type Ns = LimiterNamespace;


/** One request through `client`: true when admitted, false on 429 (anything else throws). */
const admitted = (client: IpBlocks, ns: Ns, key: string, rate: Rate, now = Date.now()) => admits(() => client.take(ns, key, rate, now));

describe("GCRA blocks (pure)", () => {
  it("property: a block of g tokens leaves the bucket exactly as g single requests at that instant would, and is at most half of what it held", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3600 }),
        fc.array(fc.record({ dt: fc.nat(20_000), want: fc.integer({ min: 1, max: 60 }) }), { maxLength: 60 }),
        (limit, windowSeconds, steps) => {
          const rate = { limit, windowSeconds };
          let tat: number | undefined;
          let now = 1_700_000_000_000;
          for (const { dt, want } of steps) {
            now += dt;
            // What the bucket holds now: single requests until the first refusal.
            let probe = tat;
            let fits = 0;
            for (;;) {
              const r = takeToken(probe, now, rate);
              if (!r.result.allowed) break;
              probe = r.tat;
              fits++;
            }
            const block = takeToken(tat, now, { ...rate, want });
            if (fits === 0) {
              expect(block.result.allowed).toBe(false);
              expect(block.result.granted).toBe(0);
              continue;
            }
            const g = block.result.granted!;
            expect(block.result.allowed).toBe(true);
            expect(g).toBeGreaterThanOrEqual(1);
            // Half of what fits (counted one request at a time, whose sums may round one short).
            expect(g).toBeLessThanOrEqual(Math.max(1, Math.min(want, Math.floor((fits + 1) / 2))));
            let single = tat;
            for (let i = 0; i < g; i++) single = takeToken(single, now, rate).tat;
            // The same instant, up to float rounding at epoch-millisecond magnitudes (a few ULPs).
            expect(Math.abs(block.tat! - single!)).toBeLessThan(0.01);
            tat = block.tat;
          }
        },
      ),
    );
  });

  it("a block of 1 decides exactly as a plain request (a small limit never leases)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 3600 }), fc.array(fc.nat(30_000), { maxLength: 50 }), (limit, windowSeconds, gaps) => {
        let a: number | undefined;
        let b: number | undefined;
        let now = 1_700_000_000_000;
        for (const gap of gaps) {
          now += gap;
          const plain = takeToken(a, now, { limit, windowSeconds });
          const one = takeToken(b, now, { limit, windowSeconds, want: 1 });
          expect(one.result.allowed).toBe(plain.result.allowed);
          expect(one.result.retryAfterSeconds).toBe(plain.result.retryAfterSeconds);
          expect(one.tat).toBe(plain.tat);
          a = plain.tat;
          b = one.tat;
        }
      }),
    );
  });
});

describe("IpBlocks against the real limiter object", () => {
  it("sequential sign-ins from one address: one object call per block, not per request", async () => {
    const { ns, calls } = countingNamespace();
    const client = new IpBlocks();
    const key = `login:ip:${unique("blk")}`;
    const rate = { limit: 100, windowSeconds: 900 }; // RATE_LOGIN_PER_IP's default: blocks of 5
    for (let i = 0; i < 20; i++) expect(await admitted(client, ns, key, rate)).toBe(true);
    expect(calls()).toBe(4);
  });

  it("several isolates hammering one address concurrently never pass more than the limit", async () => {
    const { ns } = countingNamespace();
    const isolates = Array.from({ length: 4 }, () => new IpBlocks());
    const key = `login:ip:${unique("burst")}`;
    // 60 an hour: one token back per minute, so none comes back while the test runs; blocks of 3.
    const rate = { limit: 60, windowSeconds: 3600 };
    const burst = await Promise.all(Array.from({ length: 160 }, (_, i) => admitted(isolates[i % 4]!, ns, key, rate)));
    const inBurst = burst.filter(Boolean).length;
    expect(inBurst).toBeLessThanOrEqual(60);
    // A block can arrive after its isolate's whole burst was decided: at most one block (2 tokens
    // beyond its own request) per isolate waits unspent.
    expect(inBurst).toBeGreaterThanOrEqual(60 - 4 * 2);
    // The same address keeps coming to each isolate: what those blocks held is spent, then
    // every isolate refuses.
    let later = 0;
    for (const client of isolates) {
      while (await admitted(client, ns, key, rate)) later++;
      expect(await admitted(client, ns, key, rate)).toBe(false);
    }
    expect(inBurst + later).toBeLessThanOrEqual(60);
    expect(inBurst + later).toBeGreaterThanOrEqual(59);
  });

  it("a block expires unspent after IP_BLOCK_TTL_MS: the next request asks the object again", async () => {
    const { ns, calls } = countingNamespace();
    const client = new IpBlocks();
    const key = `login:ip:${unique("ttl")}`;
    const rate = { limit: 100, windowSeconds: 900 };
    const t0 = Date.now();
    expect(await admitted(client, ns, key, rate, t0)).toBe(true);
    expect(await admitted(client, ns, key, rate, t0 + IP_BLOCK_TTL_MS - 1)).toBe(true);
    expect(calls()).toBe(1);
    expect(await admitted(client, ns, key, rate, t0 + IP_BLOCK_TTL_MS)).toBe(true);
    expect(calls()).toBe(2);
  });

  it("a block request that never came back (its request cancelled) holds the address back for IP_BLOCK_TTL_MS at most", async () => {
    const { ns: counting, calls } = countingNamespace();
    let first = true;
    // The first call to the object never answers: the request that made it was cancelled mid-call.
    const ns = {
      idFromName: (name: string) => counting.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = counting.get(id);
        return {
          limit: (request: Parameters<typeof stub.limit>[0]) => {
            if (first) {
              first = false;
              return new Promise(() => {});
            }
            return stub.limit(request);
          },
        };
      },
    } as unknown as Ns;
    const client = new IpBlocks();
    const key = `login:ip:${unique("stuck")}`;
    const rate = { limit: 100, windowSeconds: 900 };
    const t0 = Date.now();
    void client.take(ns, key, rate, t0);
    // Meanwhile: one token per request, as beside any block request in flight.
    expect(await admitted(client, ns, key, rate, t0 + 1)).toBe(true);
    expect(await admitted(client, ns, key, rate, t0 + 2)).toBe(true);
    expect(calls()).toBe(2);
    // Past the window the stuck request no longer counts: a block again, then requests from it.
    for (let i = 0; i < 5; i++) expect(await admitted(client, ns, key, rate, t0 + IP_BLOCK_TTL_MS + i)).toBe(true);
    expect(calls()).toBe(3);
  });

  it("a changed limit does not spend the old limit's block", async () => {
    const { ns, calls } = countingNamespace();
    const client = new IpBlocks();
    const key = `login:ip:${unique("cfg")}`;
    expect(await admitted(client, ns, key, { limit: 100, windowSeconds: 900 })).toBe(true);
    expect(await admitted(client, ns, key, { limit: 1, windowSeconds: 900 })).toBe(false);
    expect(calls()).toBe(2);
  });
});

describe("per-IP sign-in limit through HTTP, spent in blocks", () => {
  it("exactly `limit` sign-in attempts from one address pass, then 429 with Retry-After", async () => {
    const limits = { RATE_LOGIN_PER_IP: "40/3600" }; // blocks of 2
    const ip = randomIp();
    for (let i = 1; i <= 40; i++) {
      const res = await callWithConfig(limits, "auth/login", { body: { email: `${unique("blkip")}@example.com`, password: "whatever-it-is" }, ip });
      expect(res.status, `attempt ${i}`).toBe(401);
    }
    const refused = await callWithConfig(limits, "auth/login", { body: { email: `${unique("blkip")}@example.com`, password: "whatever-it-is" }, ip });
    await expectProblem(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await callWithConfig(limits, "auth/login", { body: { email: `${unique("blkip")}@example.com`, password: "whatever-it-is" }, ip: randomIp() })).status).toBe(401);
  });
});
