import type { Owner } from "../../identity/owner";
import { and, count, desc, eq, gt, isNull, lt, lte, or } from "drizzle-orm";
import { notifications } from "../../db/tables";
import type { Db } from "../../platform/db";

export type NotificationRow = typeof notifications.$inferSelect;

/** Notifications of one user; expired ones (expires_at passed) are hidden everywhere. */
export function notificationsRepo(db: Db, userId: Owner, now: Date) {
  const visible = and(eq(notifications.userId, userId), or(isNull(notifications.expiresAt), gt(notifications.expiresAt, now)));
  return {
    list: (opts: { before?: string; limit: number; unreadOnly: boolean }) =>
      db
        .select()
        .from(notifications)
        .where(and(visible, opts.unreadOnly ? eq(notifications.isRead, false) : undefined, opts.before ? lt(notifications.id, opts.before) : undefined))
        .orderBy(desc(notifications.id))
        .limit(opts.limit + 1),
    unreadCount: () => db.select({ n: count() }).from(notifications).where(and(visible, eq(notifications.isRead, false))),
    /** Idempotent: an already-read notification keeps its first read_at. Returns the row (none: not this user's). */
    markRead: (id: string) =>
      db
        .update(notifications)
        .set({ isRead: true, readAt: now })
        .where(and(visible, eq(notifications.id, id), eq(notifications.isRead, false)))
        .returning({ id: notifications.id }),
    exists: (id: string) => db.select({ id: notifications.id }).from(notifications).where(and(visible, eq(notifications.id, id))),
    markAllRead: () => db.update(notifications).set({ isRead: true, readAt: now }).where(and(visible, eq(notifications.isRead, false))),
  };
}

/** Cron: deletes notifications whose expires_at has passed. */
export const purgeExpiredNotifications = (db: Db, now: Date) => db.delete(notifications).where(lte(notifications.expiresAt, now));
