import { sql, type SQL } from "drizzle-orm";
import { alertMatches, favorites, tenderChanges, tenders, userProfiles, users } from "../../db/tables";
import { rawSelect, rawStatement, type Db } from "../../platform/db";
import { DAY } from "../../platform/time";

export interface PendingChangeRow {
  id: string;
  tender_id: string;
  changes: string;
  title: string;
  currency: string;
}

/** The oldest changes not fanned out yet (partial index tender_changes_pending_idx). */
export const pendingChangesQuery = (db: Db, limit: number) =>
  rawSelect<PendingChangeRow>(
    db,
    sql`SELECT c.id, c.tender_id, c.changes, t.title, t.currency FROM ${tenderChanges} c JOIN ${tenders} t ON t.id = c.tender_id
      WHERE c.fanned_out_at IS NULL ORDER BY c.created_at LIMIT ${limit}`,
  );

export interface FollowerRow {
  user_id: string;
  email: string;
  full_name: string;
  timezone: string;
  language_preference: string;
  notification_preferences: string;
}

/** Each follower of a tender once: a favorite, or an alert match since `since`; active accounts only. */
export const followersQuery = (db: Db, tenderId: string, since: Date, limit: number) =>
  rawSelect<FollowerRow>(
    db,
    sql`SELECT u.id AS user_id, u.email, u.full_name, pr.timezone, pr.language_preference, pr.notification_preferences
      FROM (SELECT user_id FROM ${favorites} WHERE tender_id = ${tenderId}
            UNION SELECT user_id FROM ${alertMatches} WHERE tender_id = ${tenderId} AND matched_at >= ${since.getTime()}) AS f
      JOIN ${users} u ON u.id = f.user_id AND u.status = 'active' AND u.deletion_requested_at IS NULL
      JOIN ${userProfiles} pr ON pr.user_id = u.id
      LIMIT ${limit}`,
  );

/** Claims a change for this tick: only the first claim of a row takes effect. */
export const claimChangeStatement = (db: Db, changeId: string, claimId: string, now: Date) =>
  rawStatement(db, sql`UPDATE ${tenderChanges} SET fanned_out_at = ${now.getTime()}, claim_id = ${claimId} WHERE id = ${changeId} AND fanned_out_at IS NULL`);

/** The condition for the notices of a change: this batch's claim took effect. */
export const changeClaimed = (changeId: string, claimId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM ${tenderChanges} WHERE ${tenderChanges.id} = ${changeId} AND ${tenderChanges.claimId} = ${claimId})`;

export const FOLLOW_WINDOW_MS = 30 * DAY;
