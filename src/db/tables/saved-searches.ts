import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt, json } from "../columns";
import type { TenderCriteria } from "./alerts";
import { users } from "./users";

export const savedSearches = sqliteTable(
  "saved_searches",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    query: json<TenderCriteria>("query").notNull(),
    lastUsedAt: ts("last_used_at"),
    useCount: integer("use_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("saved_searches_user_idx").on(t.userId, t.lastUsedAt)],
);
