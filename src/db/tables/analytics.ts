import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./users";

export const engagementDaily = sqliteTable(
  "engagement_daily",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** UTC calendar day, "YYYY-MM-DD". */
    date: text("date").notNull(),
    loginCount: integer("login_count").notNull().default(0),
    searchCount: integer("search_count").notNull().default(0),
    tenderViews: integer("tender_views").notNull().default(0),
    favoritesAdded: integer("favorites_added").notNull().default(0),
    alertsTriggered: integer("alerts_triggered").notNull().default(0),
    totalSessionDurationMinutes: integer("total_session_duration_minutes").notNull().default(0),
    engagementScore: real("engagement_score"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.date] }), index("engagement_daily_date_idx").on(t.date)],
);
