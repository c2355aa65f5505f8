import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt, bool } from "../../db/columns";
import { tenders } from "../tenders/tenders.tables";
import { users } from "../users/users.tables";

export const notes = sqliteTable(
  "notes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    noteText: text("note_text").notNull(),
    noteType: text("note_type", { enum: ["general", "technical", "financial", "risk"] })
      .notNull()
      .default("general"),
    /** Visible to the members of the author's organizations. */
    isShared: bool("is_shared").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("notes_user_idx").on(t.userId, t.createdAt), index("notes_tender_idx").on(t.tenderId)],
);
