import { DurableObject } from "cloudflare:workers";

export interface LimitRequest {
  /** Requests allowed per window (also the burst size). */
  limit: number;
  windowSeconds: number;
  /**
   * Count the requests of the last `windowSeconds` exactly (a sliding log of at most `limit`
   * times) instead of GCRA: never more than `limit` in any window, where GCRA would let one more
   * through every `window / limit` after a burst. For limits stated as "N per window" over a
   * long window (RATE_WRITES_PER_USER).
   */
  sliding?: boolean;
  /**
   * GCRA only: take up to this many tokens at once (a block the isolate spends in memory, see
   * platform/rate-limit.ts `IpBlocks`). Never more than half of what the bucket holds, so near
   * the limit every request is asked for on its own again.
   */
  want?: number;
}

export interface LimitResult {
  allowed: boolean;
  /** Tokens taken: 1, or up to `want` when it was asked for (0 when refused). */
  granted?: number;
  /** Requests still allowed right now. */
  remaining: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

const TAT_KEY = "tat";
const LOG_KEY = "log";
const LEASE_KEY = "lease";
/**
 * A key's storage is deleted once its bucket has been full (no request needing it) for this
 * long. Not at once: a key whose bucket refills between its requests (a generous limit used
 * steadily) would otherwise delete and rewrite its storage every second.
 */
export const IDLE_CLEANUP_MS = 60_000;

/**
 * GCRA, pure: given the bucket's theoretical arrival time `tat` (undefined = full bucket), takes
 * one token at `now` if one is available and returns the new `tat`. Shared by every exact limiter.
 */
export function takeToken(tat: number | undefined, now: number, request: LimitRequest): { result: LimitResult; tat: number | undefined } {
  const { limit, windowSeconds } = request;
  if (!(Number.isInteger(limit) && limit >= 1 && windowSeconds > 0)) {
    throw new RangeError("limit must be a positive integer and windowSeconds > 0");
  }
  const windowMs = windowSeconds * 1000;
  const interval = windowMs / limit;
  const start = Math.max(tat ?? now, now);
  // A block (request.want) is at most half of the tokens that fit now; the arithmetic for one
  // token is unchanged, so a block of 1 decides exactly as a plain request.
  const granted = request.want !== undefined && request.want > 1 ? Math.max(1, Math.min(Math.floor(request.want), Math.floor(Math.floor((windowMs - (start - now)) / interval) / 2))) : 1;
  const next = start + granted * interval;
  if (next - now > windowMs) {
    return {
      tat,
      result: {
        allowed: false,
        ...(request.want !== undefined ? { granted: 0 } : {}),
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((next - now - windowMs) / 1000)),
        resetSeconds: Math.ceil((start - now) / 1000),
      },
    };
  }
  return {
    tat: next,
    result: {
      allowed: true,
      ...(request.want !== undefined ? { granted } : {}),
      remaining: Math.floor((windowMs - (next - now)) / interval),
      retryAfterSeconds: 0,
      resetSeconds: Math.ceil((next - now) / 1000),
    },
  };
}

/**
 * Sliding log, pure: `log` holds the times (ascending) of the requests allowed in the last
 * window. Takes one request at `now` if fewer than `limit` remain in the window; when refused,
 * `retryAfterSeconds` is when enough of them have left the window for one more to pass.
 */
export function takeFromLog(log: readonly number[], now: number, request: LimitRequest): { result: LimitResult; log: number[] } {
  const { limit, windowSeconds } = request;
  if (!(Number.isInteger(limit) && limit >= 1 && windowSeconds > 0)) {
    throw new RangeError("limit must be a positive integer and windowSeconds > 0");
  }
  const windowMs = windowSeconds * 1000;
  const live = log.filter((t) => t > now - windowMs);
  if (live.length >= limit) {
    // The request at index length - limit must leave the window (at t + window) for one more to fit.
    const frees = live[live.length - limit]! + windowMs;
    return {
      log: live,
      result: {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((frees - now) / 1000)),
        resetSeconds: Math.ceil((live[live.length - 1]! + windowMs - now) / 1000),
      },
    };
  }
  live.push(now);
  return {
    log: live,
    result: { allowed: true, remaining: limit - live.length, retryAfterSeconds: 0, resetSeconds: Math.ceil((live[0]! + windowMs - now) / 1000) },
  };
}

/** A block of an hourly (per-window) budget asked for by an isolate; see `carveLease`. */
export interface LeaseRequest {
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
  /** Tokens wanted: the block the isolate will spend in memory (at least 1). */
  want: number;
  /** Unspent tokens of the isolate's previous lease, counted back only into the window they came from. */
  giveBack?: { window: number; count: number };
}

export interface LeaseResult {
  /** Tokens carved for the caller (0: refused, the window's budget is spent). */
  granted: number;
  /** The window's id (its start, ms on the object's clock): a lease is only good in its window. */
  window: number;
  /** Milliseconds until the window ends, from the object's now: the lease dies then at the latest. */
  windowLeftMs: number;
  /** Budget still uncarved in the window after this grant. */
  remaining: number;
  /** When refused: seconds until the window ends (0 when granted). */
  retryAfterSeconds: number;
}

/** The leased budget's state: the current window and the tokens carved from it (leases, spent or not). */
export interface LeaseWindow {
  start: number;
  taken: number;
}

/**
 * Near exhaustion a block is at most 1/LEASE_SHARE of what is left (and at least 1): the last
 * tokens are not parked in one isolate that may never spend them, and once fewer than
 * LEASE_SHARE remain each grant is a single token, spent by the request that asked for it.
 */
export const LEASE_SHARE = 8;

/**
 * Fixed windows, pure: a window starts with the first request after the previous one ended and
 * lasts `windowSeconds`. Carves min(want, what is left, what is left / LEASE_SHARE) tokens from
 * it. Every admitted request spends a carved token, and tokens only come back into the window
 * they were carved from, so no window ever admits more than `limit`, however the isolates
 * interleave.
 */
export function carveLease(state: LeaseWindow | undefined, now: number, request: LeaseRequest): { result: LeaseResult; state: LeaseWindow } {
  const { limit, windowSeconds, want, giveBack } = request;
  if (!(Number.isInteger(limit) && limit >= 1 && windowSeconds > 0 && Number.isInteger(want) && want >= 1)) {
    throw new RangeError("limit and want must be positive integers and windowSeconds > 0");
  }
  const windowMs = windowSeconds * 1000;
  let { start, taken } = state && now < state.start + windowMs ? state : { start: now, taken: 0 };
  if (giveBack && giveBack.window === start && Number.isInteger(giveBack.count) && giveBack.count > 0) {
    taken = Math.max(0, taken - giveBack.count);
  }
  const left = limit - taken;
  const windowLeftMs = start + windowMs - now;
  if (left <= 0) {
    return {
      state: { start, taken },
      result: { granted: 0, window: start, windowLeftMs, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(windowLeftMs / 1000)) },
    };
  }
  const granted = Math.min(want, left, Math.max(1, Math.floor(left / LEASE_SHARE)));
  taken += granted;
  return { state: { start, taken }, result: { granted, window: start, windowLeftMs, remaining: limit - taken, retryAfterSeconds: 0 } };
}

/**
 * Exact rate limiter, one object per limited key (login per email, API key per hour, …), never
 * one global object. GCRA (a token bucket without a refill timer): `limit` requests may arrive
 * at once, then one more every `window / limit`.
 *
 * Exactness: the state (the bucket's "theoretical arrival time") lives in a field, read and
 * written synchronously inside `limit()`; a Durable Object runs one such call at a time and
 * nothing in it awaits, so no concurrent request can slip in between the read and the write: a
 * limit of N lets exactly N through, however many arrive together.
 *
 * Durability: every change is written to the object's storage, loaded again if the object is
 * evicted. The write is not awaited by the caller (`allowUnconfirmed`): a login does not wait for
 * a disk flush, at the price that a crash of the object could forget the last few milliseconds
 * of counts.
 */
export class RateLimiter extends DurableObject {
  private tat: number | undefined;
  /** Sliding-log mode: the allowed requests' times, and when the newest leaves its window. */
  private log: number[] = [];
  private logEmptyAt = 0;
  private alarmAt = 0;
  /** Leased mode: the current window and the tokens carved from it. */
  private leased: LeaseWindow | undefined;
  private leasedEndsAt = 0;
  /**
   * Where the time comes from, in milliseconds: the system clock. A test that must see a window
   * pass sets its own on the instance (runInDurableObject) instead of waiting.
   */
  clock: { now(): number } = Date;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    void ctx.blockConcurrencyWhile(async () => {
      this.tat = await ctx.storage.get<number>(TAT_KEY);
      const stored = await ctx.storage.get<{ log: number[]; emptyAt: number }>(LOG_KEY);
      this.log = stored?.log ?? [];
      this.logEmptyAt = stored?.emptyAt ?? 0;
      this.alarmAt = (await ctx.storage.getAlarm()) ?? 0;
      const leased = await ctx.storage.get<LeaseWindow & { end: number }>(LEASE_KEY);
      this.leased = leased && { start: leased.start, taken: leased.taken };
      this.leasedEndsAt = leased?.end ?? 0;
    });
  }

  /** Takes one token (one place in the window, in sliding mode) if one is available. */
  limit(request: LimitRequest): LimitResult {
    const now = this.clock.now();
    if (request.sliding) {
      const { result, log } = takeFromLog(this.log, now, request);
      this.log = log;
      if (!result.allowed) return result;
      this.logEmptyAt = now + request.windowSeconds * 1000;
      void this.ctx.storage.put(LOG_KEY, { log, emptyAt: this.logEmptyAt }, { allowUnconfirmed: true });
      this.scheduleCleanup(this.logEmptyAt);
      return result;
    }
    const { result, tat } = takeToken(this.tat, now, request);
    if (!result.allowed || tat === undefined) return result;
    this.tat = tat;
    // A block of several tokens is written before the answer leaves (as a lease is): a crash of
    // the object cannot forget tokens an isolate is already spending.
    void this.ctx.storage.put(TAT_KEY, tat, (result.granted ?? 1) > 1 ? {} : { allowUnconfirmed: true });
    this.scheduleCleanup(tat);
    return result;
  }

  /**
   * Carves a block of the window's budget for an isolate (and takes back the unspent rest of its
   * previous block). Synchronous like `limit`, so concurrent calls cannot both carve the last
   * token. A grant is written to storage before the answer leaves (no `allowUnconfirmed`): a
   * crash of the object cannot forget tokens an isolate is already spending. Grants are rare (one
   * per block), so the wait is not on the common path.
   */
  lease(request: LeaseRequest): LeaseResult {
    const now = this.clock.now();
    const { result, state } = carveLease(this.leased, now, request);
    const changed = this.leased?.start !== state.start || this.leased.taken !== state.taken;
    this.leased = state;
    if (changed) {
      this.leasedEndsAt = state.start + request.windowSeconds * 1000;
      void this.ctx.storage.put(LEASE_KEY, { ...state, end: this.leasedEndsAt }, result.granted > 0 ? {} : { allowUnconfirmed: true });
      this.scheduleCleanup(this.leasedEndsAt);
    }
    return result;
  }

  /**
   * Clean up once the bucket has been full (the log empty) for a while, so idle keys hold no
   * storage. One alarm at a time: when it fires while the key is still in use it moves itself,
   * so busy keys do not pay an alarm write per request.
   */
  private scheduleCleanup(idleFrom: number): void {
    if (this.alarmAt !== 0) return;
    this.alarmAt = idleFrom + IDLE_CLEANUP_MS;
    void this.ctx.storage.setAlarm(this.alarmAt);
  }

  override async alarm(): Promise<void> {
    const idleFrom = Math.max(this.tat ?? 0, this.logEmptyAt, this.leasedEndsAt);
    if (idleFrom + IDLE_CLEANUP_MS <= this.clock.now()) {
      this.tat = undefined;
      this.log = [];
      this.logEmptyAt = 0;
      this.leased = undefined;
      this.leasedEndsAt = 0;
      this.alarmAt = 0;
      await this.ctx.storage.deleteAll();
    } else {
      this.alarmAt = idleFrom + IDLE_CLEANUP_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}
