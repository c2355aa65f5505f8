import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt, bool, json } from "../columns";
import { tenders } from "./tenders";
import { users } from "./users";

/** Alert criteria and saved-search queries share this shape (docs/api.md). */
export interface TenderCriteria {
  keywords?: string[];
  exclude_keywords?: string[];
  states?: string[];
  departments?: string[];
  min_value?: number;
  max_value?: number;
  closing_date_range?: "next_7_days" | "next_30_days" | "next_90_days" | "any";
}

export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    isActive: bool("is_active").notNull().default(true),
    criteria: json<TenderCriteria>("criteria").notNull(),
    notificationMethods: json<("email" | "in_app")[]>("notification_methods").notNull().default(["email"]),
    notificationFrequency: text("notification_frequency", {
      enum: ["immediate", "daily_digest", "weekly_digest"],
    })
      .notNull()
      .default("immediate"),
    notificationTime: text("notification_time"),
    lastMatchedAt: ts("last_matched_at"),
    lastNotifiedAt: ts("last_notified_at"),
    totalMatches: integer("total_matches").notNull().default(0),
    totalNotificationsSent: integer("total_notifications_sent").notNull().default(0),
    /**
     * When the alert's email last went from off to on (email added back to the methods, or the
     * alert reactivated); null if never. An unsubscribe token issued before it is refused.
     */
    emailResumedAt: ts("email_resumed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("alerts_user_idx").on(t.userId), index("alerts_active_idx").on(t.isActive)],
);

export const MATCH_STATUSES = ["pending", "sent", "failed", "dismissed"] as const;

export const alertMatches = sqliteTable(
  "alert_matches",
  {
    id: text("id").primaryKey(),
    alertId: text("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    /** Denormalised owner, so digests and scoping need no join through alerts. */
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    matchedAt: ts("matched_at").notNull().default(sql`(unixepoch() * 1000)`),
    notifiedAt: ts("notified_at"),
    notificationStatus: text("notification_status", { enum: MATCH_STATUSES }).notNull().default("pending"),
    /**
     * The outbox email that carries this match while it is being delivered: set when the email is
     * written (the match stays `pending`), `sent` only once the provider took it, released (NULL)
     * when the email failed for good without a permanent rejection, so the next digest carries it.
     */
    outboxId: text("outbox_id"),
    viewedAt: ts("viewed_at"),
    clickedAt: ts("clicked_at"),
  },
  (t) => [
    uniqueIndex("alert_matches_alert_tender_unique").on(t.alertId, t.tenderId),
    index("alert_matches_alert_idx").on(t.alertId, t.matchedAt),
    // The change feed of every alert of a user (GET /me/alerts/matches?since=), in (matched_at, id) order.
    index("alert_matches_user_feed_idx").on(t.userId, t.matchedAt, t.id),
    // Followers of a changed tender: its matches of the last 30 days (tender_changed notices).
    index("alert_matches_tender_idx").on(t.tenderId, t.matchedAt),
    index("alert_matches_pending_idx").on(t.userId, t.notificationStatus, t.matchedAt),
    // GET /admin/delivery counts the matches of the last 7 days.
    index("alert_matches_matched_idx").on(t.matchedAt),
    index("alert_matches_outbox_idx").on(t.outboxId).where(sql`outbox_id IS NOT NULL`),
  ],
);

/**
 * One row (id = 1): a counter bumped in the same batch as every change to alerts, so the
 * alert-matching consumer rebuilds its per-isolate compiled index only when alerts changed.
 * D1 is exact, so a consumer that reads version N after a commit sees that commit's alerts.
 */
export const alertsVersion = sqliteTable("alerts_version", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull().default(0),
});
