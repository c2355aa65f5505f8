import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { AppError } from "./errors";
import { decodeCursor, encodeCursor } from "./pagination";
import { SECOND } from "./time";

/**
 * Change feeds (issue 18, point 5): rows in (version, id) order, where the version is a
 * millisecond timestamp (`updated_at`, `matched_at`). The cursor holds both, so rows written at
 * the same millisecond are neither skipped nor repeated, and a row written again later (its
 * version moves forward) comes back after the cursor.
 *
 * Only rows older than FEED_SETTLE_MS are served: a write stamps its rows with its start time
 * and may commit a moment after a later one, and a cursor that had passed its stamp would skip
 * them. Keep `sync_cursor` and call again later with it: nothing is missed and nothing repeats.
 */
export const FEED_SETTLE_MS = 5 * SECOND;

export interface FeedPosition {
  at: number;
  id: string;
}

export function encodeFeedCursor(p: FeedPosition): string {
  return encodeCursor(JSON.stringify(["feed", p.at, p.id]));
}

/** The position of a feed cursor; a cursor that is not one → 422. */
export function decodeFeedCursor(cursor: string): FeedPosition {
  try {
    const v: unknown = JSON.parse(decodeCursor(cursor) ?? "");
    if (Array.isArray(v) && v.length === 3 && v[0] === "feed" && Number.isSafeInteger(v[1]) && typeof v[2] === "string") return { at: v[1] as number, id: v[2] };
  } catch {
    // falls through
  }
  throw new AppError("validation_failed", "cursor is not a cursor of this feed", { errors: [{ path: "cursor", message: "Not a cursor of this feed" }] });
}

/** Where a feed read starts: after the cursor, else at `since` (inclusive). */
export const feedStart = (cursor: string | undefined, since: Date | undefined): FeedPosition =>
  cursor ? decodeFeedCursor(cursor) : { at: since?.getTime() ?? 0, id: "" };

/** `(version, id) > start AND version <= now - FEED_SETTLE_MS`: the WHERE of a feed read (ORDER BY version, id). */
export const afterPosition = (version: unknown, id: unknown, start: FeedPosition, now: Date): SQL =>
  sql`(${version}, ${id}) > (${start.at}, ${start.id}) AND ${version} <= ${now.getTime() - FEED_SETTLE_MS}`;

/**
 * A feed page from `limit + 1` rows: `next_cursor` when more rows wait now (null when caught up),
 * `sync_cursor` always (the position after this page: call again later with it).
 */
export function feedPage<R, O>(rows: R[], limit: number, start: FeedPosition, position: (row: R) => FeedPosition, map: (row: R) => O) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.length ? position(page[page.length - 1]!) : start;
  const cursor = encodeFeedCursor(last);
  return { items: page.map(map), next_cursor: more ? cursor : null, sync_cursor: cursor };
}

export const SYNC_CURSOR = z.string().openapi({
  description: "A change feed's position after this page, also when caught up: call again later with `cursor=` this value to get what changed since, without gaps or repeats",
});
