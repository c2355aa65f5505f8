/**
 * Dates and amounts in messages, in the recipient's time zone and language, through Intl. An
 * instant keeps its instant: a tender closing at 2026-11-30T19:30Z shows "1 December 2026 at
 * 01:00 am IST" to a Kolkata reader. The zone is always named: Intl's short name (IST, EST, UTC),
 * and the IANA name beside it when Intl only has an offset ("GMT+9").
 */
import { IsolateCache } from "../platform/isolate-cache";

// Building a DateTimeFormat costs far more than using one; a digest run asks for the same few.
const cache = new IsolateCache<string, Intl.DateTimeFormat>(500);

function dateTimeFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`;
  let f = cache.get(key, 0);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    cache.set(key, f, 0, Infinity);
  }
  return f;
}

/** A time zone Intl knows, or UTC (a stored zone that no longer parses must not stop an email). */
export function usableTimeZone(timeZone: string | null | undefined): string {
  if (!timeZone) return "UTC";
  try {
    dateTimeFormat("en", timeZone);
    return timeZone;
  } catch {
    return "UTC";
  }
}

/**
 * @example formatInstant(new Date("2026-11-30T19:30:00Z"), "Asia/Kolkata", "en-IN") // "1 December 2026 at 01:00 am IST"
 */
export function formatInstant(instant: Date, timeZone: string, locale: string): string {
  const zone = usableTimeZone(timeZone);
  let text: string;
  try {
    text = dateTimeFormat(locale, zone).format(instant);
  } catch {
    text = dateTimeFormat("en", zone).format(instant);
  }
  return /GMT[+-]/.test(text) ? `${text} (${zone})` : text;
}

/** @example formatMoney(2500000, "INR", "en-IN") // "₹25,00,000.00" */
export function formatMoney(value: number, currency: string, locale: string): string {
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency, maximumFractionDigits: 0 }).format(value);
  } catch {
    return `${currency} ${value.toLocaleString("en-IN")}`;
  }
}
