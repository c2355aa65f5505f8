/**
 * Alert and digest emails, in the reader's language (email/messages) and time zone (email/format):
 * tenders grouped by the alert that matched them, each with the reasons it matched.
 */
import { formatInstant, formatMoney, usableTimeZone } from "../../email/format";
import { messagesFor, type Messages } from "../../email/messages";
import type { RenderedEmail } from "../../email/templates";
import type { MatchReason } from "./explain";

/** Who reads the email: the profile's name, time zone and language_preference. */
export interface Reader {
  name: string;
  timeZone: string | null;
  language: string | null;
}

export interface ListedTender {
  title: string;
  department: string | null;
  state: string | null;
  value: number | null;
  currency: string;
  closingDate: Date | null;
  link: string;
  reasons: readonly MatchReason[];
}

export interface AlertSection {
  alertName: string;
  tenders: readonly ListedTender[];
  /** The alert's one-click unsubscribe page (immediate emails), or null. */
  unsubscribeUrl: string | null;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** A reader's formatters: dates in their zone, amounts in their locale. */
export function readerFormat(reader: Pick<Reader, "timeZone" | "language">) {
  const m = messagesFor(reader.language);
  const zone = usableTimeZone(reader.timeZone);
  return {
    m,
    zone,
    date: (d: Date) => formatInstant(d, zone, m.locale),
    money: (v: number, currency: string) => formatMoney(v, currency, m.locale),
  };
}
type Format = ReturnType<typeof readerFormat>;

export function reasonText(r: MatchReason, f: Format, currency: string): string {
  const { m } = f;
  switch (r.kind) {
    case "keyword":
      return m.reasonKeyword(r.keyword);
    case "state":
      return m.reasonState(r.state);
    case "department":
      return m.reasonDepartment(r.department);
    case "value":
      if (r.min !== null && r.max !== null) return m.reasonValueBetween(f.money(r.min, currency), f.money(r.max, currency));
      return r.min !== null ? m.reasonValueAtLeast(f.money(r.min, currency)) : m.reasonValueAtMost(f.money(r.max ?? 0, currency));
    case "closing":
      return m.reasonClosingWithin(r.days);
    case "any":
      return m.reasonAny;
  }
}

function facts(t: ListedTender, f: Format): string {
  const { m } = f;
  return [
    `${m.department}: ${t.department ?? m.none}`,
    ...(t.state ? [`${m.state}: ${t.state}`] : []),
    `${m.value}: ${t.value === null ? m.none : f.money(t.value, t.currency)}`,
    `${m.closes}: ${t.closingDate ? f.date(t.closingDate) : m.none}`,
  ].join(" · ");
}

const why = (t: ListedTender, f: Format) => (t.reasons.length > 0 ? `${f.m.whyMatched}: ${t.reasons.map((r) => reasonText(r, f, t.currency)).join("; ")}` : null);

function render(
  template: string,
  subject: string,
  reader: Reader,
  f: Format,
  intro: string[],
  sections: readonly AlertSection[],
  outro: { text: string; link?: { label: string; url: string } }[],
): RenderedEmail {
  const m: Messages = f.m;
  const head = [m.hello(reader.name), ...intro];
  const text = [
    ...head,
    ...sections.flatMap((s) => [
      `== ${m.alertGroup(s.alertName, s.tenders.length)} ==`,
      ...s.tenders.map((t) => [t.title, facts(t, f), why(t, f), t.link].filter((x) => x !== null).join("\n")),
      ...(s.unsubscribeUrl ? [`${m.stopAlertEmailsOf(s.alertName)}: ${s.unsubscribeUrl}`] : []),
    ]),
    ...outro.map((o) => (o.link ? `${o.text ? `${o.text} ` : ""}${o.link.label}: ${o.link.url}` : o.text)),
    m.timesShownIn(f.zone),
    m.signature,
  ].join("\n\n");
  const p = (s: string) => `<p style="margin:0 0 16px">${esc(s)}</p>`;
  const html = `<!doctype html><html lang="${esc(m.locale)}"><body style="font-family:system-ui,sans-serif;color:#111;max-width:600px;margin:0 auto;padding:24px"><h1 style="font-size:20px">${esc(subject)}</h1>${head
    .map(p)
    .join("")}${sections
    .map(
      (s) =>
        `<h2 style="font-size:16px;margin:24px 0 8px">${esc(m.alertGroup(s.alertName, s.tenders.length))}</h2><ul style="padding-left:18px">${s.tenders
          .map((t) => {
            const w = why(t, f);
            return `<li style="margin:0 0 16px"><a href="${esc(t.link)}" style="font-weight:600">${esc(t.title)}</a><br><span style="font-size:13px;color:#444">${esc(facts(t, f))}</span>${
              w ? `<br><span style="font-size:13px;color:#2a6041">${esc(w)}</span>` : ""
            }</li>`;
          })
          .join("")}</ul>${s.unsubscribeUrl ? `<p style="font-size:12px"><a href="${esc(s.unsubscribeUrl)}">${esc(m.stopAlertEmailsOf(s.alertName))}</a></p>` : ""}`,
    )
    .join("")}${outro
    .map((o) => `<p style="margin:0 0 16px;font-size:13px">${esc(o.text)}${o.link ? ` <a href="${esc(o.link.url)}">${esc(o.link.label)}</a>` : ""}</p>`)
    .join("")}<p style="font-size:12px;color:#777">${esc(m.timesShownIn(f.zone))} · keel</p></body></html>`;
  return { template, subject, text, html };
}

/** The immediate alert email: the new matches of one consumer batch, one email per user. */
export function renderAlertEmail(reader: Reader, sections: readonly AlertSection[], headers?: Record<string, string>): RenderedEmail {
  const f = readerFormat(reader);
  const n = sections.reduce((a, s) => a + s.tenders.length, 0);
  const first = sections[0];
  const subject = n === 1 && first?.tenders[0] ? f.m.alertSubjectOne(first.alertName, first.tenders[0].title) : f.m.alertSubjectMany(n);
  return { ...render("alert_match", subject, reader, f, [f.m.alertIntro(n)], sections, []), ...(headers ? { headers } : {}) };
}

/** The daily or weekly digest: open tenders, grouped by alert, soonest closing first; what was left out is counted. */
export function renderDigestEmail(
  reader: Reader,
  p: { frequency: "daily" | "weekly"; sections: readonly AlertSection[]; leftOut: number; seeAllUrl: string; unsubscribeUrl: string; headers: Record<string, string> },
): RenderedEmail {
  const f = readerFormat(reader);
  const n = p.sections.reduce((a, s) => a + s.tenders.length, 0);
  return {
    ...render(`${p.frequency}_digest`, f.m.digestSubject(p.frequency, n), reader, f, [f.m.digestIntro(n)], p.sections, [
      { text: p.leftOut > 0 ? f.m.digestLeftOut(p.leftOut) : "", link: { label: f.m.seeAll, url: p.seeAllUrl } },
      { text: "", link: { label: f.m.stopDigestEmails, url: p.unsubscribeUrl } },
    ]),
    headers: p.headers,
  };
}
