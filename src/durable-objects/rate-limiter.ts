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

/**
 * Exact rate limiter, one object per limited key (login per email, API key per hour, …), never
 * one global object. GCRA (a token bucket without a refill timer): `limit` requests may arrive
 * at once, then one more every `window / limit`. State is one row in the object's SQLite, read
 * and written synchronously, so no await can let a concurrent request in between the read and
 * the write: a limit of N lets exactly N through, however many arrive together.
 */
export class RateLimiter extends DurableObject {
  private alarmAt = 0;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS bucket (id INTEGER PRIMARY KEY CHECK (id = 1), tat REAL NOT NULL)");
  }

  /** Takes one token if one is available. */
  limit(request: LimitRequest): LimitResult {
    const { limit, windowSeconds } = request;
    if (!(Number.isInteger(limit) && limit >= 1 && windowSeconds > 0)) {
      throw new RangeError("limit must be a positive integer and windowSeconds > 0");
    }
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    const interval = windowMs / limit;
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ tat: number }>("SELECT tat FROM bucket WHERE id = 1").toArray()[0];
    const tat = Math.max(row?.tat ?? now, now);
    const next = tat + interval;
    if (next - now > windowMs) {
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((next - now - windowMs) / 1000)),
        resetSeconds: Math.ceil((tat - now) / 1000),
      };
    }
    sql.exec("INSERT INTO bucket (id, tat) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET tat = excluded.tat", next);
    if (next > this.alarmAt) {
      // Clean up once the bucket is full again, so idle keys hold no storage.
      this.alarmAt = next + 1000;
      void this.ctx.storage.setAlarm(this.alarmAt);
    }
    return {
      allowed: true,
      remaining: Math.floor((windowMs - (next - now)) / interval),
      retryAfterSeconds: 0,
      resetSeconds: Math.ceil((next - now) / 1000),
    };
  }

  /** Forgets the key (e.g. a successful login clears the per-email failure budget). */
  reset(): void {
    this.ctx.storage.sql.exec("DELETE FROM bucket");
  }

  override async alarm(): Promise<void> {
    const row = this.ctx.storage.sql.exec<{ tat: number }>("SELECT tat FROM bucket WHERE id = 1").toArray()[0];
    if (!row || row.tat <= Date.now()) {
      await this.ctx.storage.deleteAll();
      this.alarmAt = 0;
    } else {
      this.alarmAt = row.tat + 1000;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}
