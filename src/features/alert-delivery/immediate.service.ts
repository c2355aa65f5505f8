import { DAY } from "../../platform/time";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { chunk, runBatch, type Statement } from "../../platform/db";
import { alertEmailsSince, claimMatchesForEmail, matchesStillPending, pendingImmediateMatches, type ImmediateScope, type PendingMatchRow } from "./delivery.repo";
import type { DeliveryContext } from "./delivery.context";
import { decideImmediateEmail, startOfLocalDay } from "./schedule";
import { signUnsubscribeToken, unsubscribeParts } from "./unsubscribe-token";
import { emailAllowed, readNotificationPrefs } from "./notification-prefs";

/** Immediate emails per D1 batch (each is an outbox insert and an update). */
const EMAILS_PER_BATCH = 30;
/** Tenders one immediate email lists; the rest stay pending (the next email or the digest carries them). */
export const IMMEDIATE_MAX_TENDERS = 20;

/**
 * Immediate alert emails for pending matches, coalesced: ONE email per user per run (a consumer
 * batch, or the quiet-hours release of the cron), listing that user's new matches grouped by
 * alert, each with why it matched; it counts once against `max_alerts_per_day`. Quiet hours or the
 * daily cap leave the matches pending: the quiet-hours release sends them when the quiet hours end
 * (whatever the digest setting), the next digest carries the capped ones. No email at all when
 * `notification_preferences` turns off email or alerts (the digest may still carry them).
 * Returns the outbox ids written (already handed to the email queue).
 */
export async function sendImmediateEmails(ctx: DeliveryContext, of: ImmediateScope): Promise<string[]> {
  const pending = await pendingImmediateMatches(ctx.db, of, ctx.now);
  if (pending.length === 0) return [];
  const byUser = new Map<string, PendingMatchRow[]>();
  for (const r of pending) {
    const list = byUser.get(r.user_id);
    if (list) list.push(r);
    else byUser.set(r.user_id, [r]);
  }
  const zone = (r: PendingMatchRow) => r.timezone ?? "UTC";
  // Today's alert emails per user, counted from the start of the user's local day.
  const sent = await alertEmailsSince(ctx.db, [...byUser.keys()], new Date(ctx.now.getTime() - 2 * DAY));
  const dayStart = new Map<string, number>();
  for (const [userId, [r]] of byUser) if (r) dayStart.set(userId, safe(() => startOfLocalDay(ctx.now, zone(r)).getTime(), ctx.now.getTime() - DAY));
  const sentToday = new Map<string, number>();
  for (const s of sent) if (s.created_at >= (dayStart.get(s.user_id) ?? Infinity)) sentToday.set(s.user_id, (sentToday.get(s.user_id) ?? 0) + 1);

  const prepared: Promise<{ id: string; statements: Statement[] }>[] = [];
  for (const [userId, rows] of byUser) {
    const head = rows[0];
    if (!head || !emailAllowed(readNotificationPrefs(head.notification_prefs), "alert_match")) continue;
    const decision = safe(
      () =>
        decideImmediateEmail({
          now: ctx.now,
          timeZone: zone(head),
          quietHoursStart: head.quiet_hours_start,
          quietHoursEnd: head.quiet_hours_end,
          sentToday: sentToday.get(userId) ?? 0,
          maxPerDay: head.max_alerts_per_day ?? 50,
        }),
      { send: false as const, reason: "quiet_hours" as const },
    );
    if (!decision.send) continue;
    const listed = rows.slice(0, IMMEDIATE_MAX_TENDERS);
    prepared.push(coalescedEmail(ctx, head, listed));
  }
  const ready = await Promise.all(prepared);
  const written: string[] = [];
  for (const part of chunk(ready, EMAILS_PER_BATCH)) {
    const results = (await runBatch(ctx, part.flatMap((p) => p.statements))) as D1Result[];
    part.forEach((p, i) => {
      if ((results[i * 2]?.meta.changes ?? 0) > 0) written.push(p.id);
    });
  }
  await enqueueEmails(ctx.env, written);
  return written;
}

/** One user's email: the outbox row, guarded by "every listed match still pending and unclaimed", and the claim of those matches. */
async function coalescedEmail(ctx: DeliveryContext, head: PendingMatchRow, rows: readonly PendingMatchRow[]) {
  // Rendering (catalogues, reasons) loads on first use: it stays out of the cold start.
  const [{ renderAlertEmail }, { alertSections }] = await Promise.all([import("./alert-emails"), import("./match-lines")]);
  const tokens = new Map<string, { url: string; headers: Record<string, string> }>();
  const sections = await alertSections(ctx, rows, "alert", async (alertId) => {
    const parts = unsubscribeParts(ctx.config, await signUnsubscribeToken(ctx.env, ctx.config, { userId: head.user_id, alertId }, ctx.now));
    tokens.set(alertId, parts);
    return parts.url;
  });
  // One-click List-Unsubscribe names one alert: only when the email is about one alert (each section has its own link).
  const only = tokens.size === 1 ? [...tokens.values()][0] : undefined;
  const email = renderAlertEmail({ name: head.full_name, timeZone: head.timezone, language: head.language }, sections, only?.headers);
  const ids = rows.map((r) => r.match_id);
  const mail = await outboxInsertIf(ctx, { to: head.email, userId: head.user_id, email }, matchesStillPending(ids));
  return { id: mail.id, statements: [mail.statement, claimMatchesForEmail(ctx.db, ids, mail.id)] };
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    // An invalid stored time zone or time: fail closed (no immediate email; the digest skips it too).
    return fallback;
  }
}
