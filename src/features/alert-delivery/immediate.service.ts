import { DAY } from "../../platform/time";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails, type TenderLine } from "../../email/templates";
import { chunk, runBatch, type Statement } from "../../platform/db";
import { alertEmailsSince, claimMatchesForEmail, matchStillPending, pendingImmediateMatches, type PendingMatchRow } from "./delivery.repo";
import type { DeliveryContext } from "./delivery.context";
import { decideImmediateEmail, startOfLocalDay } from "./schedule";
import { signUnsubscribeToken, unsubscribeParts } from "./unsubscribe-token";
import { tenderEmailUrl } from "./tender-links";

/** Immediate emails per batch (each is an outbox insert and an update). */
const EMAILS_PER_BATCH = 30;

/** A tender of an email; its link is the recipient's signed /l/ link (tender-links.ts). */
const tenderLine = async (ctx: DeliveryContext, r: PendingMatchRow, source: "alert" | "digest"): Promise<TenderLine> => ({
  title: r.title,
  department: r.department,
  value: r.value,
  currency: r.currency,
  closingDate: r.closing_date === null ? null : new Date(r.closing_date),
  link: await tenderEmailUrl(ctx, { userId: r.user_id, tenderId: r.tender_id, source }),
});
export { tenderLine };

/**
 * Immediate emails for pending matches: quiet hours or the daily cap leave a match pending (the
 * next digest carries it). Returns the outbox ids written (already handed to the email queue).
 */
export async function sendImmediateEmails(ctx: DeliveryContext, of: { tenderIds: readonly string[] } | { alertId: string }): Promise<string[]> {
  const pending = await pendingImmediateMatches(ctx.db, of);
  if (pending.length === 0) return [];
  const zone = (r: PendingMatchRow) => r.timezone ?? "UTC";
  // Today's alert emails per user, counted from the start of the user's local day.
  const userIds = [...new Set(pending.map((r) => r.user_id))];
  const sent = await alertEmailsSince(ctx.db, userIds, new Date(ctx.now.getTime() - 2 * DAY));
  const sentToday = new Map<string, number>();
  const dayStart = new Map<string, number>();
  for (const r of pending) if (!dayStart.has(r.user_id)) dayStart.set(r.user_id, safe(() => startOfLocalDay(ctx.now, zone(r)).getTime(), ctx.now.getTime() - DAY));
  for (const s of sent) if (s.created_at >= (dayStart.get(s.user_id) ?? Infinity)) sentToday.set(s.user_id, (sentToday.get(s.user_id) ?? 0) + 1);

  const statements: Promise<{ id: string; statements: Statement[] }>[] = [];
  for (const r of pending) {
    const decision = safe(
      () =>
        decideImmediateEmail({
          now: ctx.now,
          timeZone: zone(r),
          quietHoursStart: r.quiet_hours_start,
          quietHoursEnd: r.quiet_hours_end,
          sentToday: sentToday.get(r.user_id) ?? 0,
          maxPerDay: r.max_alerts_per_day ?? 50,
        }),
      { send: false as const, reason: "quiet_hours" as const },
    );
    if (!decision.send) continue;
    sentToday.set(r.user_id, (sentToday.get(r.user_id) ?? 0) + 1);
    statements.push(
      signUnsubscribeToken(ctx.env, ctx.config, { userId: r.user_id, alertId: r.alert_id }, ctx.now).then(async (token) => {
        const { url, headers } = unsubscribeParts(ctx.config, token);
        const email = emails.alertMatch({ name: r.full_name, alertName: r.alert_name, tender: await tenderLine(ctx, r, "alert"), unsubscribeUrl: url, headers });
        return outboxInsertIf(ctx, { to: r.email, userId: r.user_id, email }, matchStillPending(r.match_id)).then((mail) => ({
          id: mail.id,
          statements: [mail.statement, claimMatchesForEmail(ctx.db, [r.match_id], mail.id)],
        }));
      }),
    );
  }
  const prepared = await Promise.all(statements);
  const written: string[] = [];
  for (const part of chunk(prepared, EMAILS_PER_BATCH)) {
    const results = (await runBatch(ctx, part.flatMap((p) => p.statements))) as D1Result[];
    part.forEach((p, i) => {
      if ((results[i * 2]?.meta.changes ?? 0) > 0) written.push(p.id);
    });
  }
  await enqueueEmails(ctx.env, written);
  return written;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    // An invalid stored time zone or time: fail closed (no immediate email; the digest skips it too).
    return fallback;
  }
}
