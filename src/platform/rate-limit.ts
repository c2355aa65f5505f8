import type { Env } from "../env";
import { ipLimitKey } from "./client-ip";
import type { RequestContext } from "./context";
import { AppError } from "./errors";

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
export async function rateLimit(env: Env, key: string, rate: Rate): Promise<{ remaining: number; resetSeconds: number; nextSeconds: number }> {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
  const result = await stub.limit({ limit: rate.limit, windowSeconds: rate.windowSeconds, ...(rate.sliding ? { sliding: true } : {}) });
  if (!result.allowed) {
    throw rateLimited(result.retryAfterSeconds);
  }
  // Seconds until this key lets the next request through (0: at once), for a later limit's
  // refusal on the same path, whose Retry-After must cover this one too. resetSeconds is rounded
  // up, so this never promises too early.
  const nextSeconds = result.remaining > 0 ? 0 : Math.max(0, Math.ceil(result.resetSeconds + rate.windowSeconds / rate.limit - rate.windowSeconds));
  return { remaining: result.remaining, resetSeconds: result.resetSeconds, nextSeconds };
}

/**
 * A per-IP limit on `name` (IPv6 counted per RATE_IPV6_PREFIX network). Call it before any
 * per-email or per-account budget, so a caller refused here spends nothing of a victim's budget.
 */
export const rateLimitIp = (ctx: Pick<RequestContext, "env" | "ip" | "config">, name: string, rate: Rate) =>
  rateLimit(ctx.env, `${name}:ip:${ipLimitKey(ctx.ip, ctx.config.RATE_IPV6_PREFIX)}`, rate);

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
