import type { LimitResult, RateLimiter } from "../durable-objects/rate-limiter";
import type { Env } from "../env";
import { ipLimitKey } from "./client-ip";
import type { RequestContext } from "./context";
import { AppError } from "./errors";
import { IsolateCache } from "./isolate-cache";
import { SECOND } from "./time";

export interface Rate {
  limit: number;
  windowSeconds: number;
  /** Count the last window exactly (sliding log) instead of GCRA; see LimitRequest.sliding. */
  sliding?: boolean;
}

/** The one refusal of every rate limit: 429 `rate_limited` with `Retry-After`. */
export const rateLimited = (retryAfterSeconds: number) => new AppError("rate_limited", "Too many requests; retry later", { retryAfter: retryAfterSeconds });

/**
 * Takes one request from the exact limiter for `key` and throws `429 rate_limited` with
 * `Retry-After` when the budget is spent. Call it before any expensive work (password hashing,
 * D1 writes). Keys name what is limited: `login:ip:203.0.113.9`, `apikey:key_…`.
 */
export const rateLimit = (env: Env, key: string, rate: Rate): Promise<Admitted> => rateLimitVia(env.RATE_LIMITER, key, rate);

export interface Admitted {
  remaining: number;
  resetSeconds: number;
  /**
   * Seconds until this key lets the next request through (0: at once), for a later limit's
   * refusal on the same path, whose Retry-After must cover this one too.
   */
  nextSeconds: number;
}

type LimiterNamespace = DurableObjectNamespace<RateLimiter>;

/** One call to the key's limiter object; throws 429 when it refuses. */
async function ask(ns: LimiterNamespace, key: string, rate: Rate, want?: number): Promise<LimitResult> {
  const stub = ns.get(ns.idFromName(key));
  const result = await stub.limit({ limit: rate.limit, windowSeconds: rate.windowSeconds, ...(rate.sliding ? { sliding: true } : {}), ...(want ? { want } : {}) });
  if (!result.allowed) throw rateLimited(result.retryAfterSeconds);
  return result;
}

// resetSeconds is rounded up, so nextSeconds never promises too early.
const admittedBy = (result: LimitResult, rate: Rate): Admitted => ({
  remaining: result.remaining,
  resetSeconds: result.resetSeconds,
  nextSeconds: result.remaining > 0 ? 0 : Math.max(0, Math.ceil(result.resetSeconds + rate.windowSeconds / rate.limit - rate.windowSeconds)),
});

/** One object call, no block. */
const rateLimitVia = async (ns: LimiterNamespace, key: string, rate: Rate) => admittedBy(await ask(ns, key, rate), rate);

/** A per-IP block is this share of the limit (rounded down; below 2 there is no block): "a few percent". */
export const IP_BLOCK_FRACTION = 0.05;
/** …and at most this many tokens: what an isolate may lose when it is evicted holding one. */
export const IP_BLOCK_MAX = 50;
/** A block's tokens are spent within this long after it was asked for, or not at all. */
export const IP_BLOCK_TTL_MS = 5 * SECOND;
/** Addresses remembered in one isolate; past this the least recently seen is dropped (its block's tokens are lost, not overspent). */
const MAX_BLOCKS = 10_000;

interface Entry {
  /** Tokens of the current block; 0 when there is none. */
  left: number;
  /** On this isolate's clock, from when the block was asked for: no token is spent at or after it. */
  until: number;
  /** The object's answer when it granted the block (tokens left to others, seconds to next). */
  admitted: Admitted;
  /** Requests for this key in this isolate, in the current IP_BLOCK_TTL_MS span and the one before. */
  spanStart: number;
  inSpan: number;
  inPrevious: number;
}

/**
 * Per-IP budgets spent in small blocks (issue 20, point 2): a sign-in or registration from an
 * address this isolate is busy with decides in memory instead of calling the limiter object.
 * The object takes a block of tokens from the GCRA bucket at once (`LimitRequest.want`).
 *
 * How big a block: what this address sent to this isolate over the last 5–10 s (its demand), at
 * most 5 % of the limit (IP_BLOCK_MAX at most), and at most half of what the bucket holds. So an
 * address seen now and then (an office's sign-ins spread over the morning) asks for one token at
 * a time, exactly as without blocks; an address close to its limit likewise; a block's unspent
 * rest, lost when it expires, is at most what the address sent in the seconds before.
 *
 * Exactness: every admitted request spends a token the object has taken from the bucket, so a
 * burst never passes more than `limit`, under any interleaving of isolates. A token is spent at
 * most IP_BLOCK_TTL_MS after the object counted it, so over any stretch of time at most
 * ceil(IP_BLOCK_TTL_MS / (window / limit)) requests more pass than GCRA alone would let through
 * (1 for the 100-per-15-minutes sign-in default).
 */
export class IpBlocks {
  /** Kept 2 × IP_BLOCK_TTL_MS after an address's last request: by then its block and its demand are gone. */
  private readonly entries = new IsolateCache<string, Entry>(MAX_BLOCKS);
  /**
   * Keys with a block on its way to this isolate (since when): concurrent requests ask for one
   * token each. The mark lives IP_BLOCK_TTL_MS at most: one left by a request cancelled before
   * its `finally` ran (e.g. on a client disconnect) no longer holds anyone back after that.
   */
  private readonly asking = new IsolateCache<string, number>(MAX_BLOCKS);

  /** Admits one request against `key` (a RateLimiter object), or throws 429 `rate_limited`. `now`: when it arrived. */
  async take(ns: LimiterNamespace, key: string, rate: Rate, now: number): Promise<Admitted> {
    const cap = Math.min(IP_BLOCK_MAX, Math.floor(rate.limit * IP_BLOCK_FRACTION));
    if (rate.sliding || cap < 2) return rateLimitVia(ns, key, rate); // never a block: nothing to remember
    // The rate is part of the name: a configuration change does not spend an older rate's block.
    const id = `${key} ${rate.limit}/${rate.windowSeconds}`;
    const entry = this.touch(id, now);
    const recent = entry.inSpan + entry.inPrevious;
    entry.inSpan++;
    if (entry.left > 0 && now < entry.until) return this.spend(entry);
    entry.left = 0; // an expired block's rest is lost (fewer admitted, never more)
    // One block request at a time per key: a concurrent burst would otherwise strand a block per
    // request in this isolate, all asked for before any could be spent.
    if (recent < 2 || this.asking.get(id, now) !== undefined) return rateLimitVia(ns, key, rate);
    this.asking.set(id, now, now, IP_BLOCK_TTL_MS);
    let result: LimitResult;
    try {
      result = await ask(ns, key, rate, Math.min(cap, recent));
    } finally {
      if (this.asking.get(id, now) === now) this.asking.delete(id);
    }
    const extra = (result.granted ?? 1) - 1;
    const admitted = admittedBy(result, rate);
    if (extra < 1) return admitted;
    if (entry.left > 0 && now < entry.until) {
      // A block another request of this isolate got meanwhile: one block, living as long as the
      // shorter-lived. This one's tokens were counted after `now`, so they end by now + TTL even
      // when its answer came late (after its in-flight mark expired and a newer block arrived).
      entry.left += extra;
      entry.until = Math.min(entry.until, now + IP_BLOCK_TTL_MS);
    } else {
      Object.assign(entry, { left: extra, until: now + IP_BLOCK_TTL_MS });
    }
    entry.admitted = admitted;
    return { ...admitted, remaining: admitted.remaining + entry.left, nextSeconds: 0 };
  }

  private spend(entry: Entry): Admitted {
    entry.left -= 1;
    const { remaining, resetSeconds, nextSeconds } = entry.admitted;
    return { remaining: remaining + entry.left, resetSeconds, nextSeconds: entry.left > 0 ? 0 : nextSeconds };
  }

  /** The key's entry, its demand spans moved on to `now`, and kept as the most recently used. */
  private touch(id: string, now: number): Entry {
    let entry = this.entries.get(id, now);
    if (entry) {
      const gone = now - entry.spanStart;
      if (gone >= IP_BLOCK_TTL_MS) {
        entry.inPrevious = gone < 2 * IP_BLOCK_TTL_MS ? entry.inSpan : 0;
        entry.inSpan = 0;
        entry.spanStart = gone < 2 * IP_BLOCK_TTL_MS ? entry.spanStart + IP_BLOCK_TTL_MS : now;
      }
    } else {
      entry = { left: 0, until: 0, admitted: { remaining: 0, resetSeconds: 0, nextSeconds: 0 }, spanStart: now, inSpan: 0, inPrevious: 0 };
    }
    this.entries.set(id, entry, now, 2 * IP_BLOCK_TTL_MS);
    return entry;
  }
}

/** This isolate's per-IP blocks (module state), one set per limiter namespace. */
const isolateIpBlocks = new WeakMap<LimiterNamespace, IpBlocks>();
const ipBlocksOf = (ns: LimiterNamespace) => {
  let blocks = isolateIpBlocks.get(ns);
  if (!blocks) isolateIpBlocks.set(ns, (blocks = new IpBlocks()));
  return blocks;
};

/**
 * A per-IP limit on `name` (IPv6 counted per RATE_IPV6_PREFIX network), spent in blocks (see
 * `IpBlocks`). Call it before any per-email or per-account budget, so a caller refused here
 * spends nothing of a victim's budget.
 */
export const rateLimitIp = (ctx: Pick<RequestContext, "env" | "ip" | "config">, name: string, rate: Rate) =>
  ipBlocksOf(ctx.env.RATE_LIMITER).take(ctx.env.RATE_LIMITER, `${name}:ip:${ipLimitKey(ctx.ip, ctx.config.RATE_IPV6_PREFIX)}`, rate, Date.now());

/**
 * One authenticated write of `userId` (an API key counts as its owner) against
 * RATE_WRITES_PER_USER, counted exactly over the last window (never more than N in any window). With `refuse: false` the write is counted while budget remains but never
 * refused (writes that only take access away).
 */
export async function rateLimitWrites(ctx: Pick<RequestContext, "env" | "config">, userId: string, opts: { refuse: boolean }): Promise<void> {
  try {
    await rateLimit(ctx.env, `writes:user:${userId}`, { ...ctx.config.RATE_WRITES_PER_USER, sliding: true });
  } catch (err) {
    if (opts.refuse || !(err instanceof AppError && err.code === "rate_limited")) throw err;
  }
}
