/**
 * The ONE way a notification other than an alert match reaches a person (reminders, tender
 * changes, system notices): `deliverNotification`. It loads the recipient, applies their
 * preferences and quiet hours once, renders the message in their language and time zone, and
 * writes every channel's delivery in one batch with the caller's guard and ledger, so a rerun
 * (cron at-least-once) delivers nothing twice.
 *
 * Alert matches use the same channels' rules (notification-prefs.ts) from their bulk paths:
 * immediate.service.ts (coalesced emails), digests.service.ts and the in-app rows recorded with
 * the matches (notifications.repo.ts), which stay set-based for volume.
 */
import { sql, type SQL } from "drizzle-orm";
import { systemOwner } from "../../../identity/owner";
import { runBatch, type Statement } from "../../../platform/db";
import type { Messages } from "../../../email/messages";
import type { DeliveryContext } from "../delivery.context";
import { recipientRow } from "../delivery.repo";
import { readNotificationPrefs } from "../notification-prefs";
import { inQuietHours } from "../schedule";
import { tenderEmailUrl } from "../tender-links";
import { afterNotificationsWritten, notificationFanoutStatements } from "../../notifications/notification-fanout";
import type { Channel, ChannelMessage, ChannelName, NotificationType, Recipient } from "./channel";
import { emailChannel } from "./email.channel";
import { inAppChannel } from "./in-app.channel";

/** The channels that exist. SMS, WhatsApp and push are not built (see channel.ts). */
export const CHANNELS: readonly Channel[] = [inAppChannel, emailChannel];

/** What the caller's `compose` gets: the recipient's catalogue and formatters. */
export interface ComposeInput {
  name: string;
  m: Messages;
  /** An instant in the recipient's zone, zone named. */
  date: (d: Date) => string;
  money: (value: number, currency: string) => string;
  /** The tender's URL for emails (the one function every tender link goes through). */
  tenderUrl: (tenderId: string, source: "reminder" | "change") => Promise<string>;
}

/** The message, in the recipient's language: a title (subject and in-app title), paragraphs, an optional button. */
export interface ComposedMessage {
  title: string;
  lines: string[];
  action?: { label: string; url: string };
  /** The in-app text (default: the lines joined). */
  inAppMessage?: string;
  /** The in-app link (default: the action's URL). */
  inAppActionUrl?: string;
}

export interface NotificationRequest {
  userId: string;
  type: Exclude<NotificationType, "alert_match">;
  tenderId?: string | null;
  alertId?: string | null;
  compose: (r: ComposeInput) => ComposedMessage | Promise<ComposedMessage>;
  /**
   * Exactly once: `statement` runs first in the batch (e.g. the ledger row of this reminder mark,
   * with a fresh id, INSERT … ON CONFLICT DO NOTHING) and every delivery is written only if `won`
   * then holds (e.g. "the ledger row with MY fresh id exists"): a rerun or a concurrent run loses
   * the claim and writes nothing. Without it, the notification is delivered unconditionally.
   */
  claim?: { statement: Statement; won: SQL };
}

export type DeliveryOutcome =
  | { status: "delivered"; channels: ChannelName[] }
  /** Nothing written: the email would fall in the recipient's quiet hours. Call again later (the guard still holds). */
  | { status: "deferred"; reason: "quiet_hours" }
  /** Nothing to deliver: no active recipient, or every channel turned off (the claim is still written then). */
  | { status: "skipped"; reason: "no_recipient" | "preferences" }
  /** The guard no longer held (a rerun, or a concurrent delivery). */
  | { status: "already_delivered" };

function escapeHtml(s: string) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/**
 * The message as the recipient reads it: the in-app title and text, and the email (greeting,
 * lines, button, the zone the times are in), in their catalogue. Exported for batch senders that
 * keep their own claim (tender-change fan-out).
 */
export function renderComposed(f: { m: Messages; zone: string }, name: string, template: string, composed: ComposedMessage): Pick<ChannelMessage, "inApp" | "email"> {
  const paragraphs = [f.m.hello(name), ...composed.lines];
  const text = [...paragraphs, ...(composed.action ? [`${composed.action.label}: ${composed.action.url}`] : []), f.m.timesShownIn(f.zone), f.m.signature].join("\n\n");
  const html = `<!doctype html><html lang="${escapeHtml(f.m.locale)}"><body style="font-family:system-ui,sans-serif;color:#111;max-width:600px;margin:0 auto;padding:24px"><h1 style="font-size:20px">${escapeHtml(composed.title)}</h1>${paragraphs
    .map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`)
    .join("")}${
    composed.action ? `<p style="margin:24px 0"><a href="${escapeHtml(composed.action.url)}" style="background:#1f4fd1;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none">${escapeHtml(composed.action.label)}</a></p>` : ""
  }<p style="font-size:12px;color:#777">${escapeHtml(f.m.timesShownIn(f.zone))} · keel</p></body></html>`;
  return {
    inApp: { title: composed.title, message: composed.inAppMessage ?? composed.lines.join(" "), actionUrl: composed.inAppActionUrl ?? composed.action?.url ?? null },
    email: { template, subject: composed.title, text, html },
  };
}

/** Delivers one notification to one user through every channel their preferences allow. */
export async function deliverNotification(ctx: DeliveryContext, req: NotificationRequest): Promise<DeliveryOutcome> {
  const [row] = await recipientRow(ctx.db, systemOwner(req.userId, "cron"));
  if (!row) return { status: "skipped", reason: "no_recipient" };
  const { readerFormat } = await import("../alert-emails");
  const f = readerFormat({ timeZone: row.timezone, language: row.language });
  const recipient: Recipient = {
    userId: row.user_id,
    email: row.email,
    name: row.full_name,
    timeZone: f.zone,
    language: f.m.locale,
    prefs: readNotificationPrefs(row.notification_prefs),
    quietHours: row.quiet_hours_start && row.quiet_hours_end ? { start: row.quiet_hours_start, end: row.quiet_hours_end } : null,
    emailSuppressed: row.suppressed === 1,
  };
  const channels = CHANNELS.filter((c) => c.accepts(recipient, req.type));
  if (channels.some((c) => c.name === "email") && recipient.quietHours) {
    let quiet = false;
    try {
      quiet = inQuietHours(ctx.now, recipient.timeZone, recipient.quietHours.start, recipient.quietHours.end);
    } catch {
      quiet = false; // invalid stored quiet hours: validated on write; deliver rather than hold forever
    }
    if (quiet) return { status: "deferred", reason: "quiet_hours" };
  }
  const guard = req.claim?.won ?? sql`1`;
  if (channels.length === 0) {
    if (req.claim) await runBatch(ctx, [req.claim.statement]);
    return { status: "skipped", reason: "preferences" };
  }
  const composed = await req.compose({
    name: recipient.name,
    m: f.m,
    date: f.date,
    money: f.money,
    tenderUrl: (tenderId, source) => tenderEmailUrl(ctx, { userId: recipient.userId, tenderId, source }),
  });
  const message = { type: req.type, tenderId: req.tenderId ?? null, alertId: req.alertId ?? null, ...renderComposed(f, recipient.name, req.type, composed) };
  const prepared = await Promise.all(channels.map((c) => c.prepare(ctx, recipient, message, guard)));
  const statements = prepared.flatMap((p) => p.statements);
  const notificationIds = prepared.flatMap((p) => p.notificationIds ?? []);
  const fanout = notificationFanoutStatements(ctx, notificationIds);
  const results = (await runBatch(ctx, [...(req.claim ? [req.claim.statement] : []), ...statements, ...fanout])) as D1Result[];
  let at = req.claim ? 1 : 0;
  const written: ChannelName[] = [];
  for (const [i, p] of prepared.entries()) {
    const mine = results.slice(at, at + p.statements.length);
    at += p.statements.length;
    if (mine.some((r) => (r.meta.changes ?? 0) > 0)) written.push(channels[i]!.name);
    await p.after?.(mine);
  }
  if (written.includes("in_app")) await afterNotificationsWritten(ctx, notificationIds, results.slice(at));
  return written.length > 0 ? { status: "delivered", channels: written } : { status: "already_delivered" };
}
