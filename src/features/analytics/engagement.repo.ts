import { sql } from "drizzle-orm";
import { alertMatches, auditLog, engagementDaily, favorites, tenderInteractions, tenderSearches } from "../../db/tables";
import type { Db } from "../../platform/db";
import { DAY } from "../../platform/time";

/** Weights of the engagement score: a favorite says more than a view, a view more than a login. */
export const ENGAGEMENT_WEIGHTS = { login: 1, search: 0.5, view: 1, favorite: 3, alert: 0.25 } as const;

/**
 * Rolls one UTC day ("YYYY-MM-DD") up into engagement_daily, for every user with activity that
 * day, in ONE statement: the counts are recomputed from their sources and UPSERTed, so running it
 * again (every tick, or a rerun) only refreshes the same row per (user, day).
 * Sources: logins (audit `auth.login_succeeded`), searches (tender_searches), tender views
 * (tender_interactions of type `view`), favorites added, alert matches; every source is read
 * through an index (test/digests.test.ts checks the plan for the two event tables).
 */
export const rollUpEngagementDay = (db: Db, day: string) => db.run(rollUpEngagementDaySql(day));

/** The roll-up statement of one day (exported for its query-plan test). */
export function rollUpEngagementDaySql(day: string) {
  const from = Date.parse(`${day}T00:00:00Z`);
  const to = from + DAY;
  const w = ENGAGEMENT_WEIGHTS;
  return sql`
    INSERT INTO ${engagementDaily} (user_id, date, login_count, search_count, tender_views, favorites_added, alerts_triggered, engagement_score)
    SELECT user_id, ${day}, sum(l), sum(s), sum(v), sum(f), sum(a),
           round(sum(l) * ${w.login} + sum(s) * ${w.search} + sum(v) * ${w.view} + sum(f) * ${w.favorite} + sum(a) * ${w.alert}, 2)
    FROM (
      SELECT user_id, 1 AS l, 0 AS s, 0 AS v, 0 AS f, 0 AS a FROM ${auditLog}
        WHERE action = 'auth.login_succeeded' AND user_id IS NOT NULL AND created_at >= ${from} AND created_at < ${to}
      UNION ALL
      SELECT user_id, 0, 1, 0, 0, 0 FROM ${tenderSearches}
        WHERE user_id IS NOT NULL AND created_at >= ${from} AND created_at < ${to}
      UNION ALL
      SELECT user_id, 0, 0, 1, 0, 0 FROM ${tenderInteractions}
        WHERE interaction_type = 'view' AND user_id IS NOT NULL AND created_at >= ${from} AND created_at < ${to}
      UNION ALL
      SELECT user_id, 0, 0, 0, 1, 0 FROM ${favorites} WHERE created_at >= ${from} AND created_at < ${to}
      UNION ALL
      SELECT user_id, 0, 0, 0, 0, 1 FROM ${alertMatches} WHERE matched_at >= ${from} AND matched_at < ${to}
    )
    WHERE user_id IN (SELECT id FROM users)
    GROUP BY user_id
    ON CONFLICT (user_id, date) DO UPDATE SET
      login_count = excluded.login_count, search_count = excluded.search_count, tender_views = excluded.tender_views,
      favorites_added = excluded.favorites_added, alerts_triggered = excluded.alerts_triggered, engagement_score = excluded.engagement_score`;
}
