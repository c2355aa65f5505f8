import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt, bool } from "../columns";
import { organizations } from "./orgs";
import { tenders } from "./tenders";
import { users } from "./users";

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
    /**
     * Legacy: written as `organization_id IS NOT NULL` but never read (an organization's deletion
     * nulls `organization_id` and leaves this stale). The sharing itself is `organization_id`.
     */
    isShared: bool("is_shared").notNull().default(false),
    /**
     * The one organization the note is shared with (null: private). Its members see it while the
     * author is still a member; deleting the organization makes the note private.
     */
    organizationId: text("organization_id").references(() => organizations.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("notes_user_idx").on(t.userId, t.createdAt), index("notes_tender_idx").on(t.tenderId), index("notes_org_tender_idx").on(t.organizationId, t.tenderId)],
);
