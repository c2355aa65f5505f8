/** Durations in milliseconds, the unit of `Date.getTime()` and of every `*_MS` setting. */
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Where the time comes from: the system clock in production; tests may pass their own. */
export interface Clock {
  now(): Date;
}

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that always reads `at` (tests, and a cron tick's scheduled instant). */
export const fixedClock = (at: Date | number): Clock => ({ now: () => new Date(at) });
