import { passwordChangedAt } from "./credentials.repo";
import type { Config } from "../platform/config";
import type { Db } from "../platform/db";
import { DAY } from "../platform/time";

/** Pure: whether a password set at `changedAt` has expired at `now` (0 days = never). */
export function isPasswordExpired(changedAt: Date, maxAgeDays: number, now: Date): boolean {
  return maxAgeDays > 0 && now.getTime() - changedAt.getTime() >= maxAgeDays * DAY;
}

/**
 * Re-reads the password age in D1. Only tokens issued with an expired password pay for it, and
 * it lets such a session work again right after its password change, without a new login.
 */
export async function passwordExpiredNow(db: Db, config: Config, userId: string, now: Date): Promise<boolean> {
  const changedAt = await passwordChangedAt(db, userId);
  return !changedAt || isPasswordExpired(changedAt, config.PASSWORD_MAX_AGE_DAYS, now);
}
