/**
 * Alert matching with I/O: the one code path behind the `alert-matching` queue consumer and the
 * first match of a new immediate alert. The matching itself is pure (match.ts, alert-index.ts).
 *
 * Exactly once in effect, under at-least-once delivery:
 * - Matches are recorded per chunk in ONE batch (alert-matching.repo.ts): `ON CONFLICT DO
 *   NOTHING` on (alert, tender), and the counters and notifications follow only the rows that
 *   carry this run's fresh ids, so a redelivered batch, or one retried after a crash halfway,
 *   records nothing twice (the chunks that committed are skipped, the rest are recorded).
 * - Immediate emails (alert-delivery/immediate.service.ts) go out for matches still `pending` that no email carries: the outbox row and
 *   the match's `outbox_id` are written in one batch, guarded by "still pending, not carried", so a
 *   retry finds and sends the rest, never twice. The match becomes `sent` only when the email
 *   consumer delivered that email to the provider (alert-delivery/email-delivery.service.ts).
 */
import { chunk } from "../../platform/db";
import { newId } from "../../platform/ids";
import type { DeliveryContext } from "../alert-delivery/delivery.context";
import type { TenderRow } from "../tenders/tenders.repo";
import { buildAlertIndex, matchAlerts, type AlertIndex } from "./alert-index";
import { sendAlertMatchWebhooks } from "../webhooks/emit";
import { recordMatchesStatements, tendersByIds, type MatchPair } from "./alert-matching.repo";
import { sendImmediateEmails } from "../alert-delivery/immediate.service";
import { markTendersMatched } from "../tenders/tenders.service";
import { activeAlertsQuery, alertsVersionQuery } from "./alerts.repo";
import { prepareTender } from "../tenders/match";
import type { TenderCriteria } from "../tenders/criteria.schema";
import { DAY } from "../../platform/time";
import { pushNewNotifications } from "../notifications/live";
import { notificationIdOfMatch } from "../notifications/notifications.repo";

/** Match rows per recording batch. */
export const MATCHES_PER_CHUNK = 500;
/** In-app notifications expire (and are purged by the cron) after this many days. */
export const NOTIFICATION_TTL_DAYS = 90;

export interface IndexedAlertRef {
  id: string;
  userId: string;
  criteria: TenderCriteria;
}

/** What a matching run needs: D1, the secrets (to seal outbox bodies) and the clock. */
export type MatchingContext = DeliveryContext;

/**
 * The index the consumer matches with: its hits are alert ids, so it keeps neither the rows nor
 * their criteria (the memory budget of issue 20: 100,000 alerts in well under 48 MB).
 */
export function matchingIndex(alerts: readonly IndexedAlertRef[]): AlertIndex<string> {
  return buildAlertIndex(alerts, { result: (alert) => alert.id });
}

// The compiled index of all active alerts, per isolate, keyed by the alerts version stamp.
let cached: { version: number; index: AlertIndex<string> } | null = null;
/** Kept for tests and metrics: how often this isolate rebuilt the index. */
export const indexStats = { builds: 0 };

/**
 * The compiled index of the active alerts: rebuilt only when the version stamp moved (one small
 * read per batch otherwise). D1 is exact, so a version read after a commit covers that commit.
 */
export async function activeAlertIndex(ctx: Pick<MatchingContext, "db">): Promise<AlertIndex<string>> {
  const [row] = await alertsVersionQuery(ctx.db);
  const version = row?.version ?? 0;
  if (cached && cached.version === version) return cached.index;
  const [rows, [again]] = await ctx.db.batch([activeAlertsQuery(ctx.db), alertsVersionQuery(ctx.db)]);
  const index = matchingIndex(rows);
  indexStats.builds++;
  // Stamp it with the version read in the same transaction as the alerts.
  cached = { version: again?.version ?? 0, index };
  return index;
}

/** Pure: the (alert, tender) pairs, each with a fresh match id. */
export function matchPairs(index: AlertIndex<string>, tenders: readonly TenderRow[], now: Date): MatchPair[] {
  const pairs: MatchPair[] = [];
  for (const tender of tenders) {
    const prepared = prepareTender(tender);
    for (const alertId of matchAlerts(index, prepared, now)) pairs.push({ id: newId("amt", now.getTime()), alertId, tenderId: tender.id });
  }
  return pairs;
}

/** Records the pairs chunk by chunk (one batch each); returns how many were new. */
export async function recordMatches(ctx: Pick<MatchingContext, "db" | "env" | "now">, pairs: readonly MatchPair[], chunkSize = MATCHES_PER_CHUNK): Promise<number> {
  let inserted = 0;
  const expires = new Date(ctx.now.getTime() + NOTIFICATION_TTL_DAYS * DAY);
  for (const part of chunk(pairs, chunkSize)) {
    const [insert] = await ctx.db.batch(recordMatchesStatements(ctx.db, part, ctx.now, expires));
    inserted += insert.meta.changes ?? 0;
    if (insert.meta.changes) pushNewNotifications(ctx, part.map((p) => notificationIdOfMatch(p.id)));
    await sendAlertMatchWebhooks(ctx, part.map((p) => p.id));
  }
  return inserted;
}

/**
 * One matching run over these tenders (the `alert-matching` consumer's verb): the index against
 * the tenders, the matches recorded, immediate emails for what is still pending, then the
 * tenders' pending-matching marks cleared for the versions read.
 */
export async function matchTenders(ctx: MatchingContext, tenderIds: readonly string[]) {
  const [index, tenders] = await Promise.all([activeAlertIndex(ctx), tendersByIds(ctx.db, tenderIds)]);
  const pairs = matchPairs(index, tenders, ctx.now);
  const inserted = await recordMatches(ctx, pairs);
  const emailed = await sendImmediateEmails(ctx, { tenderIds });
  const cleared = await markTendersMatched(ctx.db, tenders);
  return { tenders: tenders.length, matches: pairs.length, new_matches: inserted, emails: emailed.length, cleared };
}
