import { sql } from "drizzle-orm";
import { alertMatches, alerts, emailOutbox, emailSuppressions, notifications, tenders, userPreferences, userProfiles, users } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";
import type { TenderRow } from "../tenders/tenders.repo";
import { fromRawTender, tenderColumns, tenderColumnsWithout } from "../tenders/tenders.repo";

type RawTender = Record<string, unknown>;

/** The ids of a JSON array parameter, as a subquery. */
const idsIn = (ids: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
/** For queries that alias alerts as `a`. */
const hasMethod = (method: "email" | "in_app") => sql`EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = ${method})`;

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
 * 3. in-app notifications for the new ones, id derived from the match id (a rerun cannot double them).
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
    rawStatement(
      db,
      sql`INSERT INTO ${notifications} (id, user_id, type, title, message, action_url, related_tender_id, related_alert_id, is_read, delivery_method, created_at, expires_at)
          SELECT 'ntf_' || substr(m.id, 5), m.user_id, 'alert_match', 'New match: ' || a.name, t.title, '/tenders/' || t.id, t.id, a.id, 0, 'in_app', ${t}, ${notificationExpiresAt.getTime()}
          FROM ${alertMatches} m JOIN ${alerts} a ON a.id = m.alert_id JOIN ${tenders} t ON t.id = m.tender_id
          WHERE m.id IN ${newIds} AND EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = 'in_app')
          ON CONFLICT DO NOTHING`,
    ),
  ] as const;
}

/** A pending match and what an email about it needs. */
export interface PendingMatchRow {
  match_id: string;
  alert_id: string;
  alert_name: string;
  user_id: string;
  email: string;
  full_name: string;
  timezone: string | null;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  max_alerts_per_day: number | null;
  tender_id: string;
  title: string;
  department: string | null;
  value: number | null;
  currency: string;
  closing_date: number | null;
  url: string | null;
}

const pendingSelect = sql`SELECT m.id AS match_id, a.id AS alert_id, a.name AS alert_name, u.id AS user_id, u.email, u.full_name,
    pr.timezone, p.quiet_hours_start, p.quiet_hours_end, p.max_alerts_per_day,
    t.id AS tender_id, t.title, t.department, t.value, t.currency, t.closing_date, t.url
  FROM ${alertMatches} m
  JOIN ${alerts} a ON a.id = m.alert_id
  JOIN ${tenders} t ON t.id = m.tender_id
  JOIN ${users} u ON u.id = m.user_id AND u.status = 'active' AND u.deletion_requested_at IS NULL
  LEFT JOIN ${userPreferences} p ON p.user_id = m.user_id
  LEFT JOIN ${userProfiles} pr ON pr.user_id = m.user_id`;

/** For queries that alias users as `u`: no provider refused the user's current address for good. */
export const addressNotSuppressed = sql`NOT EXISTS (SELECT 1 FROM ${emailSuppressions} s WHERE s.user_id = u.id AND s.address = u.email)`;

/** A match no email carries yet: pending, and not in an outbox email being delivered. */
const unclaimed = sql`m.notification_status = 'pending' AND m.outbox_id IS NULL`;

/**
 * Pending matches of active, immediate, email alerts: of these tenders, or of one alert. A retry
 * after a crash between recording and emailing finds them again (they are still pending).
 */
export const pendingImmediateMatches = (db: Db, of: { tenderIds: readonly string[] } | { alertId: string }) =>
  db.all<PendingMatchRow>(sql`${pendingSelect}
    WHERE ${unclaimed} AND a.is_active = 1 AND a.notification_frequency = 'immediate' AND ${hasMethod("email")} AND ${addressNotSuppressed}
      AND ${"alertId" in of ? sql`m.alert_id = ${of.alertId}` : sql`m.tender_id IN ${idsIn(of.tenderIds)}`}
    ORDER BY m.id`);

/** Pending matches of the user's alerts that email (for the digest), oldest first. */
export const pendingDigestMatches = (db: Db, userId: string, limit: number) => pendingDigestMatchesOf(db, [userId], limit);

/** The same for a batch of users in one query: the oldest `limit` per user (window function). */
export const pendingDigestMatchesOf = (db: Db, userIds: readonly string[], limit: number) =>
  db.all<PendingMatchRow>(sql`SELECT * FROM (
      SELECT q.*, row_number() OVER (PARTITION BY q.user_id ORDER BY q.match_id) AS rn FROM (${pendingSelect}
        WHERE m.user_id IN ${idsIn(userIds)} AND ${unclaimed} AND ${hasMethod("email")} AND ${addressNotSuppressed}) q
    ) WHERE rn <= ${limit} ORDER BY user_id, match_id`);

/** Alert emails sent (written to the outbox) to these users since `since`, per user. */
export async function alertEmailsSince(db: Db, userIds: readonly string[], since: Date): Promise<{ user_id: string; created_at: number }[]> {
  if (userIds.length === 0) return [];
  return db.all(sql`SELECT user_id, created_at FROM ${emailOutbox}
    WHERE user_id IN ${idsIn(userIds)} AND template = 'alert_match' AND created_at >= ${since.getTime()}`);
}

/** Guard for an immediate email: the match is still pending and no other email carries it. */
export const matchStillPending = (matchId: string) =>
  sql`EXISTS (SELECT 1 FROM ${alertMatches} WHERE ${alertMatches.id} = ${matchId} AND ${alertMatches.notificationStatus} = 'pending' AND ${alertMatches.outboxId} IS NULL)`;

/**
 * Hands pending matches to the outbox email `outboxId`, right after its guarded insert in one batch:
 * only if that row was written. They stay `pending` until the email consumer delivered it
 * ({@link matchesDeliveredStatements}); a rerun finds them carried and writes no second email.
 */
export const claimMatchesForEmail = (db: Db, matchIds: readonly string[], outboxId: string) =>
  rawStatement(
    db,
    sql`UPDATE ${alertMatches} SET outbox_id = ${outboxId}
        WHERE id IN ${idsIn(matchIds)} AND notification_status = 'pending' AND outbox_id IS NULL
          AND EXISTS (SELECT 1 FROM ${emailOutbox} WHERE ${emailOutbox.id} = ${outboxId})`,
  );

/**
 * The provider took the email: its matches become `sent` (once: a redelivery finds none pending),
 * and an immediate alert email counts on its alert, as before.
 */
export function matchesDeliveredStatements(db: Db, outboxId: string, now: Date, countOnAlert: boolean) {
  const t = now.getTime();
  const carried = sql`SELECT alert_id FROM ${alertMatches} WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`;
  const sent = rawStatement(db, sql`UPDATE ${alertMatches} SET notification_status = 'sent', notified_at = ${t} WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`);
  if (!countOnAlert) return [sent];
  return [
    // Before the matches are marked: it counts only what is still pending (a redelivery counts nothing).
    rawStatement(db, sql`UPDATE ${alerts} SET total_notifications_sent = total_notifications_sent + 1, last_notified_at = ${t} WHERE ${alerts.id} IN (${carried})`),
    sent,
  ];
}

/**
 * The email failed for good. Rejected by the provider (a bad address): its matches are `failed`.
 * Otherwise (retries used up, or the address was suppressed before it went out): they go back to
 * pending without an email, so the next digest carries them.
 */
export const matchesUndeliveredStatement = (db: Db, outboxId: string, rejected: boolean) =>
  rawStatement(
    db,
    rejected
      ? sql`UPDATE ${alertMatches} SET notification_status = 'failed' WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`
      : sql`UPDATE ${alertMatches} SET outbox_id = NULL WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`,
  );
