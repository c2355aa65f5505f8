/** Durations in milliseconds, the unit of `Date.getTime()` and of every `*_MS` setting. */
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
