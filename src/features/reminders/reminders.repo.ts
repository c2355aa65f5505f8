import { sql, type SQL } from "drizzle-orm";
import { favorites, notifications, reminderMarks, tenders, userPreferences, userProfiles, users } from "../../db/tables";
import { insertIf, rawSelect, rawStatement, type Db } from "../../platform/db";
import { DAY } from "../../platform/time";

/** A reminder that is due and not sent yet: the favorite's user and tender, the nearest mark reached. */
export interface DueReminderRow {
  user_id: string;
  tender_id: string;
  title: string;
  closing_date: number;
  mark: number;
  email: string;
  full_name: string;
  timezone: string;
  language_preference: string;
  notification_preferences: string;
}

/**
 * Up to `limit` reminders due at `now` and not yet sent. For each tender still open and closing
 * within `horizonDays` (closing-date index range), each favorite of a bid in progress on it
 * (planning/preparing, partial index favorites_reminder_idx); the join order is forced (CROSS
 * JOIN, INDEXED BY) because without statistics SQLite would start from every active user. Then
 * the nearest mark of the user's reminder_days already reached (closing − N days ≤ now); a mark already in reminder_marks is left out, so a page
 * never repeats what the previous one sent. Only the nearest mark counts: the farther marks
 * reached at the same time are never sent. `held` ("<user id> <tender id>"): left out (held by
 * quiet hours earlier in this tick).
 */
export const dueRemindersQuery = (db: Db, now: Date, horizonDays: number, limit: number, held: readonly string[] = []) =>
  rawSelect<DueReminderRow>(
    db,
    sql`SELECT * FROM (
        SELECT f.user_id, f.tender_id, t.title, t.closing_date, u.email, u.full_name, pr.timezone, pr.language_preference, pr.notification_preferences,
          (SELECT min(j.value) FROM json_each(p.reminder_days) j WHERE t.closing_date - j.value * ${DAY} <= ${now.getTime()}) AS mark
        FROM ${tenders} t INDEXED BY tenders_closing_date_idx
        CROSS JOIN ${favorites} f INDEXED BY favorites_reminder_idx
        JOIN ${users} u ON u.id = f.user_id AND u.status = 'active' AND u.deletion_requested_at IS NULL
        JOIN ${userPreferences} p ON p.user_id = f.user_id
        JOIN ${userProfiles} pr ON pr.user_id = f.user_id
        WHERE f.tender_id = t.id AND f.bid_status IN ('planning', 'preparing') AND t.closing_date > ${now.getTime()} AND t.closing_date <= ${now.getTime() + horizonDays * DAY}
      ) AS due
      WHERE due.mark IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${reminderMarks} r WHERE r.user_id = due.user_id AND r.tender_id = due.tender_id AND r.mark_days = due.mark)
        AND due.user_id || ' ' || due.tender_id NOT IN (SELECT value FROM json_each(${JSON.stringify(held)}))
      LIMIT ${limit}`,
  );

/** Records a mark as sent; a mark already recorded (another tick, a rerun) inserts nothing. */
export const recordMarkStatement = (db: Db, row: { id: string; userId: string; tenderId: string; markDays: number; sentAt: Date }) =>
  rawStatement(
    db,
    sql`INSERT INTO ${reminderMarks} (id, user_id, tender_id, mark_days, sent_at) VALUES (${row.id}, ${row.userId}, ${row.tenderId}, ${row.markDays}, ${row.sentAt.getTime()})
      ON CONFLICT (user_id, tender_id, mark_days) DO NOTHING`,
  );

/** The condition for writes that belong to a mark: this batch's insert of it took effect. */
export const markWritten = (markId: string): SQL => sql`EXISTS (SELECT 1 FROM ${reminderMarks} WHERE ${reminderMarks.id} = ${markId})`;

/** An in-app notification, written only when `condition` holds at that point of the batch. */
export const notificationIf = (
  db: Db,
  row: { id: string; userId: string; type: string; title: string; message: string; actionUrl: string; tenderId: string; createdAt: Date; expiresAt: Date },
  condition: SQL,
) =>
  insertIf(
    db,
    notifications,
    {
      id: row.id,
      userId: row.userId,
      type: row.type,
      title: row.title,
      message: row.message,
      actionUrl: row.actionUrl,
      relatedTenderId: row.tenderId,
      isRead: false,
      deliveryMethod: "in_app",
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    },
    condition,
  );
