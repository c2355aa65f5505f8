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
}

export type AttemptResult =
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "locked"; lockedUntil: number }
  /** Judge the attempt. `failures` counts this one; `locking` when it set the lock (audit it if it fails). */
  | { kind: "reserved"; failures: number; locking: boolean; lockedUntil: number | null };

interface GuardState {
  tat?: number;
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

const STATE_KEY = "state";
/** Failures without a new one for this long are forgotten (the object then holds no storage). */
const FORGET_MS = 86_400_000;

/**
 * Failure and lock state of one sign-in subject: the normalised email for passwords (so an
 * unknown email behaves exactly like a real one), the user for second factors.
 *
 * Exactness: an attempt is reserved *before* the secret is checked: `attempt()` counts it as a
 * failure in one synchronous read-modify-write (nothing in it awaits, and a Durable Object runs
 * one call at a time), and a success undoes that with `succeed()`. So with a threshold of 5, at
 * most 5 of any number of concurrent wrong attempts are judged; the rest answer 423 at once.
 * A lock that expired starts the count from zero (decay).
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
    if (request.rate) {
      const { result, tat } = takeToken(s.tat, now, request.rate);
      if (!result.allowed) return { kind: "rate_limited", retryAfterSeconds: result.retryAfterSeconds };
      s.tat = tat;
    }
    if (s.lockedUntil > now) {
      this.save(now);
      return { kind: "locked", lockedUntil: s.lockedUntil };
    }
    if (s.lockedUntil !== 0 || now - s.lastFailureAt > FORGET_MS) {
      // The lock expired (or the failures are old): count from zero again.
      s.failures = 0;
      s.lockedUntil = 0;
    }
    s.failures += 1;
    s.lastFailureAt = now;
    const locking = s.failures >= threshold;
    if (locking) s.lockedUntil = now + lockMs;
    this.save(now);
    return { kind: "reserved", failures: s.failures, locking, lockedUntil: locking ? s.lockedUntil : null };
  }

  /** The reserved attempt succeeded: the count and any lock it set are cleared. */
  succeed(): void {
    this.state.failures = 0;
    this.state.lockedUntil = 0;
    this.save(Date.now());
  }

  /** The reserved attempt was not judged (e.g. a conflict): give the reservation back. */
  release(threshold: number): void {
    const s = this.state;
    s.failures = Math.max(0, s.failures - 1);
    if (s.failures < threshold) s.lockedUntil = 0;
    this.save(Date.now());
  }

  private save(now: number): void {
    void this.ctx.storage.put(STATE_KEY, this.state, { allowUnconfirmed: true });
    // One cleanup alarm at a time: when it fires while the state is still needed it moves itself
    // (see alarm()), so a busy email does not pay an alarm write on every attempt.
    if (this.alarmAt === 0) {
      this.alarmAt = Math.max(this.state.tat ?? 0, this.state.lockedUntil, this.state.lastFailureAt + FORGET_MS, now) + 1000;
      void this.ctx.storage.setAlarm(this.alarmAt);
    }
  }

  override async alarm(): Promise<void> {
    const s = this.state;
    const now = Date.now();
    const idle = (s.tat ?? 0) <= now && s.lockedUntil <= now && (s.failures === 0 || now - s.lastFailureAt > FORGET_MS);
    if (idle) {
      this.state = { failures: 0, lockedUntil: 0, lastFailureAt: 0 };
      this.alarmAt = 0;
      await this.ctx.storage.deleteAll();
    } else {
      this.alarmAt = Math.max(s.tat ?? 0, s.lockedUntil, s.lastFailureAt + FORGET_MS, now) + 1000;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}
