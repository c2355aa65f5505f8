import { asc, sql } from "drizzle-orm";
import { tenders } from "../../db/tables";
import type { Db } from "../../platform/db";
import { afterPosition, type FeedPosition } from "../../platform/feed";

/** The tenders changed after `start`, oldest change first (index tenders_updated_id_idx). */
export const changedTenders = (db: Db, start: FeedPosition, now: Date, limit: number) =>
  db
    .select()
    .from(tenders)
    .where(afterPosition(sql`${tenders.updatedAt}`, sql`${tenders.id}`, start, now))
    .orderBy(asc(tenders.updatedAt), asc(tenders.id))
    .limit(limit + 1);
