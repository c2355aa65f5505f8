/**
 * The English message catalogue of alert, digest and notification emails (the reference: every
 * other language must have every key, see messages/index.ts). Values are strings or functions of
 * already formatted values (dates, amounts: see ../format.ts), so a translation controls word order.
 */
export const en = {
  locale: "en-IN",
  hello: (name: string) => `Hello ${name},`,
  signature: "— keel",
  department: "Department",
  state: "State",
  value: "Value",
  closes: "Closes",
  none: "—",
  whyMatched: "Why it matched",
  reasonKeyword: (keyword: string) => `keyword "${keyword}"`,
  reasonState: (state: string) => `state ${state}`,
  reasonDepartment: (department: string) => `department ${department}`,
  reasonValueBetween: (min: string, max: string) => `value between ${min} and ${max}`,
  reasonValueAtLeast: (min: string) => `value at least ${min}`,
  reasonValueAtMost: (max: string) => `value at most ${max}`,
  reasonClosingWithin: (days: number) => `closes within ${days} days`,
  reasonAny: "every new tender (the alert sets no criteria)",
  alertSubjectOne: (alert: string, title: string) => `New tender for your alert "${alert}": ${title}`,
  alertSubjectMany: (n: number) => `${n} new tenders match your alerts`,
  alertIntro: (n: number) => (n === 1 ? "A new tender matches your alert." : `${n} new tenders match your alerts.`),
  alertGroup: (alert: string, n: number) => `Alert "${alert}": ${n} tender${n === 1 ? "" : "s"}`,
  stopAlertEmails: "Stop emails for this alert",
  stopAlertEmailsOf: (alert: string) => `Stop emails for the alert "${alert}"`,
  digestSubject: (frequency: "daily" | "weekly", n: number) => `Your ${frequency} keel digest: ${n} open tender${n === 1 ? "" : "s"}`,
  digestIntro: (n: number) => `${n} open tender${n === 1 ? "" : "s"} matched your alerts since your last digest, the soonest closing first.`,
  digestLeftOut: (n: number) => `${n} more match${n === 1 ? " is" : "es are"} not listed here.`,
  seeAll: "See all your matches",
  stopDigestEmails: "Stop digest emails",
  timesShownIn: (zone: string) => `Times are shown in ${zone}.`,
  openTender: "Open the tender",
  reminderTitle: (title: string, days: number) => `Reminder: ${title} closes within ${days === 1 ? "1 day" : `${days} days`}`,
  reminderLine: (title: string, closes: string) => `The tender you are bidding for, "${title}", closes on ${closes}.`,
  reminderWhy: "You get this reminder because the bid is in planning or preparation. Change the days in your preferences (reminder_days).",
  changedFields: (closingDate: boolean, value: boolean) => [closingDate ? "closing date" : null, value ? "value" : null].filter(Boolean).join(" and "),
  changeTitle: (title: string, what: string) => `Changed ${what}: ${title}`,
  changeIntro: (title: string, what: string) => `"${title}" changed its ${what}:`,
  changeClosingDate: (from: string, to: string) => `Closing date: ${from} → ${to}`,
  changeValue: (from: string, to: string) => `Value: ${from} → ${to}`,
};

/** The shape every catalogue has: the keys of the English one, with the same value types. */
export type Messages = { readonly [K in keyof typeof en]: (typeof en)[K] };
