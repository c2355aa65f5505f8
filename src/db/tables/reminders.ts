import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sql } from "drizzle-orm";
import { ts, createdAt, json } from "../columns";
import { tenders } from "./tenders";
import { users } from "./users";

/**
 * The reminder marks already sent (issue 19, point 4): one row per (user, tender, mark in days).
 * The unique key is the guarantee "each mark at most once per favorite, whatever the cron does":
 * the reminder job inserts the mark and, guarded by that insert in the same batch, the
 * notification and the email. Kept after the favorite is removed, so re-adding it does not
 * repeat a reminder already sent.
 */
export const reminderMarks = sqliteTable(
  "reminder_marks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    markDays: integer("mark_days").notNull(),
    sentAt: ts("sent_at").notNull(),
  },
  (t) => [uniqueIndex("reminder_marks_unique").on(t.userId, t.tenderId, t.markDays), index("reminder_marks_tender_idx").on(t.tenderId), index("reminder_marks_sent_idx").on(t.sentAt)],
);

/** What an ingest changed in a tracked field: [old, new] (dates in ms). */
export type TenderChangeSet = Partial<Record<"closing_date" | "value", [number | null, number | null]>>;

/**
 * The change outbox (issue 19, point 4): written by the ingest batch for every existing tender
 * whose closing date or value changed, fanned out to its followers by the cron
 * (`fanned_out_at` set once its notifications are written). Pending rows only are indexed.
 */
export const tenderChanges = sqliteTable(
  "tender_changes",
  {
    id: text("id").primaryKey(),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    changes: json<TenderChangeSet>("changes").notNull(),
    createdAt: createdAt(),
    fannedOutAt: ts("fanned_out_at"),
    /** The tick that fanned it out: the notices of that batch are written only under its claim. */
    claimId: text("claim_id"),
    /** Followers are notified in pages by user id: the last user id notified (null: none yet). */
    followersAfter: text("followers_after"),
  },
  (t) => [index("tender_changes_pending_idx").on(t.createdAt).where(sql`fanned_out_at IS NULL`), index("tender_changes_tender_idx").on(t.tenderId)],
);
