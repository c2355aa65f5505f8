import type { AttemptRequest, AttemptResult } from "../durable-objects/sign-in-guard";
import type { Env } from "../env";
import { AppError } from "./errors";
import { rateLimited } from "./rate-limit";

export type Reservation = Extract<AttemptResult, { kind: "reserved" }>;

/** The guard object of one sign-in subject (`login:<sha256 of the email>`, `mfa:<user id>`). */
export const signInGuard = (env: Env, key: string) => env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(key));

/**
 * 423 `account_locked` with `locked_until` and `Retry-After` (by default the lock's remaining
 * time; `retryAfterSeconds` when another limit on the same path ends later).
 */
export const lockedError = (until: Date, now: Date, what = "Too many failed sign-ins", retryAfterSeconds?: number) =>
  new AppError("account_locked", `${what}; try again after ${until.toISOString()}`, {
    retryAfter: Math.max(retryAfterSeconds ?? 0, Math.ceil((until.getTime() - now.getTime()) / 1000)),
    fields: { locked_until: until.toISOString() },
  });

/** Makes a refusal's `Retry-After` cover another limit on the same path that ends later. */
export function coverWait(err: unknown, seconds: number): void {
  if (err instanceof AppError && err.extra.retryAfter !== undefined && seconds > err.extra.retryAfter) err.extra.retryAfter = seconds;
}

/**
 * Reserves one attempt for `key` before the secret is checked (see SignInGuard): throws 429 when
 * the optional rate is spent and 423 while locked; otherwise the attempt counts as a failure
 * until `succeed()` is called on the guard.
 */
export async function reserveAttempt(env: Env, key: string, request: AttemptRequest, what?: string): Promise<Reservation> {
  const result = await signInGuard(env, key).attempt(request);
  if (result.kind === "rate_limited") {
    throw rateLimited(result.retryAfterSeconds);
  }
  if (result.kind === "locked") throw lockedError(new Date(result.lockedUntil), new Date(request.now), what, result.retryAfterSeconds);
  return result;
}

/**
 * `reserveAttempt` once `admitted` (the caller's earlier limit, e.g. per IP) has let the request
 * through and `lookup` has answered, the two running side by side: the lookup tells the guard
 * which earlier reservation succeeded (`settledOf`, see AttemptRequest.settled). If `admitted`
 * refuses, the guard spends nothing of its budget: it is only asked how long it would refuse (told
 * first of the success the lookup found, so a lock that success lifted is not waited for), so
 * the refusal's `Retry-After` covers both limits (as a guard refusal's covers `admitted`'s
 * `nextSeconds`). If the lookup fails, nothing is reserved.
 */
export async function reserveAttemptAfter<T>(
  env: Env,
  key: string,
  admitted: Promise<{ nextSeconds?: number } | void>,
  request: AttemptRequest,
  lookup: Promise<T>,
  settledOf: (looked: T) => number | null | undefined,
): Promise<[Reservation, T]> {
  const [before, looked] = await Promise.allSettled([admitted, lookup]);
  if (before.status === "rejected") {
    const err: unknown = before.reason;
    if (err instanceof AppError && err.extra.retryAfter !== undefined) {
      const settled = looked.status === "fulfilled" ? (settledOf(looked.value) ?? undefined) : undefined;
      coverWait(err, await signInGuard(env, key).wait({ now: request.now, rate: request.rate, threshold: request.threshold, settled }).catch(() => 0));
    }
    throw err;
  }
  if (looked.status === "rejected") throw looked.reason;
  try {
    const settled = settledOf(looked.value) ?? undefined;
    return [await reserveAttempt(env, key, settled === undefined ? request : { ...request, settled }), looked.value];
  } catch (err) {
    coverWait(err, before.value?.nextSeconds ?? 0);
    throw err;
  }
}
