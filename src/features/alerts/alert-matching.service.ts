/**
 * Alert matching with I/O: the one code path behind the `alert-matching` queue consumer and the
 * first match of a new immediate alert. The matching itself is pure (match.ts, alert-index.ts).
 *
 * Exactly once in effect, under at-least-once delivery:
 * - Matches are recorded per chunk in ONE batch (alert-matching.repo.ts): `ON CONFLICT DO
 *   NOTHING` on (alert, tender), and the counters and notifications follow only the rows that
 *   carry this run's fresh ids, so a redelivered batch, or one retried after a crash halfway,
 *   records nothing twice (the chunks that committed are skipped, the rest are recorded).
 * - Immediate emails go out for matches still `pending` that no email carries: the outbox row and
 *   the match's `outbox_id` are written in one batch, guarded by "still pending, not carried", so a
 *   retry finds and sends the rest, never twice. The match becomes `sent` only when the email
 *   consumer delivered that email to the provider (jobs/email.consumer.ts).
 */
import type { Env } from "../../env";
import { outboxInsertIf, type OutboxContext } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails, type TenderLine } from "../../email/templates";
import { chunk, runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { decideImmediateEmail, startOfLocalDay } from "../digests/schedule";
import type { TenderRow } from "../tenders/tenders.repo";
import { buildAlertIndex, matchAlerts, type AlertIndex } from "./alert-index";
import {
  alertEmailsSince,
  claimMatchesForEmail,
  matchStillPending,
  pendingImmediateMatches,
  recordMatchesStatements,
  type MatchPair,
  type PendingMatchRow,
} from "./alert-matching.repo";
import { activeAlertsQuery, alertsVersionQuery } from "./alerts.repo";
import { prepareTender } from "./match";
import { signUnsubscribeToken, unsubscribeParts } from "./unsubscribe-token";
import type { TenderCriteria } from "./criteria.schema";

/** Match rows per recording batch. */
export const MATCHES_PER_CHUNK = 500;
/** Immediate emails per batch (each is an outbox insert and an update). */
const EMAILS_PER_BATCH = 30;
/** In-app notifications expire (and are purged by the cron) after this many days. */
export const NOTIFICATION_TTL_DAYS = 90;
const DAY = 86_400_000;

export interface IndexedAlertRef {
  id: string;
  userId: string;
  criteria: TenderCriteria;
}

/** What a matching run needs: D1, the secrets (to seal outbox bodies) and the clock. */
export type MatchingContext = OutboxContext & { env: Env };

// The compiled index of all active alerts, per isolate, keyed by the alerts version stamp.
let cached: { version: number; index: AlertIndex<IndexedAlertRef> } | null = null;
/** Kept for tests and metrics: how often this isolate rebuilt the index. */
export const indexStats = { builds: 0 };

/**
 * The compiled index of the active alerts: rebuilt only when the version stamp moved (one small
 * read per batch otherwise). D1 is exact, so a version read after a commit covers that commit.
 */
export async function activeAlertIndex(ctx: Pick<MatchingContext, "db">): Promise<AlertIndex<IndexedAlertRef>> {
  const [row] = await alertsVersionQuery(ctx.db);
  const version = row?.version ?? 0;
  if (cached && cached.version === version) return cached.index;
  const [rows, [again]] = await ctx.db.batch([activeAlertsQuery(ctx.db), alertsVersionQuery(ctx.db)]);
  const index = buildAlertIndex(rows);
  indexStats.builds++;
  // Stamp it with the version read in the same transaction as the alerts.
  cached = { version: again?.version ?? 0, index };
  return index;
}

/** Pure: the (alert, tender) pairs, each with a fresh match id. */
export function matchPairs(index: AlertIndex<IndexedAlertRef>, tenders: readonly TenderRow[], now: Date): MatchPair[] {
  const pairs: MatchPair[] = [];
  for (const tender of tenders) {
    const prepared = prepareTender(tender);
    for (const alert of matchAlerts(index, prepared, now)) pairs.push({ id: newId("amt", now.getTime()), alertId: alert.id, tenderId: tender.id });
  }
  return pairs;
}

/** Records the pairs chunk by chunk (one batch each); returns how many were new. */
export async function recordMatches(ctx: MatchingContext, pairs: readonly MatchPair[], chunkSize = MATCHES_PER_CHUNK): Promise<number> {
  let inserted = 0;
  const expires = new Date(ctx.now.getTime() + NOTIFICATION_TTL_DAYS * DAY);
  for (const part of chunk(pairs, chunkSize)) {
    const [insert] = await ctx.db.batch(recordMatchesStatements(ctx.db, part, ctx.now, expires));
    inserted += insert.meta.changes ?? 0;
  }
  return inserted;
}

const tenderLine = (baseUrl: string, r: PendingMatchRow): TenderLine => ({
  title: r.title,
  department: r.department,
  value: r.value,
  currency: r.currency,
  closingDate: r.closing_date === null ? null : new Date(r.closing_date),
  link: r.url ?? new URL(`/api/v1/tenders/${r.tender_id}?source=alert`, baseUrl).toString(),
});
export { tenderLine };

/**
 * Immediate emails for pending matches: quiet hours or the daily cap leave a match pending (the
 * next digest carries it). Returns the outbox ids written (already handed to the email queue).
 */
export async function sendImmediateEmails(ctx: MatchingContext, of: { tenderIds: readonly string[] } | { alertId: string }): Promise<string[]> {
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
      signUnsubscribeToken(ctx.env, ctx.config, { userId: r.user_id, alertId: r.alert_id }, ctx.now).then((token) => {
        const { url, headers } = unsubscribeParts(ctx.config, token);
        const email = emails.alertMatch({ name: r.full_name, alertName: r.alert_name, tender: tenderLine(ctx.config.PUBLIC_BASE_URL, r), unsubscribeUrl: url, headers });
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
