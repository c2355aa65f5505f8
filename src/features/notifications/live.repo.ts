import { and, count, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import { notifications } from "../../db/tables";
import type { Db } from "../../platform/db";

const visible = (now: Date) => or(isNull(notifications.expiresAt), gt(notifications.expiresAt, now));
const inJson = (ids: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/** Reads for the live push (notifications/live.ts): no writes here. */
export const liveRepo = (db: Db, now: Date) => ({
  /** The visible notifications among `ids` (ids that were not inserted are simply absent). */
  byIds: (ids: readonly string[]) =>
    db
      .select()
      .from(notifications)
      .where(and(sql`${notifications.id} IN ${inJson(ids)}`, visible(now)))
      .orderBy(notifications.id),
  /** The unread count of each user who owns one of `ids` and has unread ones (a missing user: 0). */
  unreadCountsOfOwners: (ids: readonly string[]) =>
    db
      .select({ userId: notifications.userId, n: count() })
      .from(notifications)
      .where(
        and(
          sql`${notifications.userId} IN (SELECT n.user_id FROM ${notifications} n WHERE n.id IN ${inJson(ids)})`,
          eq(notifications.isRead, false),
          visible(now),
        ),
      )
      .groupBy(notifications.userId),
  unreadCount: (userId: string) =>
    db
      .select({ n: count() })
      .from(notifications)
      .where(and(inArray(notifications.userId, [userId]), eq(notifications.isRead, false), visible(now))),
});
