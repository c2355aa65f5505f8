import type { LimitResult, RateLimiter } from "../durable-objects/rate-limiter";
import type { Env } from "../env";
import { ipLimitKey } from "./client-ip";
import type { RequestContext } from "./context";
import { AppError } from "./errors";
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

/** A per-IP block is this share of the limit (rounded down; below 2 there is no block): "a few percent". */
export const IP_BLOCK_FRACTION = 0.05;
/** …and at most this many tokens: what an isolate may lose when it is evicted holding one. */
export const IP_BLOCK_MAX = 50;
/** A block's tokens are spent within this long after it was asked for, or not at all. */
export const IP_BLOCK_TTL_MS = 5 * SECOND;
/** IPs with a block in one isolate; past this the oldest is dropped (its tokens are lost, not overspent). */
const MAX_BLOCKS = 10_000;

interface Block {
  left: number;
  /** On this isolate's clock, from when the block was asked for: no token is spent at or after it. */
  until: number;
  /** The object's answer when it granted the block (tokens left to others, seconds to next). */
  admitted: Admitted;
}

/**
 * Per-IP budgets spent in small blocks (issue 20, point 2): a sign-in or registration from an
 * address this isolate has just admitted decides in memory instead of calling the limiter object.
 * The object takes a block of tokens from the GCRA bucket at once (`LimitRequest.want`), at most
 * half of what the bucket holds, so an address close to its limit is asked for one request at a
 * time, exactly as without blocks.
 *
 * Exactness: every admitted request spends a token the object has taken from the bucket, so a
 * burst never passes more than `limit`, under any interleaving of isolates. A token is spent at
 * most IP_BLOCK_TTL_MS after the object counted it, so over any stretch of time at most
 * ceil(IP_BLOCK_TTL_MS / (window / limit)) requests more pass than GCRA alone would let through
 * (1 for the 100-per-15-minutes sign-in default). Tokens of a block that expires unspent, or of an
 * evicted isolate, are lost until the bucket refills (fewer admitted, never more).
 */
export class IpBlocks {
  private readonly blocks = new Map<string, Block>();
  /**
   * Keys with a block on its way to this isolate (since when): concurrent requests ask for one
   * token each. An entry older than IP_BLOCK_TTL_MS is stale (its request was cancelled before
   * its `finally` ran, e.g. on a client disconnect) and no longer holds anyone back.
   */
  private readonly asking = new Map<string, number>();

  /** Admits one request against `key` (a RateLimiter object), or throws 429 `rate_limited`. `now`: when it arrived. */
  async take(ns: LimiterNamespace, key: string, rate: Rate, now: number): Promise<Admitted> {
    // The rate is part of the name: a configuration change does not spend an older rate's block.
    const id = `${key} ${rate.limit}/${rate.windowSeconds}`;
    const held = this.blocks.get(id);
    if (held && held.left > 0 && now < held.until) return this.spend(held);
    const want = Math.min(IP_BLOCK_MAX, Math.floor(rate.limit * IP_BLOCK_FRACTION));
    // One block request at a time per key: a concurrent burst would otherwise strand a block per
    // request in this isolate, all asked for before any could be spent.
    if (rate.sliding || want < 2 || now - (this.asking.get(id) ?? -Infinity) < IP_BLOCK_TTL_MS) return rateLimitVia(ns, key, rate);
    // Only stale entries pile up; dropping a live one at worst lets two blocks be asked at once.
    if (this.asking.size >= MAX_BLOCKS) this.asking.clear();
    this.asking.set(id, now);
    let result: LimitResult;
    try {
      result = await ask(ns, key, rate, want);
    } finally {
      this.asking.delete(id);
    }
    const extra = (result.granted ?? 1) - 1;
    if (extra < 1) return admittedBy(result, rate);
    const block: Block = { left: extra, until: now + IP_BLOCK_TTL_MS, admitted: admittedBy(result, rate) };
    // Replaces an expired block, whose rest is lost (fewer admitted, never more).
    this.track(id, block);
    return { ...block.admitted, remaining: block.admitted.remaining + block.left, nextSeconds: 0 };
  }

  private spend(block: Block): Admitted {
    block.left -= 1;
    const { remaining, resetSeconds, nextSeconds } = block.admitted;
    return { remaining: remaining + block.left, resetSeconds, nextSeconds: block.left > 0 ? 0 : nextSeconds };
  }

  private track(id: string, block: Block): void {
    this.blocks.delete(id);
    if (this.blocks.size >= MAX_BLOCKS) {
      const oldest = this.blocks.keys().next();
      if (!oldest.done) this.blocks.delete(oldest.value);
    }
    this.blocks.set(id, block);
  }
}

const rateLimitVia = async (ns: LimiterNamespace, key: string, rate: Rate) => admittedBy(await ask(ns, key, rate), rate);

/** This isolate's per-IP blocks (module state: one per isolate). */
const isolateIpBlocks = new IpBlocks();

/**
 * A per-IP limit on `name` (IPv6 counted per RATE_IPV6_PREFIX network), spent in blocks (see
 * `IpBlocks`). Call it before any per-email or per-account budget, so a caller refused here
 * spends nothing of a victim's budget.
 */
export const rateLimitIp = (ctx: Pick<RequestContext, "env" | "ip" | "config">, name: string, rate: Rate) =>
  isolateIpBlocks.take(ctx.env.RATE_LIMITER, `${name}:ip:${ipLimitKey(ctx.ip, ctx.config.RATE_IPV6_PREFIX)}`, rate, Date.now());

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
