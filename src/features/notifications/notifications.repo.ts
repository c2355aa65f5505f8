import type { Owner } from "../../identity/owner";
import { and, count, desc, eq, gt, isNull, lt, lte, or, sql } from "drizzle-orm";
import { alertMatches, alerts, notifications, tenders, userProfiles } from "../../db/tables";
import { insertIf, rawStatement, type Db } from "../../platform/db";
import type { SQL } from "drizzle-orm";

/** SQL: the user's notification_preferences do not turn in-app notifications off (a missing key counts as on). */
export const inAppOn = (userId: SQL) =>
  sql`COALESCE((SELECT json_extract(${userProfiles.notificationPreferences}, '$.in_app') FROM ${userProfiles} WHERE ${userProfiles.userId} = ${userId}), 1) IS NOT 0`;

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

/** The id of the in-app notification of alert match `matchId` (`amt_…` → `ntf_…`), as derived below. */
export const notificationIdOfMatch = (matchId: string) => `ntf_${matchId.slice(4)}`;

/**
 * The in-app notifications of new alert matches (`matchIds`: rows just inserted by the matching
 * batch this statement joins), for the alerts that notify in the app. The id is derived from the
 * match id, so a rerun cannot double them.
 */
export function notifyAlertMatchesStatement(db: Db, matchIds: readonly string[], now: Date, expiresAt: Date) {
  return rawStatement(
    db,
    sql`INSERT INTO ${notifications} (id, user_id, type, title, message, action_url, related_tender_id, related_alert_id, is_read, delivery_method, created_at, expires_at)
        SELECT 'ntf_' || substr(m.id, 5), m.user_id, 'alert_match', 'New match: ' || a.name, t.title, '/tenders/' || t.id, t.id, a.id, 0, 'in_app', ${now.getTime()}, ${expiresAt.getTime()}
        FROM ${alertMatches} m JOIN ${alerts} a ON a.id = m.alert_id JOIN ${tenders} t ON t.id = m.tender_id
        WHERE m.id IN (SELECT value FROM json_each(${JSON.stringify(matchIds)})) AND EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = 'in_app')
          AND ${inAppOn(sql`m.user_id`)}
        ON CONFLICT DO NOTHING`,
  );
}

/** A notification of any type, written only while `guard` holds (the in-app delivery channel's write). */
export const insertNotificationIf = (db: Db, row: typeof notifications.$inferInsert, guard: SQL) => insertIf(db, notifications, row, guard);
