/**
 * The words of reminder and change notices (issue 19, point 4), as small pure functions so they
 * can move onto the shared message catalogue and channel dispatcher: dates in the recipient's
 * time zone, the zone named, through Intl.
 */
import type { RenderedEmail } from "../../email/templates";

/** A date and time in `timeZone` with the zone named; an unknown zone falls back to UTC. */
export function formatInZone(at: Date | number, timeZone: string, language = "en"): string {
  const date = new Date(at);
  const options: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
  let tz = timeZone;
  try {
    new Intl.DateTimeFormat("en", { timeZone }).format(date);
  } catch {
    tz = "UTC";
  }
  const locale = safeLocale(language);
  return `${new Intl.DateTimeFormat(locale, { ...options, timeZone: tz }).format(date)} (${tz})`;
}

function safeLocale(language: string): string {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([language]).length > 0 ? language : "en";
  } catch {
    return "en";
  }
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** A plain email of paragraphs and one link, text and HTML. */
export function simpleEmail(template: string, subject: string, paragraphs: string[], link: { label: string; url: string }): RenderedEmail {
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px"><h1 style="font-size:20px">${escapeHtml(subject)}</h1>${paragraphs
    .map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`)
    .join("")}<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p><p style="font-size:12px;color:#777">keel</p></body></html>`;
  const text = [...paragraphs, `${link.label}: ${link.url}`, "— keel"].join("\n\n");
  return { template, subject, text, html };
}

export interface ReminderFacts {
  name: string;
  title: string;
  closingDate: number;
  markDays: number;
  timeZone: string;
  language: string;
}

const daysPhrase = (n: number) => (n === 1 ? "1 day" : `${n} days`);

/** The in-app notice of a reminder. */
export function reminderNotice(f: ReminderFacts) {
  const closes = formatInZone(f.closingDate, f.timeZone, f.language);
  return { title: `Closes within ${daysPhrase(f.markDays)}: ${f.title}`, message: `${f.title} closes on ${closes}.` };
}

/** The email of a reminder. */
export function reminderEmail(f: ReminderFacts, url: string): RenderedEmail {
  const closes = formatInZone(f.closingDate, f.timeZone, f.language);
  return simpleEmail(
    "reminder",
    `Reminder: ${f.title} closes within ${daysPhrase(f.markDays)}`,
    [`Hello ${f.name},`, `The tender you are bidding for, "${f.title}", closes on ${closes}.`, "You get this reminder because the bid is in planning or preparation. Change the days in your preferences (reminder_days)."],
    { label: "Open the tender", url },
  );
}

/** Whether a kind of message goes to a channel: both the channel and the type are on (missing = on). */
export function wants(prefs: Record<string, unknown> | null, channel: "email" | "in_app", type: "reminders" | "changes"): boolean {
  return prefs?.[channel] !== false && prefs?.[type] !== false;
}

export function parsePrefs(raw: string | null | undefined): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What changed, [old, new] per field (closing_date in ms). */
export type ChangeSet = Partial<Record<"closing_date" | "value", [number | null, number | null]>>;

export interface ChangeFacts {
  name: string;
  title: string;
  currency: string;
  changes: ChangeSet;
  timeZone: string;
  language: string;
}

/** One line per changed field, old → new, dates in the recipient's zone. */
export function changeLines(f: ChangeFacts): string[] {
  const lines: string[] = [];
  const date = (v: number | null) => (v === null ? "none" : formatInZone(v, f.timeZone, f.language));
  const money = (v: number | null) => {
    if (v === null) return "none";
    try {
      return new Intl.NumberFormat(safeLocale(f.language), { style: "currency", currency: f.currency, maximumFractionDigits: 0 }).format(v);
    } catch {
      return `${f.currency} ${v}`;
    }
  };
  if (f.changes.closing_date) lines.push(`Closing date: ${date(f.changes.closing_date[0])} → ${date(f.changes.closing_date[1])}`);
  if (f.changes.value) lines.push(`Value: ${money(f.changes.value[0])} → ${money(f.changes.value[1])}`);
  return lines;
}

const changedWhat = (c: ChangeSet) => [c.closing_date ? "closing date" : null, c.value ? "value" : null].filter(Boolean).join(" and ");

export function changeNotice(f: ChangeFacts) {
  return { title: `Changed ${changedWhat(f.changes)}: ${f.title}`, message: changeLines(f).join("; ") };
}

export function changeEmail(f: ChangeFacts, url: string): RenderedEmail {
  return simpleEmail(
    "tender_changed",
    `A tender you follow changed: ${f.title}`,
    [`Hello ${f.name},`, `"${f.title}" changed its ${changedWhat(f.changes)}:`, ...changeLines(f)],
    { label: "Open the tender", url },
  );
}
