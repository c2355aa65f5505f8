import { DurableObject } from "cloudflare:workers";
import { takeToken, type LimitRequest } from "./rate-limiter";

export interface AttemptRequest {
  /** The caller's clock (ms), so the lock and its expiry use the request's `now`. */
  now: number;
  /** Consecutive failures that lock. */
  threshold: number;
  lockMs: number;
  /** An optional rate limit taken in the same step, before the reservation (per-email budget). */
  rate?: LimitRequest;
  /**
   * Growing locks (second factors): each lock lasts twice as long as the one before, up to
   * `maxLockMs`, until a success (`succeed()`) starts again at `lockMs`.
   */
  maxLockMs?: number;
  /**
   * A reservation of this guard that ended in a session (its `seq`, recorded with the session in
   * D1 and read back by the next sign-in's lookup): it and every attempt reserved before it are
   * forgiven, as a `succeed()` call would have done, before this attempt is judged. Ignored
   * unless it is one of the attempts this guard still counts.
   */
  settled?: number;
}

/** What a refusal's `Retry-After` says: the wait after which the same request passes both the rate and the lock. */
export type AttemptResult =
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "locked"; lockedUntil: number; retryAfterSeconds: number }
  /** Judge the attempt. `failures` counts this one; `locking` when it set the lock (audit it if it fails). */
  | { kind: "reserved"; failures: number; locking: boolean; lockedUntil: number | null; seq: number };

interface GuardState {
  tat?: number;
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
  /** Locks since the last success (growing locks only). */
  locks?: number;
  /** The newest reservation's number: unique per guard, increasing, about its time in µs. */
  seq?: number;
  /** The numbers of the reservations still counted as failures, oldest first (for `settled`). */
  pending?: number[];
}

const STATE_KEY = "state";
/** Reservations remembered for `settled` (a lock stops reserving at the threshold, at most 100). */
const MAX_PENDING = 100;
/** Failures without a new one for this long are forgotten (the object then holds no storage). */
const FORGET_MS = 86_400_000;
/** A growing lock's level is forgotten after this long without a failure (so the object can go idle). */
const FORGET_LOCKS_MS = 7 * FORGET_MS;

/** Milliseconds until the rate bucket with theoretical arrival time `tat` lets one more request through. */
function rateWaitMs(tat: number | undefined, now: number, rate: LimitRequest | undefined): number {
  if (!rate || tat === undefined) return 0;
  const windowMs = rate.windowSeconds * 1000;
  return Math.max(0, tat + windowMs / rate.limit - windowMs - now);
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Failure and lock state of one sign-in subject: the normalised email for passwords (so an
 * unknown email behaves exactly like a real one), the user for second factors.
 *
 * Exactness: an attempt is reserved *before* the secret is checked: `attempt()` counts it as a
 * failure in one synchronous read-modify-write (nothing in it awaits, and a Durable Object runs
 * one call at a time), and a success undoes that with `succeed()`. So with a threshold of 5, at
 * most 5 of any number of concurrent wrong attempts are judged; the rest answer 423 at once.
 * A lock that expired starts the count from zero (decay). With `maxLockMs` (second factors) each
 * lock lasts twice as long as the one before, up to that cap, until a success.
 *
 * A success is told either by `succeed()` or, without a call of its own, by the next attempt's
 * `settled`: the password sign-in records the reservation's `seq` with its session (same D1
 * batch), and every later sign-in's lookup reads it back before it asks the guard. Until then
 * that attempt counts as a failure, exactly as while a `succeed()` is on its way; once told,
 * the success forgives what it would have forgiven, and the count after it stays the count of
 * the attempts reserved after it (a lock those set stands).
 */
export class SignInGuard extends DurableObject {
  private state: GuardState = { failures: 0, lockedUntil: 0, lastFailureAt: 0 };
  private alarmAt = 0;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<GuardState>(STATE_KEY)) ?? this.state;
      this.alarmAt = (await ctx.storage.getAlarm()) ?? 0;
    });
  }

  attempt(request: AttemptRequest): AttemptResult {
    const { now, threshold, lockMs } = request;
    const s = this.state;
    const settled = this.settle(request.settled, threshold);
    if (request.rate) {
      const { result, tat } = takeToken(s.tat, now, request.rate);
      // Refused by the rate while also locked: the client must wait for both.
      if (!result.allowed) {
        if (settled) this.save(now);
        return { kind: "rate_limited", retryAfterSeconds: Math.max(result.retryAfterSeconds, seconds(Math.max(0, s.lockedUntil - now))) };
      }
      s.tat = tat;
    }
    if (s.lockedUntil > now) {
      this.save(now);
      // This refusal took a token too: the wait is until the lock ends *and* the rate has one again.
      return { kind: "locked", lockedUntil: s.lockedUntil, retryAfterSeconds: seconds(Math.max(s.lockedUntil - now, rateWaitMs(s.tat, now, request.rate))) };
    }
    if (s.lockedUntil !== 0 || now - s.lastFailureAt > FORGET_MS) {
      // The lock expired (or the failures are old): count from zero again.
      s.failures = 0;
      s.lockedUntil = 0;
      s.pending = [];
    }
    if (s.locks && now - s.lastFailureAt > FORGET_LOCKS_MS) s.locks = 0;
    s.failures += 1;
    s.lastFailureAt = now;
    // Unique and increasing on this guard across restarts and cleanups (it follows the clock),
    // and unlikely to equal another guard's (the random part).
    s.seq = Math.max((s.seq ?? 0) + 1, Date.now() * 1000 + Math.floor(Math.random() * 1000));
    s.pending = [...(s.pending ?? []), s.seq].slice(-MAX_PENDING);
    const locking = s.failures >= threshold;
    if (locking) {
      if (request.maxLockMs !== undefined) {
        const level = s.locks ?? 0;
        s.locks = level + 1;
        s.lockedUntil = now + Math.min(lockMs * 2 ** Math.min(level, 30), Math.max(lockMs, request.maxLockMs));
      } else {
        s.lockedUntil = now + lockMs;
      }
    }
    this.save(now);
    return { kind: "reserved", failures: s.failures, locking, lockedUntil: locking ? s.lockedUntil : null, seq: s.seq };
  }

  /**
   * The reservation `seq` succeeded (see `AttemptRequest.settled`): it and every attempt before
   * it are forgiven. A lock stands only if the attempts reserved after it reach the threshold.
   */
  private settle(seq: number | undefined, threshold: number): boolean {
    const s = this.state;
    const at = seq === undefined || !s.pending ? -1 : s.pending.indexOf(seq);
    if (at < 0) return false;
    s.pending = s.pending!.slice(at + 1);
    s.failures = s.pending.length;
    if (s.failures < threshold) {
      s.lockedUntil = 0;
      s.locks = 0;
    }
    return true;
  }

  /**
   * How long an attempt now would be refused (seconds, 0 = it would pass), without spending
   * anything: for a caller refused by an earlier limit, whose `Retry-After` must cover this one too.
   */
  wait(request: Pick<AttemptRequest, "now" | "rate"> & Partial<Pick<AttemptRequest, "threshold" | "settled">>): number {
    // A success it has not been told of yet (`settled`) is applied first: a lock that success
    // lifts is no reason to wait.
    if (request.threshold !== undefined && this.settle(request.settled, request.threshold)) this.save(request.now);
    const ms = Math.max(this.state.lockedUntil - request.now, rateWaitMs(this.state.tat, request.now, request.rate));
    return ms > 0 ? seconds(ms) : 0;
  }

  /** The reserved attempt succeeded: the count, any lock it set and the growth of locks are cleared. */
  succeed(): void {
    this.state.failures = 0;
    this.state.pending = [];
    this.state.lockedUntil = 0;
    this.state.locks = 0;
    this.save(Date.now());
  }

  /** The reserved attempt was not judged (e.g. a conflict): give the reservation back. */
  release(threshold: number): void {
    const s = this.state;
    s.failures = Math.max(0, s.failures - 1);
    s.pending = s.pending?.slice(0, -1);
    if (s.failures < threshold && s.lockedUntil !== 0) {
      s.lockedUntil = 0;
      // The lock it set is undone, and with it that lock's step of growth.
      if (s.locks) s.locks -= 1;
    }
    this.save(Date.now());
  }

  private save(now: number): void {
    void this.ctx.storage.put(STATE_KEY, this.state, { allowUnconfirmed: true });
    // One cleanup alarm at a time: when it fires while the state is still needed it moves itself
    // (see alarm()), so a busy email does not pay an alarm write on every attempt.
    if (this.alarmAt === 0) {
      const s = this.state;
      this.alarmAt = Math.max(s.tat ?? 0, s.lockedUntil, s.lastFailureAt + (s.locks ? FORGET_LOCKS_MS : FORGET_MS), now) + 1000;
      void this.ctx.storage.setAlarm(this.alarmAt);
    }
  }

  override async alarm(): Promise<void> {
    const s = this.state;
    const now = Date.now();
    const idle =
      (s.tat ?? 0) <= now && s.lockedUntil <= now && (s.failures === 0 || now - s.lastFailureAt > FORGET_MS) && (!s.locks || now - s.lastFailureAt > FORGET_LOCKS_MS);
    if (idle) {
      this.state = { failures: 0, lockedUntil: 0, lastFailureAt: 0 };
      this.alarmAt = 0;
      await this.ctx.storage.deleteAll();
    } else {
      this.alarmAt = Math.max(s.tat ?? 0, s.lockedUntil, s.lastFailureAt + (s.locks ? FORGET_LOCKS_MS : FORGET_MS), now) + 1000;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}
