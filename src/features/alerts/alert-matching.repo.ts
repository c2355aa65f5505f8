import { sql } from "drizzle-orm";
import { alertMatches, alerts, tenders } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";
import type { TenderRow } from "../tenders/tenders.repo";
import { fromRawTender, tenderColumns, tenderColumnsWithout } from "../tenders/tenders.repo";
import { notifyAlertMatchesStatement } from "../notifications/notifications.repo";
import { alertMatchWebhookStatements } from "../webhooks/webhook-outbox.repo";

type RawTender = Record<string, unknown>;

/** The ids of a JSON array parameter, as a subquery. */
const idsIn = (ids: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/** The tenders of a batch, in one query (json_each, no bound-parameter limit). */
export async function tendersByIds(db: Db, ids: readonly string[]): Promise<TenderRow[]> {
  const rows = await db.all<RawTender>(sql`SELECT ${tenderColumns("t")} FROM ${tenders} AS t WHERE t.id IN ${idsIn(ids)}`);
  return rows.map(fromRawTender);
}

/**
 * The first match of a new alert: among the newest `limit` tenders updated since `since` (index
 * on updated_at; ids only), those that could match, with the text the matcher needs, in ONE query.
 * - `fts` (the alert's keywords as an FTS5 query): only tenders the FTS index says contain them;
 *   their descriptions are read (they are matches, each of which costs a match row anyway).
 * - No keywords: every one of the newest, but a description only where `excludeFts` says an
 *   exclude may be in it (null otherwise: the matcher then decides on the title and the rest).
 * The matcher decides on what this returns, as for `/tenders?q=`.
 */
export async function firstMatchCandidates(db: Db, q: { since: Date; limit: number; fts: string | null; excludeFts: string | null }): Promise<TenderRow[]> {
  const recent = sql`SELECT rowid AS rid FROM ${tenders} WHERE updated_at >= ${q.since.getTime()} ORDER BY updated_at DESC LIMIT ${q.limit}`;
  // Correlated on rowid: FTS5 looks each candidate up, rather than listing every tender ever indexed.
  const inFts = (query: string) => sql`EXISTS (SELECT 1 FROM tenders_fts WHERE tenders_fts MATCH ${query} AND rowid = t.rowid)`;
  const rows = q.fts
    ? await db.all<RawTender>(sql`SELECT ${tenderColumns("t")} FROM (${recent}) r JOIN ${tenders} AS t ON t.rowid = r.rid WHERE ${inFts(q.fts)}`)
    : await db.all<RawTender>(
        sql`SELECT ${tenderColumnsWithout("t", ["description"])}, ${q.excludeFts ? sql`CASE WHEN ${inFts(q.excludeFts)} THEN t.description END` : sql`NULL`} AS description
            FROM (${recent}) r JOIN ${tenders} AS t ON t.rowid = r.rid`,
      );
  return rows.map(fromRawTender);
}

export interface MatchPair {
  /** A fresh id: only rows that kept it were inserted by this statement. */
  id: string;
  alertId: string;
  tenderId: string;
}

/**
 * The statements that record one chunk of matches, for ONE `db.batch()`:
 * 1. insert the matches, skipping pairs that exist (unique alert+tender) and alerts that are gone
 *    or inactive since the index was built;
 * 2. count the NEW ones (rows that carry this chunk's fresh ids) on their alerts, with last_matched_at;
 * 3. in-app notifications for the new ones (notifications.repo: id derived from the match id, a rerun cannot double them).
 * A redelivered chunk inserts nothing, so steps 2 and 3 find nothing.
 */
export function recordMatchesStatements(db: Db, pairs: readonly MatchPair[], now: Date, notificationExpiresAt: Date) {
  const ids = pairs.map((p) => p.id);
  const json = JSON.stringify(pairs.map((p) => [p.id, p.alertId, p.tenderId]));
  const t = now.getTime();
  const newIds = idsIn(ids);
  return [
    rawStatement(
      db,
      sql`INSERT INTO ${alertMatches} (id, alert_id, tender_id, user_id, matched_at, notification_status)
          SELECT j.value ->> 0, a.id, t.id, a.user_id, ${t}, 'pending'
          FROM json_each(${json}) j
          JOIN ${alerts} a ON a.id = j.value ->> 1 AND a.is_active = 1
          JOIN ${tenders} t ON t.id = j.value ->> 2
          WHERE true
          ON CONFLICT (alert_id, tender_id) DO NOTHING`,
    ),
    rawStatement(
      db,
      sql`UPDATE ${alerts} SET
            total_matches = total_matches + (SELECT count(*) FROM ${alertMatches} m WHERE m.alert_id = ${alerts.id} AND m.id IN ${newIds}),
            last_matched_at = ${t}
          WHERE ${alerts.id} IN (SELECT m.alert_id FROM ${alertMatches} m WHERE m.id IN ${newIds})`,
    ),
    notifyAlertMatchesStatement(db, ids, now, notificationExpiresAt),
    ...alertMatchWebhookStatements(db, ids, now),
  ] as const;
}
