import { and, asc, eq, sql } from "drizzle-orm";
import { alertMatches, tenders } from "../../db/tables";
import type { Owner } from "../../identity/owner";
import type { Db } from "../../platform/db";
import { afterPosition, type FeedPosition } from "../../platform/feed";

/** The user's matches (every alert) after `start`, oldest first, with the tender (index alert_matches_user_feed_idx). */
export const matchesAfter = (db: Db, userId: Owner, start: FeedPosition, now: Date, limit: number) =>
  db
    .select({ match: alertMatches, tender: tenders })
    .from(alertMatches)
    .innerJoin(tenders, eq(tenders.id, alertMatches.tenderId))
    .where(and(eq(alertMatches.userId, userId), afterPosition(sql`${alertMatches.matchedAt}`, sql`${alertMatches.id}`, start, now)))
    .orderBy(asc(alertMatches.matchedAt), asc(alertMatches.id))
    .limit(limit + 1);
