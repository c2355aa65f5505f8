import { passwordChangedAt } from "./credentials.repo";
import type { Config } from "../platform/config";
import type { Db } from "../platform/db";
import { DAY } from "../platform/time";
import { hasPassword } from "./sign-in-methods";

/**
 * Pure: whether a password set at `changedAt` has expired at `now` (0 days = never). `null`: the
 * account has no password (NO_PASSWORD: passkeys, email codes, OpenID), so nothing can expire.
 */
export function isPasswordExpired(changedAt: Date | null, maxAgeDays: number, now: Date): boolean {
  return changedAt !== null && maxAgeDays > 0 && now.getTime() - changedAt.getTime() >= maxAgeDays * DAY;
}

/** When the password a stored hash stands for was set, or null for an account without one. */
export const passwordSetAt = (u: { passwordHash: string; passwordChangedAt: Date }): Date | null => (hasPassword(u.passwordHash) ? u.passwordChangedAt : null);

/**
 * Re-reads the password age in D1. Only tokens issued with an expired password pay for it, and
 * it lets such a session work again right after its password change, without a new login.
 */
export async function passwordExpiredNow(db: Db, config: Config, userId: string, now: Date): Promise<boolean> {
  const row = await passwordChangedAt(db, userId);
  return !row || isPasswordExpired(row.hasPassword ? row.changedAt : null, config.PASSWORD_MAX_AGE_DAYS, now);
}
