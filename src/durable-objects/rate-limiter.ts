import { DurableObject } from "cloudflare:workers";

export interface LimitRequest {
  /** Requests allowed per window (also the burst size). */
  limit: number;
  windowSeconds: number;
}

export interface LimitResult {
  allowed: boolean;
  /** Requests still allowed right now. */
  remaining: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

const TAT_KEY = "tat";
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
  const next = start + interval;
  if (next - now > windowMs) {
    return {
      tat,
      result: {
        allowed: false,
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
      remaining: Math.floor((windowMs - (next - now)) / interval),
      retryAfterSeconds: 0,
      resetSeconds: Math.ceil((next - now) / 1000),
    },
  };
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
  private alarmAt = 0;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    void ctx.blockConcurrencyWhile(async () => {
      this.tat = await ctx.storage.get<number>(TAT_KEY);
      this.alarmAt = (await ctx.storage.getAlarm()) ?? 0;
    });
  }

  /** Takes one token if one is available. */
  limit(request: LimitRequest): LimitResult {
    const now = Date.now();
    const { result, tat } = takeToken(this.tat, now, request);
    if (!result.allowed || tat === undefined) return result;
    this.tat = tat;
    void this.ctx.storage.put(TAT_KEY, tat, { allowUnconfirmed: true });
    if (this.alarmAt === 0) {
      // Clean up once the bucket has been full for a while, so idle keys hold no storage. One
      // alarm at a time: when it fires while the key is still in use it moves itself, so busy
      // keys do not pay an alarm write per request.
      this.alarmAt = tat + IDLE_CLEANUP_MS;
      void this.ctx.storage.setAlarm(this.alarmAt);
    }
    return result;
  }

  override async alarm(): Promise<void> {
    if (this.tat === undefined || this.tat + IDLE_CLEANUP_MS <= Date.now()) {
      this.tat = undefined;
      this.alarmAt = 0;
      await this.ctx.storage.deleteAll();
    } else {
      this.alarmAt = this.tat + IDLE_CLEANUP_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}
