import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ts, createdAt, bool } from "../columns";
import { alerts } from "./alerts";
import { tenders } from "./tenders";
import { users } from "./users";

export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    title: text("title").notNull(),
    message: text("message").notNull(),
    actionUrl: text("action_url"),
    relatedTenderId: text("related_tender_id").references(() => tenders.id, { onDelete: "set null" }),
    relatedAlertId: text("related_alert_id").references(() => alerts.id, { onDelete: "set null" }),
    isRead: bool("is_read").notNull().default(false),
    readAt: ts("read_at"),
    deliveryMethod: text("delivery_method"),
    createdAt: createdAt(),
    expiresAt: ts("expires_at"),
  },
  (t) => [
    index("notifications_user_idx").on(t.userId, t.createdAt),
    index("notifications_unread_idx").on(t.userId, t.isRead),
    // Retention (NOTIFICATION_RETENTION_DAYS) deletes the oldest first, across users.
    index("notifications_created_idx").on(t.createdAt),
    // GET /admin/delivery counts the tender_changed notices of the last 7 days.
    index("notifications_type_created_idx").on(t.type, t.createdAt),
  ],
);
