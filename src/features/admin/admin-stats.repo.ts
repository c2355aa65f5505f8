import { sql } from "drizzle-orm";
import { rawSelect, type Db } from "../../platform/db";
import { DAY } from "../../platform/time";

/** Score buckets of the engagement distribution (a user's average daily score over the window). */
export const SCORE_BUCKETS = [
  { bucket: "0-10", below: 10 },
  { bucket: "10-25", below: 25 },
  { bucket: "25-50", below: 50 },
  { bucket: "50-100", below: 100 },
  { bucket: "100+", below: Number.POSITIVE_INFINITY },
] as const;

const bucketCase = sql.raw(
  `CASE ${SCORE_BUCKETS.filter((b) => Number.isFinite(b.below))
    .map((b) => `WHEN s < ${b.below} THEN '${b.bucket}'`)
    .join(" ")} ELSE '${SCORE_BUCKETS[SCORE_BUCKETS.length - 1]!.bucket}' END`,
);

/**
 * Every figure of GET /admin/stats in one round trip (one batch, six aggregate queries):
 * user totals (one pass over users), logins per UTC day from the audit log (index on
 * action, created_at), new users per UTC day (index on users.created_at), and the engagement
 * roll-ups of `engagement_daily` (index on date), and the parked tenders.
 */
export async function loadStats(db: Db, now: Date, days: number) {
  const since = now.getTime() - days * DAY;
  const firstDay = new Date(now.getTime() - (days - 1) * DAY).toISOString().slice(0, 10);
  const firstDayStart = Date.parse(`${firstDay}T00:00:00Z`);
  const [totals, logins, engagement, distribution, signups, parked] = await db.batch([
    rawSelect<{ total: number; active: number; verified: number; recent: number }>(db, sql`
      SELECT count(*) AS total, coalesce(sum(status = 'active'), 0) AS active,
        coalesce(sum(email_verified = 1), 0) AS verified, coalesce(sum(created_at >= ${since}), 0) AS recent
      FROM users`),
    rawSelect<{ day: string; logins: number }>(db, sql`
      SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, count(*) AS logins
      FROM audit_log WHERE action = 'auth.login_succeeded' AND created_at >= ${Date.parse(`${firstDay}T00:00:00Z`)}
      GROUP BY day`),
    rawSelect<{ users: number; average: number | null; days: number }>(db, sql`
      SELECT count(DISTINCT user_id) AS users, avg(engagement_score) AS average, count(*) AS days
      FROM engagement_daily WHERE date >= ${firstDay}`),
    rawSelect<{ bucket: string; users: number }>(db, sql`
      SELECT ${bucketCase} AS bucket, count(*) AS users FROM (
        SELECT user_id, avg(coalesce(engagement_score, 0)) AS s FROM engagement_daily WHERE date >= ${firstDay} GROUP BY user_id
      ) GROUP BY bucket`),
    rawSelect<{ day: string; users: number }>(db, sql`
      SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, count(*) AS users
      FROM users WHERE created_at >= ${firstDayStart}
      GROUP BY day`),
    // Tenders whose alert matching failed MATCH_MAX_ATTEMPTS times (partial index on match_parked_at).
    rawSelect<{ parked: number }>(db, sql`SELECT count(*) AS parked FROM tenders WHERE match_parked_at IS NOT NULL`),
  ]);
  return { totals: totals[0]!, logins, engagement: engagement[0]!, distribution, signups, parkedTenders: Number(parked[0]?.parked ?? 0), firstDay };
}
