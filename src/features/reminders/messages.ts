/**
 * The words of reminder and change notices (issue 19, point 4), from the ONE message catalogue
 * (src/email/messages, en + hi) with the delivery format helpers (src/email/format.ts: the
 * recipient's zone, named). Rendered into email and in-app by the channel dispatcher's
 * `renderComposed`.
 */
import type { Messages } from "../../email/messages";
import type { ComposedMessage } from "../alert-delivery/channels/dispatcher";

/** The recipient's catalogue and formatters (the dispatcher's ComposeInput, or readerFormat). */
export interface MessageFormat {
  m: Messages;
  date: (d: Date) => string;
  money: (value: number, currency: string) => string;
}

export interface ReminderFacts {
  title: string;
  closingDate: number;
  markDays: number;
}

/** A reminder: "closes within N days", the closing date in the recipient's zone. */
export function reminderMessage(f: MessageFormat, r: ReminderFacts, tender: { id: string; emailUrl: string }): ComposedMessage {
  const line = f.m.reminderLine(r.title, f.date(new Date(r.closingDate)));
  return {
    title: f.m.reminderTitle(r.title, r.markDays),
    lines: [line, f.m.reminderWhy],
    action: { label: f.m.openTender, url: tender.emailUrl },
    inAppMessage: line,
    inAppActionUrl: `/tenders/${tender.id}`,
  };
}

/** What changed, [old, new] per field (closing_date in ms). */
export type ChangeSet = Partial<Record<"closing_date" | "value", [number | null, number | null]>>;

export interface ChangeFacts {
  title: string;
  currency: string;
  changes: ChangeSet;
}

/** One line per changed field, old → new, dates in the recipient's zone. */
export function changeLines(f: MessageFormat, c: ChangeFacts): string[] {
  const date = (v: number | null) => (v === null ? f.m.none : f.date(new Date(v)));
  const money = (v: number | null) => (v === null ? f.m.none : f.money(v, c.currency));
  const lines: string[] = [];
  if (c.changes.closing_date) lines.push(f.m.changeClosingDate(date(c.changes.closing_date[0]), date(c.changes.closing_date[1])));
  if (c.changes.value) lines.push(f.m.changeValue(money(c.changes.value[0]), money(c.changes.value[1])));
  return lines;
}

/** A tender_changed notice: each change old → new. */
export function changeMessage(f: MessageFormat, c: ChangeFacts, tender: { id: string; emailUrl: string }): ComposedMessage {
  const what = f.m.changedFields(!!c.changes.closing_date, !!c.changes.value);
  const lines = changeLines(f, c);
  return {
    title: f.m.changeTitle(c.title, what),
    lines: [f.m.changeIntro(c.title, what), ...lines],
    action: { label: f.m.openTender, url: tender.emailUrl },
    inAppMessage: lines.join("; "),
    inAppActionUrl: `/tenders/${tender.id}`,
  };
}
