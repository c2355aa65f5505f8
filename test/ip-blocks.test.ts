import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { takeToken, type LimitRequest, type LimitResult } from "../src/durable-objects/rate-limiter";
import { IP_BLOCK_TTL_MS, IpBlocks, type Rate } from "../src/platform/rate-limit";
import { callWithConfig, expectProblem, randomIp, unique } from "./helpers/harness";
import { admits, countingNamespace, type LimiterNamespace } from "./helpers/limiter";

/**
 * Issue 20, point 2: per-IP budgets (sign-in, registration, …) spent in small blocks, so that a
 * second sign-in from an address this isolate has just admitted makes no limiter call, while a
 * burst from one address never passes more than the limit, under any interleaving of isolates.
 */

type Ns = LimiterNamespace;


/** A fresh isolate's blocks, a new address, sign-in's default rate (100 per 15 minutes) and the time it starts at. */
function oneAddress(label: string) {
  return { ...countingNamespace(), client: new IpBlocks(), key: `login:ip:${unique(label)}`, rate: { limit: 100, windowSeconds: 900 }, t0: Date.now() };
}

/**
 * `ns` with the limiter objects' answers passed through `answer` (given the request and the real
 * call): how a test makes an object's reply late, or never come.
 */
function withAnswers(ns: Ns, answer: (request: LimitRequest, call: () => Promise<LimitResult>) => Promise<LimitResult>): Ns {
  return {
    idFromName: (name: string) => ns.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = ns.get(id);
      return { limit: (request: LimitRequest) => answer(request, () => stub.limit(request) as Promise<LimitResult>) };
    },
  } as unknown as Ns;
}

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

  it("near an empty bucket a block request decides exactly as a plain one: refused with the same Retry-After, or one token", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 2, max: 60 }), fc.array(fc.nat(30_000), { maxLength: 50 }), (limit, windowSeconds, want, gaps) => {
        const rate = { limit, windowSeconds };
        let tat: number | undefined;
        let now = 1_700_000_000_000;
        for (const gap of gaps) {
          now += gap;
          // Plain requests drain the bucket; each step compares a block request with the plain one.
          const plain = takeToken(tat, now, rate);
          const block = takeToken(tat, now, { ...rate, want });
          if (!plain.result.allowed) {
            expect(block.result).toMatchObject({ allowed: false, granted: 0, retryAfterSeconds: plain.result.retryAfterSeconds });
            expect(block.tat).toBe(plain.tat);
          } else if (plain.result.remaining < 3) {
            // Fewer than 4 fit (this one and the remaining): half of that is at most 1.
            expect(block.result).toMatchObject({ allowed: true, granted: 1 });
            expect(block.tat).toBe(plain.tat);
          }
          tat = plain.tat;
        }
      }),
    );
  });
});

describe("IpBlocks against the real limiter object", () => {
  it("an address busy with this isolate decides mostly in memory: far fewer object calls than requests", async () => {
    const { ns, calls, client, key, rate, t0 } = oneAddress("blk"); // RATE_LOGIN_PER_IP's default: blocks of 5 at most
    let last = { remaining: 0 };
    for (let i = 0; i < 40; i++) last = await client.take(ns, key, rate, t0 + i * 100);
    // Blocks grow with the demand seen: 1, 1, 2, 4, then 5 each: 11 calls for 40 requests.
    expect(calls()).toBe(11);
    // Every token taken was spent: what is left to others is what 40 single requests leave.
    expect(last.remaining).toBeGreaterThanOrEqual(59);
    expect(last.remaining).toBeLessThanOrEqual(61);
  });

  it("an address seen now and then (6 s apart) spends one token per request, as without blocks", async () => {
    const { ns, calls, client, key, rate, t0 } = oneAddress("sparse");
    let last = { remaining: 0 };
    for (let i = 0; i < 30; i++) last = await client.take(ns, key, rate, t0 + i * 6_000);
    expect(calls()).toBe(30);
    // The object's own clock did not move: 30 tokens taken, 70 left (blocks of 5 would have emptied it by the 20th).
    expect(last.remaining).toBeGreaterThanOrEqual(69);
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
    const { ns, calls, client, key, rate, t0 } = oneAddress("ttl");
    // Two requests make a demand of 2: the third asks for a block of 2, the fourth spends it.
    for (let i = 0; i < 4; i++) expect(await admitted(client, ns, key, rate, t0 + i)).toBe(true);
    expect(calls()).toBe(3);
    expect(await admitted(client, ns, key, rate, t0 + 2 + IP_BLOCK_TTL_MS - 1)).toBe(true);
    expect(calls()).toBe(4);
    // That one asked for a block again (demand 4): spent until it expires, 5 s after it was asked for.
    expect(await admitted(client, ns, key, rate, t0 + 2 + 2 * IP_BLOCK_TTL_MS - 2)).toBe(true);
    expect(calls()).toBe(4);
    expect(await admitted(client, ns, key, rate, t0 + 2 + 2 * IP_BLOCK_TTL_MS - 1)).toBe(true);
    expect(calls()).toBe(5);
  });

  it("a block request that never came back (its request cancelled) holds the address back for IP_BLOCK_TTL_MS at most", async () => {
    const { ns: counting, calls } = countingNamespace();
    let first = true;
    // The first block request to the object never answers: the request that made it was cancelled mid-call.
    const ns = withAnswers(counting, (request, call) => {
      if (first && request.want !== undefined) {
        first = false;
        return new Promise(() => {});
      }
      return call();
    });
    const client = new IpBlocks();
    const key = `login:ip:${unique("stuck")}`;
    const rate = { limit: 100, windowSeconds: 900 };
    const t0 = Date.now();
    // Two single requests make a demand; the third asks for a block and never hears back.
    expect(await admitted(client, ns, key, rate, t0)).toBe(true);
    expect(await admitted(client, ns, key, rate, t0 + 1)).toBe(true);
    void client.take(ns, key, rate, t0 + 2);
    // Meanwhile: one token per request, as beside any block request in flight.
    expect(await admitted(client, ns, key, rate, t0 + 3)).toBe(true);
    expect(await admitted(client, ns, key, rate, t0 + 4)).toBe(true);
    expect(calls()).toBe(4);
    // Past IP_BLOCK_TTL_MS the stuck request no longer counts: a block again, then requests from it.
    for (let i = 0; i < 5; i++) expect(await admitted(client, ns, key, rate, t0 + 2 + IP_BLOCK_TTL_MS + i)).toBe(true);
    expect(calls()).toBe(5);
  });

  it("a changed limit does not spend the old limit's block", async () => {
    const { ns, calls } = countingNamespace();
    const client = new IpBlocks();
    const key = `login:ip:${unique("cfg")}`;
    const t0 = Date.now();
    // The third request gets a block of 2 under 100/900 and leaves one token in it.
    for (let i = 0; i < 3; i++) expect(await admitted(client, ns, key, { limit: 100, windowSeconds: 900 }, t0 + i)).toBe(true);
    expect(calls()).toBe(3);
    // Under 40/900 (blocks of up to 2 as well) the leftover token of the 100/900 block is not
    // spent: the request is the new rate's first, decided by the object.
    expect(await admitted(client, ns, key, { limit: 40, windowSeconds: 900 }, t0 + 3)).toBe(true);
    expect(calls()).toBe(4);
    // The old rate's block still holds its token.
    expect(await admitted(client, ns, key, { limit: 100, windowSeconds: 900 }, t0 + 4)).toBe(true);
    expect(calls()).toBe(4);
  });

  it("a sliding limit never takes a block: one object call per request", async () => {
    const { ns, calls, client, key, t0 } = oneAddress("sliding");
    const rate = { limit: 60, windowSeconds: 3600, sliding: true };
    for (let i = 0; i < 6; i++) expect(await admitted(client, ns, key, rate, t0 + i)).toBe(true);
    expect(calls()).toBe(6);
  });

  it("a block whose answer comes late ends IP_BLOCK_TTL_MS after its request, even merged into a newer block", async () => {
    const { ns, calls, client, key, rate, t0 } = oneAddress("late");
    // The object's answers to block requests are held until released, one at a time.
    let hold = false;
    const held: (() => void)[] = [];
    const slow = withAnswers(ns, async (_request, call) => {
      const result = await call();
      if (hold) await new Promise<void>((resolve) => held.push(resolve));
      return result;
    });
    expect(await admitted(client, slow, key, rate, t0)).toBe(true);
    expect(await admitted(client, slow, key, rate, t0 + 1)).toBe(true);
    // A: a block request (2 tokens) whose answer is held past its in-flight mark.
    hold = true;
    const a = admitted(client, slow, key, rate, t0 + 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(held).toHaveLength(1);
    hold = false;
    // B, after A's mark expired: a block of its own, until t0 + 3 + TTL.
    const tb = t0 + 3 + IP_BLOCK_TTL_MS;
    expect(await admitted(client, slow, key, rate, tb)).toBe(true);
    expect(calls()).toBe(4);
    held[0]!();
    expect(await a).toBe(true);
    // A's late token joined B's block: the merged block ends when A's would have (t0 + 2 + TTL),
    // which has passed, so the next request asks the object (spending A's token would be up to
    // TTL late; losing it and B's rest only admits fewer).
    expect(await admitted(client, slow, key, rate, tb + 1)).toBe(true);
    expect(calls()).toBe(5);
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
