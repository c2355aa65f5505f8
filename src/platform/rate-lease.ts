import type { LeaseResult, RateLimiter } from "../durable-objects/rate-limiter";
import { rateLimited, type Rate } from "./rate-limit";
import { SECOND } from "./time";

/**
 * Leased hourly budgets (issue 20.1): the RateLimiter object of a key hands this isolate a block
 * of the current window's budget, which the isolate spends in memory; most requests decide
 * without a Durable Object call.
 *
 * Exactness: the object carves blocks from what is left of the window (`carveLease`), so the
 * tokens of all outstanding blocks plus the ones spent never exceed the limit. A block is only
 * spent inside its window: it dies LEASE_TTL_MS after it was asked for, or when its window ends,
 * whichever is first. Both are measured on this isolate's clock from the moment the request was
 * sent (the object's "time left in the window" is counted from when it answered, later), so a
 * clock skew between isolate and object cannot carry a block into the next window. The unspent
 * rest of an expired block goes back with the next request for a block. An isolate evicted while
 * it holds a block loses those tokens for the rest of the window (under-admission, never over).
 *
 * `RateLimit-Remaining` from a lease: what the object had left uncarved when this isolate last
 * asked, plus this isolate's unspent block. Exact while one isolate serves the key; with several,
 * it may be off by the other isolates' blocks and spending since (at most a few percent of the
 * limit, for at most LEASE_TTL_MS).
 */

/** A block is this share of the limit (at least 1): "a few percent", one object call per ~50 requests. */
export const LEASE_FRACTION = 0.02;
/** A block lives this long at most: unspent tokens return to the object soon, and the headers stay fresh. */
export const LEASE_TTL_MS = 10 * SECOND;
/**
 * A refusal is remembered this long (at most until the window ends): a caller hammering a spent
 * key costs one object call per second per isolate, not one per request. Short, because another
 * isolate may give unspent tokens back meanwhile (fewer admitted for a second, never more).
 */
export const REFUSAL_MEMORY_MS = SECOND;
/** Keys with a block in one isolate; past this the oldest is dropped (its tokens are lost, not overspent). */
const MAX_KEYS = 10_000;

/** A leased budget is a plain window limit (no sliding log). */
export type LeasedRate = Pick<Rate, "limit" | "windowSeconds">;

export interface Admission {
  /** See the module comment. */
  remaining: number;
}

interface Lease {
  window: number;
  left: number;
  /** On this isolate's clock: no token of this block is spent at or after it. */
  until: number;
  /** The object's uncarved budget when it granted this block. */
  objectRemaining: number;
  /** On this isolate's clock: refused until then without asking the object, and when the refusing window ends. */
  refusedUntil: number;
  windowEndsAt: number;
}


/** One isolate's blocks. The worker uses `isolateLeases`; a test makes several to stand for several isolates. */
export class LeaseClient {
  private readonly leases = new Map<string, Lease>();

  /**
   * Admits one request against the budget named `name` (a RateLimiter object), or throws 429
   * `rate_limited` with `Retry-After` (the seconds until the window ends). `now`: the request's time.
   *
   * Concurrent requests of this isolate that find no block each ask on their own and merge what
   * they get: a request never awaits a promise made by another request (workerd cancels such a
   * continuation when the request that made it ends first, e.g. on a client disconnect).
   */
  async take(ns: DurableObjectNamespace<RateLimiter>, name: string, rate: LeasedRate, now: number): Promise<Admission> {
    const held = this.spend(name, now);
    if (held) return held;
    const before = this.leases.get(name);
    if (before && now < before.refusedUntil) throw rateLimited(Math.max(1, Math.ceil((before.windowEndsAt - now) / SECOND)));
    // Any tokens left here belong to an expired block: they go back to its window.
    const giveBack = before && before.left > 0 ? { window: before.window, count: before.left } : undefined;
    if (before) before.left = 0;
    const want = Math.max(1, Math.ceil(rate.limit * LEASE_FRACTION));
    const stub = ns.get(ns.idFromName(name));
    const result = (await stub.lease({ limit: rate.limit, windowSeconds: rate.windowSeconds, want, ...(giveBack ? { giveBack } : {}) })) as LeaseResult;
    // Another request of this isolate may have stored a block meanwhile.
    const lease = this.leases.get(name) ?? this.track(name);
    if (result.granted === 0) {
      // A block another request got before the object ran dry still serves this one.
      const late = this.spend(name, now);
      if (late) return late;
      lease.windowEndsAt = now + result.windowLeftMs;
      lease.refusedUntil = now + Math.min(result.windowLeftMs, REFUSAL_MEMORY_MS);
      throw rateLimited(result.retryAfterSeconds);
    }
    const extra = result.granted - 1; // this request spends one
    const until = now + Math.min(result.windowLeftMs, LEASE_TTL_MS);
    const live = lease.left > 0 && now < lease.until;
    if (live && lease.window === result.window) {
      // Same window: one block, living as long as the shorter-lived of the two.
      lease.left += extra;
      lease.until = Math.min(lease.until, until);
      lease.objectRemaining = Math.min(lease.objectRemaining, result.remaining);
    } else if (!live || lease.window < result.window) {
      Object.assign(lease, { window: result.window, left: extra, until, objectRemaining: result.remaining });
    } // else: the block held is from a newer window; this older grant's rest is dropped (fewer admitted, never more).
    lease.refusedUntil = 0;
    return { remaining: lease.objectRemaining + lease.left };
  }

  /** One token from this isolate's live block for `name`, if it has one. */
  private spend(name: string, now: number): Admission | undefined {
    const lease = this.leases.get(name);
    if (!lease || lease.left <= 0 || now >= lease.until) return undefined;
    lease.left -= 1;
    return { remaining: lease.objectRemaining + lease.left };
  }

  private track(name: string): Lease {
    if (this.leases.size >= MAX_KEYS) {
      const oldest = this.leases.keys().next();
      if (!oldest.done) this.leases.delete(oldest.value);
    }
    const lease: Lease = { window: 0, left: 0, until: 0, objectRemaining: 0, refusedUntil: 0, windowEndsAt: 0 };
    this.leases.set(name, lease);
    return lease;
  }
}

/** This isolate's blocks (module state: one per isolate). */
export const isolateLeases = new LeaseClient();

/**
 * Admits one request of an API key (user or organization key) against its hourly budget, from
 * this isolate's block when it has one.
 */
export const takeLeased = (env: { RATE_LIMITER: DurableObjectNamespace<RateLimiter> }, name: string, rate: LeasedRate, now: number) =>
  isolateLeases.take(env.RATE_LIMITER, name, rate, now);
