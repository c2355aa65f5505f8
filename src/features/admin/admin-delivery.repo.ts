import { sql } from "drizzle-orm";
import { rawSelect, type Db } from "../../platform/db";

/** The alert frequencies whose matches GET /admin/delivery counts. */
export const FREQUENCIES = ["immediate", "daily_digest", "weekly_digest"] as const;

/**
 * Every figure of GET /admin/delivery in one round trip (one batch, read only). Each windowed query
 * is a range scan over the last 7 days of one index, the 24-hour figure a conditional sum over the
 * same rows: email_outbox (created_at, template, status) covers the email and digest counts;
 * email_suppressions (created_at); alert_matches (matched_at) joined to alerts by primary key;
 * reminder_marks (sent_at); notifications (type, created_at). The current figures read the partial
 * indexes: user_preferences next_digest_at, tenders match_pending_since and match_parked_at.
 */
export async function loadDelivery(db: Db, now: number, day: number, week: number) {
  const [emails, suppressed, matches, reminders, notices, due, oldest, pending, parked] = await db.batch([
    rawSelect<{ template: string; status: string; day: number; week: number }>(db, sql`
      SELECT template, status, coalesce(sum(created_at >= ${day}), 0) AS day, count(*) AS week
      FROM email_outbox WHERE created_at >= ${week} AND created_at <= ${now}
      GROUP BY template, status`),
    rawSelect<{ day: number; week: number }>(db, sql`
      SELECT coalesce(sum(created_at >= ${day}), 0) AS day, count(*) AS week
      FROM email_suppressions WHERE created_at >= ${week} AND created_at <= ${now}`),
    rawSelect<{ frequency: string; day: number; week: number }>(db, sql`
      SELECT a.notification_frequency AS frequency, coalesce(sum(m.matched_at >= ${day}), 0) AS day, count(*) AS week
      FROM alert_matches m CROSS JOIN alerts a ON a.id = m.alert_id
      WHERE m.matched_at >= ${week} AND m.matched_at <= ${now}
      GROUP BY a.notification_frequency`),
    rawSelect<{ day: number; week: number }>(db, sql`
      SELECT coalesce(sum(sent_at >= ${day}), 0) AS day, count(*) AS week
      FROM reminder_marks WHERE sent_at >= ${week} AND sent_at <= ${now}`),
    rawSelect<{ day: number; week: number }>(db, sql`
      SELECT coalesce(sum(created_at >= ${day}), 0) AS day, count(*) AS week
      FROM notifications WHERE type = 'tender_changed' AND created_at >= ${week} AND created_at <= ${now}`),
    rawSelect<{ due: number }>(db, sql`
      SELECT count(*) AS due FROM user_preferences WHERE next_digest_at IS NOT NULL AND next_digest_at <= ${now}`),
    rawSelect<{ id: string; title: string; pending_since: number; attempts: number }>(db, sql`
      SELECT id, title, match_pending_since AS pending_since, match_attempts AS attempts
      FROM tenders WHERE match_pending_since IS NOT NULL ORDER BY match_pending_since LIMIT 1`),
    rawSelect<{ pending: number }>(db, sql`SELECT count(*) AS pending FROM tenders WHERE match_pending_since IS NOT NULL`),
    rawSelect<{ parked: number }>(db, sql`SELECT count(*) AS parked FROM tenders WHERE match_parked_at IS NOT NULL`),
  ]);
  return {
    emails,
    suppressed: suppressed[0]!,
    matches,
    reminders: reminders[0]!,
    notices: notices[0]!,
    digestsDue: Number(due[0]?.due ?? 0),
    oldestPending: oldest[0] ?? null,
    pendingTenders: Number(pending[0]?.pending ?? 0),
    parkedTenders: Number(parked[0]?.parked ?? 0),
  };
}
