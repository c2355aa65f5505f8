/**
 * When email goes out, in the user's own time zone: digest schedule, quiet hours, the daily cap.
 * Pure: the instant is always passed in (`now`), time zones go through `Intl.DateTimeFormat`
 * (its IANA data ships with workerd), nothing reads a clock or the environment.
 *
 * The rules work on local wall-clock time, never on a fixed UTC offset, which is what makes
 * them DST-correct: "09:00 in America/New_York" is 14:00 UTC in winter and 13:00 UTC in summer,
 * and the change-over days need no special case.
 *
 * Invalid input (an unknown time zone, a time that is not "HH:MM") throws a RangeError: validate
 * it when it is written (isValidTimeZone, parseLocalTime), and let the cron skip and log a row
 * that still fails rather than guess.
 */
import { HOUR, DAY } from "../../platform/time";

/** A moment as read on the wall clock of a time zone. */
export interface LocalTimeParts {
  /** Local calendar date, "YYYY-MM-DD" (so dates compare as strings). */
  readonly date: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  readonly weekday: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** Minutes since local midnight, 0–1439. */
  readonly minutes: number;
}

export type DigestFrequency = "daily" | "weekly" | "immediate" | "never";

const WEEKDAYS = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 } as const;

// Building a DateTimeFormat costs far more than using one; a cron tick asks for the same few
// zones thousands of times. The cache holds only immutable formatters, so results stay pure.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: LocalTimeParts["weekday"];
}

function wallClock(instant: number, timeZone: string): WallClock {
  const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 1 };
  for (const { type, value } of formatter(timeZone).formatToParts(instant)) {
    if (type === "weekday") w.weekday = WEEKDAYS[value as keyof typeof WEEKDAYS];
    else if (type === "year" || type === "month" || type === "day" || type === "minute" || type === "second") w[type] = Number(value);
    // Some engines print midnight as "24" even with h23.
    else if (type === "hour") w.hour = Number(value) % 24;
  }
  return w;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const toParts = (w: WallClock): LocalTimeParts => ({
  date: `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`,
  weekday: w.weekday,
  minutes: w.hour * 60 + w.minute,
});

/**
 * The local date, weekday and minute of an instant in a time zone.
 *
 * @example localTimeParts(new Date("2026-03-02T03:30:00Z"), "Asia/Kolkata") // { date: "2026-03-02", weekday: 1, minutes: 540 }
 */
export function localTimeParts(now: Date, timeZone: string): LocalTimeParts {
  return toParts(wallClock(now.getTime(), timeZone));
}

/** Whether `Intl` knows the IANA time zone (for validating a profile's `timezone` on write). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/**
 * Minutes since midnight of "HH:MM" (or "HH:MM:SS", as seed 000's TIME columns print; seconds
 * are ignored), or null when it is not a valid time.
 *
 * @example parseLocalTime("22:30") // 1350
 */
export function parseLocalTime(hhmm: string): number | null {
  const m = CLOCK.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

function requireLocalTime(hhmm: string, what: string): number {
  const minutes = parseLocalTime(hhmm);
  if (minutes === null) throw new RangeError(`${what} must be "HH:MM", got ${JSON.stringify(hhmm)}`);
  return minutes;
}

/**
 * Whether `now` falls in the quiet hours [start, end) of the user's time zone. The window may
 * cross midnight ("22:00"–"07:00"). Either bound null, or both equal, means no quiet hours.
 *
 * @example inQuietHours(new Date("2026-03-02T18:00:00Z"), "Asia/Kolkata", "22:00", "07:00") // true (23:30 local)
 */
export function inQuietHours(now: Date, timeZone: string, start: string | null, end: string | null): boolean {
  if (start === null || end === null) return false;
  const from = requireLocalTime(start, "quiet_hours_start");
  const to = requireLocalTime(end, "quiet_hours_end");
  if (from === to) return false;
  const { minutes } = localTimeParts(now, timeZone);
  return from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

export interface DigestSchedule {
  readonly now: Date;
  readonly timeZone: string;
  /** "HH:MM", local. */
  readonly digestTime: string;
  readonly frequency: DigestFrequency;
  /** When this user's last digest went out (`user_preferences.last_digest_sent_at`). */
  readonly lastSentAt: Date | null;
  /** How long after its time a digest may still go out late. Default {@link DIGEST_CATCH_UP_MINUTES}. */
  readonly catchUpMinutes?: number;
  /** Weekly digests: the local ISO weekday (1 = Monday … 7 = Sunday, `email_digest_weekday`). Default Monday. */
  readonly weekday?: LocalTimeParts["weekday"];
}

/** `email_digest_weekday` values, Monday first: index + 1 is the ISO weekday. */
export const DIGEST_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type DigestWeekday = (typeof DIGEST_WEEKDAYS)[number];

/** ISO weekday of an `email_digest_weekday` (unknown or null: Monday). */
export function isoWeekday(day: string | null | undefined): LocalTimeParts["weekday"] {
  const i = DIGEST_WEEKDAYS.indexOf((day ?? "monday") as DigestWeekday);
  return (i < 0 ? 1 : i + 1) as LocalTimeParts["weekday"];
}

/**
 * A digest may go out up to this long after its local time: long enough for the first cron tick
 * after a 23:50 digest time (which falls on the next day) or a cron outage of a few hours, short
 * enough that a new user at 08:00 does not get "yesterday's 09:00" digest.
 */
export const DIGEST_CATCH_UP_MINUTES = 6 * 60;

const dayNumber = (date: string) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY;

/**
 * Whether the user's digest should go out at this cron tick. The digest's slot is the latest
 * local occurrence of `digestTime` at or before `now` (weekly: on the local `weekday`, Monday by default); it is due when
 * that slot is at most `catchUpMinutes` old and no digest went out since it. The cron then sends
 * one only if matches are pending, and records `lastSentAt` in the batch that marks them sent.
 *
 * - Idempotent: once `lastSentAt` is at or after the slot, every later tick answers false until
 *   the next slot.
 * - Nothing is lost when a slot is missed entirely (cron down for longer than the catch-up): the
 *   pending matches go into the next digest.
 * - "immediate": immediate emails go out as matches arrive; this daily digest at the user's
 *   digest time carries the matches that quiet hours or the daily cap deferred. "never": false.
 * - Compares local wall-clock times, so on the autumn change-over day the repeated hour cannot
 *   cause a second digest, and a digest time inside the spring gap goes out at the first tick
 *   after it (03:00 for 02:30 in New York).
 *
 * @example isDigestDue({ now: new Date("2026-03-08T13:00:00Z"), timeZone: "America/New_York", digestTime: "09:00", frequency: "daily", lastSentAt: null }) // true
 */
export function isDigestDue(s: DigestSchedule): boolean {
  if (s.frequency === "never") return false;
  const digestAt = requireLocalTime(s.digestTime, "email_digest_time");
  const now = localTimeParts(s.now, s.timeZone);
  const today = dayNumber(now.date);
  // Days back to the slot's local date.
  let back = now.minutes >= digestAt ? 0 : 1;
  if (s.frequency === "weekly") {
    back = (now.weekday - (s.weekday ?? 1) + 7) % 7; // to this week's digest day
    if (back === 0 && now.minutes < digestAt) back = 7;
  }
  const slotDay = today - back;
  const elapsed = back * 1440 + now.minutes - digestAt; // wall-clock minutes since the slot
  if (elapsed > (s.catchUpMinutes ?? DIGEST_CATCH_UP_MINUTES)) return false;
  if (s.lastSentAt === null) return true;
  // A last send stamped in the future (clock skew between writers) counts as sent.
  if (s.lastSentAt.getTime() >= s.now.getTime()) return false;
  const last = localTimeParts(s.lastSentAt, s.timeZone);
  const lastDay = dayNumber(last.date);
  const sentSinceSlot = lastDay > slotDay || (lastDay === slotDay && last.minutes >= digestAt);
  return !sentSinceSlot;
}

/**
 * Whether the user has used up `max_alerts_per_day` immediate emails today (count them from
 * {@link startOfLocalDay}). A maximum of 0 or less allows none.
 *
 * @example dailyCapReached(50, 50) // true
 */
export function dailyCapReached(sentToday: number, maxPerDay: number): boolean {
  return sentToday >= maxPerDay;
}

export type ImmediateEmailDecision = { send: true } | { send: false; reason: "quiet_hours" | "daily_cap" };

/**
 * Whether an immediate alert email may go out now, or must wait for the next digest.
 *
 * @example decideImmediateEmail({ now, timeZone: "Asia/Kolkata", quietHoursStart: "22:00", quietHoursEnd: "07:00", sentToday: 3, maxPerDay: 50 })
 */
export function decideImmediateEmail(input: {
  now: Date;
  timeZone: string;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  sentToday: number;
  maxPerDay: number;
}): ImmediateEmailDecision {
  if (inQuietHours(input.now, input.timeZone, input.quietHoursStart, input.quietHoursEnd)) return { send: false, reason: "quiet_hours" };
  if (dailyCapReached(input.sentToday, input.maxPerDay)) return { send: false, reason: "daily_cap" };
  return { send: true };
}

/** Offset of the zone at an instant: local wall-clock time minus UTC, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const wholeSeconds = instant - (((instant % 1000) + 1000) % 1000);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - wholeSeconds;
}

/**
 * The first instant of the local calendar day that contains `now`, as a UTC Date: the lower
 * bound for counting today's emails against the daily cap.
 *
 * @example startOfLocalDay(new Date("2026-03-02T03:30:00Z"), "Asia/Kolkata") // 2026-03-01T18:30:00.000Z
 */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  const { date } = localTimeParts(now, timeZone);
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const wallMidnight = Date.UTC(y, m - 1, d);
  // Midnight in the offset of now, then in the offset of that guess (they differ when the
  // offset changed since midnight, as on a DST day).
  let t = wallMidnight - offsetAt(now.getTime(), timeZone);
  t = wallMidnight - offsetAt(t, timeZone);
  const atT = localTimeParts(new Date(t), timeZone);
  if (atT.date === date && atT.minutes === 0 && localTimeParts(new Date(t - 1000), timeZone).date < date) return new Date(t);
  // Midnight does not exist here today (a zone that springs forward at 00:00, such as
  // America/Santiago): the day starts at the first second whose local date is today.
  // Whole seconds (offsets change on whole seconds), so the bisection steps are at least 1 s.
  let hi = Math.floor(now.getTime() / 1000) * 1000;
  let lo = hi - 50 * HOUR; // surely on an earlier local date
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localTimeParts(new Date(mid), timeZone).date < date) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}

/** The instant the local wall clock of `timeZone` first reads `minutes` on `date` (a time in a spring gap: the gap's end). */
function instantOfLocal(date: string, minutes: number, timeZone: string): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  let t = wall - offsetAt(wall, timeZone);
  t = wall - offsetAt(t, timeZone);
  const at = localTimeParts(new Date(t), timeZone);
  if (at.date === date && at.minutes === minutes) return t;
  // The wall time does not exist (a DST gap): the first whole second whose local time is past it.
  const reached = (i: number) => {
    const p = localTimeParts(new Date(i), timeZone);
    return p.date > date || (p.date === date && p.minutes >= minutes);
  };
  let lo = wall - 26 * HOUR;
  let hi = wall + 26 * HOUR;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const shiftDate = (date: string, days: number) => new Date((dayNumber(date) + days) * DAY).toISOString().slice(0, 10);

/**
 * The first digest slot strictly after `after`: the next local occurrence of `digestTime` (weekly:
 * on a Monday), as an instant; null for "never". What the digest job stores as `next_digest_at`
 * after each look at a user, so it reads due users in order instead of scanning them all.
 * `isDigestDue` stays the rule that decides at the slot (catch-up window, sent since).
 *
 * @example nextDigestAt({ after: new Date("2026-03-02T03:30:00Z"), timeZone: "Asia/Kolkata", digestTime: "09:00", frequency: "daily" }) // 2026-03-03T03:30:00.000Z
 */
export function nextDigestAt(s: { after: Date; timeZone: string; digestTime: string; frequency: DigestFrequency; weekday?: LocalTimeParts["weekday"] }): Date | null {
  if (s.frequency === "never") return null;
  const digestAt = requireLocalTime(s.digestTime, "email_digest_time");
  const today = localTimeParts(s.after, s.timeZone).date;
  for (let k = 0; k <= 8; k++) {
    const date = shiftDate(today, k);
    // 1970-01-01 was a Thursday: ISO weekday of a day number.
    if (s.frequency === "weekly" && ((dayNumber(date) + 3) % 7) + 1 !== (s.weekday ?? 1)) continue;
    const t = instantOfLocal(date, digestAt, s.timeZone);
    if (t > s.after.getTime()) return new Date(t);
  }
  throw new RangeError("no digest slot within 8 days"); // unreachable for a valid zone
}
