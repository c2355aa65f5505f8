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
  followers_after: string | null;
}

/** The oldest changes not fanned out yet (partial index tender_changes_pending_idx). */
export const pendingChangesQuery = (db: Db, limit: number) =>
  rawSelect<PendingChangeRow>(
    db,
    sql`SELECT c.id, c.tender_id, c.changes, c.followers_after, t.title, t.currency FROM ${tenderChanges} c JOIN ${tenders} t ON t.id = c.tender_id
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

/** Each follower of a tender once (a favorite, or an alert match since `since`; active accounts only), by user id after `after`. */
export const followersQuery = (db: Db, tenderId: string, since: Date, after: string | null, limit: number) =>
  rawSelect<FollowerRow>(
    db,
    sql`SELECT u.id AS user_id, u.email, u.full_name, pr.timezone, pr.language_preference, pr.notification_preferences
      FROM (SELECT user_id FROM ${favorites} WHERE tender_id = ${tenderId}
            UNION SELECT user_id FROM ${alertMatches} WHERE tender_id = ${tenderId} AND matched_at >= ${since.getTime()}) AS f
      JOIN ${users} u ON u.id = f.user_id AND u.status = 'active' AND u.deletion_requested_at IS NULL
      JOIN ${userProfiles} pr ON pr.user_id = u.id
      WHERE u.id > ${after ?? ""}
      ORDER BY u.id
      LIMIT ${limit}`,
  );

/**
 * Claims one page of a change's followers: moves the cursor from `after` (what this tick read) to
 * `next`, and marks the change done on its last page. Only the first claim of a page takes effect
 * (a rerun or a concurrent tick finds the cursor moved).
 */
export const claimChangeStatement = (db: Db, c: { changeId: string; claimId: string; after: string | null; next: string | null; last: boolean; now: Date }) =>
  rawStatement(
    db,
    sql`UPDATE ${tenderChanges} SET claim_id = ${c.claimId}, followers_after = ${c.next}, fanned_out_at = ${c.last ? c.now.getTime() : null}
      WHERE id = ${c.changeId} AND fanned_out_at IS NULL AND followers_after IS ${c.after}`,
  );

/** The condition for the notices of a change: this batch's claim took effect. */
export const changeClaimed = (changeId: string, claimId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM ${tenderChanges} WHERE ${tenderChanges.id} = ${changeId} AND ${tenderChanges.claimId} = ${claimId})`;

export const FOLLOW_WINDOW_MS = 30 * DAY;
