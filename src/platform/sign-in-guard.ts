import type { AttemptRequest, AttemptResult } from "../durable-objects/sign-in-guard";
import type { Env } from "../env";
import { AppError } from "./errors";

export type Reservation = Extract<AttemptResult, { kind: "reserved" }>;

/** The guard object of one sign-in subject (`login:<sha256 of the email>`, `mfa:<user id>`). */
export const signInGuard = (env: Env, key: string) => env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(key));

/** 423 `account_locked` with `locked_until` and `Retry-After`. */
export const lockedError = (until: Date, now: Date, what = "Too many failed sign-ins") =>
  new AppError("account_locked", `${what}; try again after ${until.toISOString()}`, {
    retryAfter: Math.ceil((until.getTime() - now.getTime()) / 1000),
    fields: { locked_until: until.toISOString() },
  });

/**
 * Reserves one attempt for `key` before the secret is checked (see SignInGuard): throws 429 when
 * the optional rate is spent and 423 while locked; otherwise the attempt counts as a failure
 * until `succeed()` is called on the guard.
 */
export async function reserveAttempt(env: Env, key: string, request: AttemptRequest, what?: string): Promise<Reservation> {
  const result = await signInGuard(env, key).attempt(request);
  if (result.kind === "rate_limited") {
    throw new AppError("rate_limited", "Too many requests; retry later", { retryAfter: result.retryAfterSeconds });
  }
  if (result.kind === "locked") throw lockedError(new Date(result.lockedUntil), new Date(request.now), what);
  return result;
}

/**
 * `reserveAttempt` once `admitted` (the caller's earlier limit, e.g. per IP) has let the request
 * through, with `lookup` running beside both: the limits keep their order, the lookup's round
 * trip is not added after them. If `admitted` refuses, the guard is never asked (nothing of its
 * budget is spent). If the lookup fails after the attempt was reserved, the attempt was never
 * judged: it is given back before the lookup's error is thrown.
 */
export async function reserveAttemptBeside<T>(
  env: Env,
  key: string,
  admitted: Promise<unknown>,
  request: AttemptRequest,
  lookup: Promise<T>,
): Promise<[Reservation, T]> {
  const [reserved, looked] = await Promise.allSettled([admitted.then(() => reserveAttempt(env, key, request)), lookup]);
  if (reserved.status === "rejected") throw reserved.reason;
  if (looked.status === "rejected") {
    await signInGuard(env, key)
      .release(request.threshold)
      .catch(() => {});
    throw looked.reason;
  }
  return [reserved.value, looked.value];
}
