import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DigestFrequency, DigestSchedule } from "./schedule";
import {
  dailyCapReached,
  decideImmediateEmail,
  inQuietHours,
  isDigestDue,
  isValidTimeZone,
  isoWeekday,
  localTimeParts,
  nextDigestAt,
  parseLocalTime,
  startOfLocalDay,
} from "./schedule";

const at = (iso: string) => new Date(iso);
const NY = "America/New_York";
const IN = "Asia/Kolkata";

const ZONES = [IN, NY, "UTC", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham", "Asia/Kathmandu"];
const FREQUENCIES: DigestFrequency[] = ["daily", "weekly", "immediate", "never"];
const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 31) }).map((ms) => new Date(ms));
const clock = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);

const due = (now: string, timeZone: string, extra: Partial<DigestSchedule> = {}) =>
  isDigestDue({ now: at(now), timeZone, digestTime: "09:00", frequency: "daily", lastSentAt: null, ...extra });

describe("localTimeParts", () => {
  it("reads the wall clock of the zone, including the weekday", () => {
    expect(localTimeParts(at("2026-03-02T03:30:00Z"), IN)).toEqual({ date: "2026-03-02", weekday: 1, minutes: 540 });
    // Sunday in UTC, already Monday in India.
    expect(localTimeParts(at("2026-03-01T20:00:00Z"), IN)).toEqual({ date: "2026-03-02", weekday: 1, minutes: 90 });
    expect(localTimeParts(at("2026-03-01T04:59:00Z"), NY)).toEqual({ date: "2026-02-28", weekday: 6, minutes: 23 * 60 + 59 });
    expect(localTimeParts(at("2026-03-01T00:00:00Z"), "UTC")).toEqual({ date: "2026-03-01", weekday: 7, minutes: 0 });
  });

  it("jumps over the spring gap and repeats the autumn hour in New York (2026)", () => {
    expect(localTimeParts(at("2026-03-08T06:59:00Z"), NY).minutes).toBe(1 * 60 + 59); // 01:59 EST
    expect(localTimeParts(at("2026-03-08T07:00:00Z"), NY).minutes).toBe(3 * 60); // 03:00 EDT
    expect(localTimeParts(at("2026-11-01T05:30:00Z"), NY).minutes).toBe(90); // 01:30 EDT
    expect(localTimeParts(at("2026-11-01T06:30:00Z"), NY).minutes).toBe(90); // 01:30 EST
  });

  it("rejects unknown zones", () => {
    expect(() => localTimeParts(at("2026-03-01T00:00:00Z"), "Mars/Olympus")).toThrow(RangeError);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone(IN)).toBe(true);
  });
});

describe("parseLocalTime", () => {
  it("accepts HH:MM and HH:MM:SS only", () => {
    expect(parseLocalTime("00:00")).toBe(0);
    expect(parseLocalTime("09:00:00")).toBe(540);
    expect(parseLocalTime("23:59")).toBe(1439);
    for (const bad of ["24:00", "9:00", "09:60", "", "09:00 ", "noon"]) expect(parseLocalTime(bad), bad).toBeNull();
  });
});

describe("inQuietHours", () => {
  // 2026-03-02 in India (UTC+05:30): local = UTC + 5:30.
  const india = (localHhmm: string) => {
    const [h, m] = localHhmm.split(":").map(Number) as [number, number];
    return new Date(Date.UTC(2026, 2, 2, h, m) - 330 * 60_000);
  };

  it("handles a window that crosses midnight, start inclusive, end exclusive", () => {
    const quiet = (t: string) => inQuietHours(india(t), IN, "22:00", "07:00");
    expect([quiet("21:59"), quiet("22:00"), quiet("23:30"), quiet("00:00"), quiet("06:59"), quiet("07:00"), quiet("12:00")]).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it("handles a window within one day", () => {
    expect(inQuietHours(india("13:30"), IN, "13:00", "14:00")).toBe(true);
    expect(inQuietHours(india("14:00"), IN, "13:00", "14:00")).toBe(false);
    expect(inQuietHours(india("12:59"), IN, "13:00", "14:00")).toBe(false);
  });

  it("is never quiet without both bounds, or with equal bounds", () => {
    expect(inQuietHours(india("23:00"), IN, null, "07:00")).toBe(false);
    expect(inQuietHours(india("23:00"), IN, "22:00", null)).toBe(false);
    expect(inQuietHours(india("23:00"), IN, "22:00", "22:00")).toBe(false);
    expect(() => inQuietHours(india("23:00"), IN, "10pm", "07:00")).toThrow(RangeError);
  });

  it("uses the user's zone, not UTC", () => {
    // 03:00 UTC is 22:00 in New York (EST): quiet there, not in India (08:30).
    expect(inQuietHours(at("2026-03-03T03:00:00Z"), NY, "22:00", "07:00")).toBe(true);
    expect(inQuietHours(at("2026-03-03T03:00:00Z"), IN, "22:00", "07:00")).toBe(false);
  });
});

describe("isDigestDue", () => {
  it("Asia/Kolkata 09:00 is 03:30 UTC", () => {
    expect(due("2026-03-03T03:15:00Z", IN)).toBe(false);
    expect(due("2026-03-03T03:30:00Z", IN)).toBe(true);
    expect(due("2026-03-03T09:30:00Z", IN)).toBe(true); // 15:00 local, still not sent today
    expect(due("2026-03-03T18:30:00Z", IN)).toBe(false); // local midnight: a new day, before 09:00
  });

  it("both users at one cron tick get exactly the digests that are due", () => {
    const tick = "2026-03-03T03:30:00Z"; // 09:00 in India, 22:30 the day before in New York
    expect(due(tick, IN)).toBe(true);
    expect(due(tick, NY, { lastSentAt: at("2026-03-02T14:00:00Z") })).toBe(false); // sent at 09:00 EST
    expect(due("2026-03-03T14:00:00Z", NY, { lastSentAt: at("2026-03-02T14:00:00Z") })).toBe(true);
  });

  it("DST starts in New York on 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 UTC after", () => {
    expect(due("2026-03-07T13:00:00Z", NY)).toBe(false); // 08:00 EST
    expect(due("2026-03-07T14:00:00Z", NY)).toBe(true); // 09:00 EST
    const sat = at("2026-03-07T14:00:00Z");
    expect(due("2026-03-08T12:45:00Z", NY, { lastSentAt: sat })).toBe(false); // 08:45 EDT
    expect(due("2026-03-08T13:00:00Z", NY, { lastSentAt: sat })).toBe(true); // 09:00 EDT
  });

  it("DST ends in New York on 2026-11-01: 09:00 local is 13:00 UTC before, 14:00 UTC after", () => {
    expect(due("2026-10-31T13:00:00Z", NY)).toBe(true); // 09:00 EDT
    const sat = at("2026-10-31T13:00:00Z");
    expect(due("2026-11-01T13:00:00Z", NY, { lastSentAt: sat })).toBe(false); // 08:00 EST
    expect(due("2026-11-01T14:00:00Z", NY, { lastSentAt: sat })).toBe(true); // 09:00 EST
  });

  it("sends once when the digest time is in the repeated hour or in the gap", () => {
    const autumn = { digestTime: "01:30" };
    expect(due("2026-11-01T05:30:00Z", NY, autumn)).toBe(true); // 01:30 EDT
    expect(due("2026-11-01T06:30:00Z", NY, { ...autumn, lastSentAt: at("2026-11-01T05:30:00Z") })).toBe(false); // 01:30 EST
    const spring = { digestTime: "02:30" };
    expect(due("2026-03-08T06:45:00Z", NY, spring)).toBe(false); // 01:45 EST
    expect(due("2026-03-08T07:00:00Z", NY, spring)).toBe(true); // 03:00 EDT, the first tick after 02:30
  });

  it("is idempotent: false after a send, true again the next day", () => {
    const sent = at("2026-03-03T03:30:00Z");
    expect(due("2026-03-03T03:45:00Z", IN, { lastSentAt: sent })).toBe(false);
    expect(due("2026-03-03T16:00:00Z", IN, { lastSentAt: sent })).toBe(false);
    expect(due("2026-03-04T03:30:00Z", IN, { lastSentAt: sent })).toBe(true);
  });

  it("a digest time in the last quarter hour goes out at the first tick after midnight, once", () => {
    const late = { digestTime: "23:50" };
    expect(due("2026-03-03T18:15:00Z", IN, late)).toBe(false); // 23:45 IST
    expect(due("2026-03-03T18:30:00Z", IN, late)).toBe(true); // 00:00 IST the next day
    expect(due("2026-03-03T18:45:00Z", IN, { ...late, lastSentAt: at("2026-03-03T18:30:00Z") })).toBe(false);
  });

  it("catches up a few hours late, not a whole day", () => {
    const sentTwoDaysAgo = { lastSentAt: at("2026-03-01T03:30:00Z") };
    expect(due("2026-03-03T09:30:00Z", IN, sentTwoDaysAgo)).toBe(true); // 15:00 IST: 6 h late
    expect(due("2026-03-03T09:45:00Z", IN, sentTwoDaysAgo)).toBe(false); // 15:15 IST: too late, wait for tomorrow
    expect(due("2026-03-03T09:45:00Z", IN, { ...sentTwoDaysAgo, catchUpMinutes: 24 * 60 })).toBe(true);
    // A new user at 08:00 does not get yesterday's 09:00 digest.
    expect(due("2026-03-03T02:30:00Z", IN)).toBe(false);
  });

  it("counts a send before today's digest time as not sent today", () => {
    // The user moved the digest from 07:00 to 09:00 after today's 07:00 digest.
    expect(due("2026-03-03T03:30:00Z", IN, { lastSentAt: at("2026-03-03T01:30:00Z") })).toBe(true);
    // A lastSentAt in the future (clock skew) counts as sent.
    expect(due("2026-03-03T03:30:00Z", IN, { lastSentAt: at("2026-03-03T03:31:00Z") })).toBe(false);
  });

  it("weekly goes out on a local Monday only", () => {
    const weekly = { frequency: "weekly" as const, lastSentAt: at("2026-02-23T03:30:00Z") };
    expect(due("2026-03-02T03:30:00Z", IN, weekly)).toBe(true); // Monday 09:00 IST
    expect(due("2026-03-03T03:30:00Z", IN, weekly)).toBe(false); // Tuesday
    expect(due("2026-03-01T03:30:00Z", IN, weekly)).toBe(false); // Sunday
    // Sunday 23:00 UTC is Monday 04:30 in India: Monday there, so a 04:00 digest is due.
    expect(due("2026-03-01T23:00:00Z", IN, { ...weekly, digestTime: "04:00" })).toBe(true);
    expect(due("2026-03-02T14:00:00Z", NY, weekly)).toBe(true); // Monday 09:00 EST
  });

  it("never sends for 'never'; 'immediate' keeps a daily digest for deferred matches", () => {
    expect(due("2026-03-03T03:30:00Z", IN, { frequency: "never" })).toBe(false);
    expect(due("2026-03-03T03:30:00Z", IN, { frequency: "immediate" })).toBe(true);
    expect(due("2026-03-03T03:00:00Z", IN, { frequency: "immediate" })).toBe(false);
  });

  it("property: false right after a send, at any now", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), clock, fc.constantFrom(...FREQUENCIES), fc.integer({ min: 0, max: 36 * 3600 }), (now, timeZone, digestTime, frequency, laterS) => {
        const s = { now, timeZone, digestTime, frequency, lastSentAt: now };
        expect(isDigestDue(s)).toBe(false);
        // A digest sent when due keeps every later tick quiet until the next digest time.
        const later = new Date(now.getTime() + laterS * 1000);
        const wasDue = isDigestDue({ ...s, lastSentAt: null });
        const digestAt = parseLocalTime(digestTime) ?? 0;
        const n = localTimeParts(now, timeZone);
        const l = localTimeParts(later, timeZone);
        const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
        // Wall-clock minutes from now's local midnight to `later`, and to the next digest time.
        const laterAt = (dayMs(l.date) - dayMs(n.date)) / 60_000 + l.minutes;
        const nextSlotAt = n.minutes >= digestAt ? 1440 + digestAt : digestAt;
        if (wasDue && laterAt < nextSlotAt) {
          expect(isDigestDue({ ...s, now: later })).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: a cron every 15 minutes sends one daily digest a day, across DST", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), clock, fc.integer({ min: 0, max: 700 }), (timeZone, digestTime, startDay) => {
        const start = Date.UTC(2026, 0, 1) + startDay * 86_400_000;
        const sends: number[] = [];
        let lastSentAt: Date | null = null;
        for (let t = start; t < start + 10 * 86_400_000; t += 15 * 60_000) {
          const now = new Date(t);
          if (isDigestDue({ now, timeZone, digestTime, frequency: "daily", lastSentAt })) {
            sends.push(t);
            lastSentAt = now;
          }
        }
        // Ten days hold ten digest times, plus one caught up at the first tick if the window
        // opens less than DIGEST_CATCH_UP_MINUTES after one.
        expect(sends.length).toBeGreaterThanOrEqual(9);
        expect(sends.length).toBeLessThanOrEqual(11);
        // One a day: 23 to 25 hours apart on DST days (plus the 15-minute tick), 24 otherwise.
        // (The first send may be the catch-up of a digest time just before the window.)
        for (let i = 2; i < sends.length; i++) {
          const hours = ((sends[i] ?? 0) - (sends[i - 1] ?? 0)) / 3_600_000;
          expect(hours).toBeGreaterThanOrEqual(22.75);
          expect(hours).toBeLessThanOrEqual(25.25);
        }
        // Each send is at or shortly after the digest time, on the local clock.
        const digestAt = parseLocalTime(digestTime) ?? 0;
        for (const t of sends.slice(1)) {
          const late = (localTimeParts(new Date(t), timeZone).minutes - digestAt + 1440) % 1440;
          expect(late).toBeLessThan(75); // 15-minute tick, plus up to an hour in a spring gap
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("daily cap and immediate emails", () => {
  it("dailyCapReached compares today's count to the maximum", () => {
    expect(dailyCapReached(49, 50)).toBe(false);
    expect(dailyCapReached(50, 50)).toBe(true);
    expect(dailyCapReached(0, 0)).toBe(true);
  });

  it("decideImmediateEmail defers in quiet hours first, then at the cap", () => {
    const base = { timeZone: IN, quietHoursStart: "22:00", quietHoursEnd: "07:00", sentToday: 0, maxPerDay: 2 };
    const night = at("2026-03-02T18:00:00Z"); // 23:30 IST
    const noon = at("2026-03-02T06:30:00Z"); // 12:00 IST
    expect(decideImmediateEmail({ ...base, now: night })).toEqual({ send: false, reason: "quiet_hours" });
    expect(decideImmediateEmail({ ...base, now: noon })).toEqual({ send: true });
    expect(decideImmediateEmail({ ...base, now: noon, sentToday: 2 })).toEqual({ send: false, reason: "daily_cap" });
  });
});

describe("startOfLocalDay", () => {
  it("is local midnight as a UTC instant", () => {
    expect(startOfLocalDay(at("2026-03-02T03:30:00Z"), IN).toISOString()).toBe("2026-03-01T18:30:00.000Z");
    expect(startOfLocalDay(at("2026-03-01T18:29:59Z"), IN).toISOString()).toBe("2026-02-28T18:30:00.000Z");
    expect(startOfLocalDay(at("2026-03-01T18:30:00Z"), IN).toISOString()).toBe("2026-03-01T18:30:00.000Z");
  });

  it("uses the offset in force at midnight on DST days", () => {
    // Midnight of 2026-03-08 in New York is still EST; the day is 23 hours long.
    expect(startOfLocalDay(at("2026-03-08T20:00:00Z"), NY).toISOString()).toBe("2026-03-08T05:00:00.000Z");
    // Midnight of 2026-11-01 is still EDT; the day is 25 hours long.
    expect(startOfLocalDay(at("2026-11-01T20:00:00Z"), NY).toISOString()).toBe("2026-11-01T04:00:00.000Z");
  });

  it("starts at the first existing second when midnight is skipped", () => {
    // Chile springs forward at 00:00 on 2026-09-06: the day starts at 01:00 -03 = 04:00 UTC.
    expect(startOfLocalDay(at("2026-09-06T15:00:00Z"), "America/Santiago").toISOString()).toBe("2026-09-06T04:00:00.000Z");
  });

  it("property: the result is on today's local date and the second before is not", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(IN, NY, "UTC", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu"), (now, tz) => {
        const start = startOfLocalDay(now, tz);
        const today = localTimeParts(now, tz).date;
        expect(start.getTime()).toBeLessThanOrEqual(now.getTime());
        expect(localTimeParts(start, tz).date).toBe(today);
        expect(localTimeParts(new Date(start.getTime() - 1000), tz).date < today).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("nextDigestAt (issue 14, point 16)", () => {
  it("is the next local occurrence of the digest time, strictly after the instant", () => {
    expect(nextDigestAt({ after: at("2026-03-02T03:00:00Z"), timeZone: IN, digestTime: "09:00", frequency: "daily" })).toEqual(at("2026-03-02T03:30:00Z"));
    expect(nextDigestAt({ after: at("2026-03-02T03:30:00Z"), timeZone: IN, digestTime: "09:00", frequency: "daily" })).toEqual(at("2026-03-03T03:30:00Z"));
    // Weekly: Mondays. 2026-03-04 is a Wednesday.
    expect(nextDigestAt({ after: at("2026-03-04T12:00:00Z"), timeZone: "UTC", digestTime: "08:15", frequency: "weekly" })).toEqual(at("2026-03-09T08:15:00Z"));
    expect(nextDigestAt({ after: at("2026-03-04T12:00:00Z"), timeZone: "UTC", digestTime: "08:15", frequency: "never" })).toBeNull();
  });

  it("follows DST: 09:00 New York is 14:00 UTC before the change and 13:00 after; a time in the spring gap is the gap's end", () => {
    expect(nextDigestAt({ after: at("2026-03-07T15:00:00Z"), timeZone: NY, digestTime: "09:00", frequency: "daily" })).toEqual(at("2026-03-08T13:00:00Z"));
    expect(nextDigestAt({ after: at("2026-03-06T15:00:00Z"), timeZone: NY, digestTime: "09:00", frequency: "daily" })).toEqual(at("2026-03-07T14:00:00Z"));
    // 02:30 does not exist on 2026-03-08 in New York: 03:00 EDT = 07:00 UTC.
    expect(nextDigestAt({ after: at("2026-03-08T05:00:00Z"), timeZone: NY, digestTime: "02:30", frequency: "daily" })).toEqual(at("2026-03-08T07:00:00Z"));
  });

  it("property: the slot is after the instant, within 8 days, and the digest is due at it", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), clock, fc.constantFrom<DigestFrequency>("daily", "weekly", "immediate"), (after, timeZone, digestTime, frequency) => {
        const next = nextDigestAt({ after, timeZone, digestTime, frequency })!;
        expect(next.getTime()).toBeGreaterThan(after.getTime());
        expect(next.getTime() - after.getTime()).toBeLessThanOrEqual(8 * 86_400_000);
        expect(isDigestDue({ now: next, timeZone, digestTime, frequency, lastSentAt: null })).toBe(true);
        // Not due a second earlier if one was sent at `after` (no slot was skipped).
        expect(isDigestDue({ now: new Date(next.getTime() - 1000), timeZone, digestTime, frequency, lastSentAt: after, catchUpMinutes: 0 })).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("email_digest_weekday", () => {
  it("property: the next weekly slot falls on the chosen local weekday at the digest time, and is due there", () => {
    const zones = fc.constantFrom("Asia/Kolkata", "America/New_York", "Europe/London", "Australia/Sydney", "UTC");
    fc.assert(
      fc.property(zones, fc.integer({ min: 1, max: 7 }), fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2027-12-31T00:00:00Z") }), (timeZone, wd, t) => {
        const weekday = wd as 1 | 2 | 3 | 4 | 5 | 6 | 7;
        const slot = nextDigestAt({ after: new Date(t), timeZone, digestTime: "09:00", frequency: "weekly", weekday })!;
        const local = localTimeParts(slot, timeZone);
        expect(local.weekday).toBe(weekday);
        expect(local.minutes).toBe(9 * 60);
        expect(slot.getTime() - t).toBeLessThanOrEqual(8 * 86_400_000);
        expect(isDigestDue({ now: slot, timeZone, digestTime: "09:00", frequency: "weekly", weekday, lastSentAt: null })).toBe(true);
        expect(isDigestDue({ now: new Date(slot.getTime() - 86_400_000), timeZone, digestTime: "09:00", frequency: "weekly", weekday, lastSentAt: new Date(slot.getTime() - 7 * 86_400_000) })).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("isoWeekday reads the stored names (unknown: Monday)", () => {
    expect(["monday", "wednesday", "sunday", "funday", null].map(isoWeekday)).toEqual([1, 3, 7, 1, 1]);
  });
});
