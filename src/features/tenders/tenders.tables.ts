import { index, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt } from "../../db/columns";
import { users } from "../users/users.tables";

export const tenders = sqliteTable(
  "tenders",
  {
    id: text("id").primaryKey(),
    externalId: text("external_id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    department: text("department"),
    state: text("state"),
    portal: text("portal"),
    value: real("value"),
    currency: text("currency").notNull().default("INR"),
    publishedAt: ts("published_at"),
    closingDate: ts("closing_date"),
    url: text("url"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("tenders_external_id_unique").on(t.externalId),
    index("tenders_closing_date_idx").on(t.closingDate),
    index("tenders_published_at_idx").on(t.publishedAt),
    index("tenders_state_idx").on(t.state),
    index("tenders_department_idx").on(t.department),
    index("tenders_value_idx").on(t.value),
  ],
);

export const tenderInteractions = sqliteTable(
  "tender_interactions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    interactionType: text("interaction_type").notNull(),
    source: text("source"),
    deviceType: text("device_type"),
    createdAt: createdAt(),
  },
  (t) => [
    index("tender_interactions_user_idx").on(t.userId, t.createdAt),
    index("tender_interactions_tender_idx").on(t.tenderId),
    index("tender_interactions_type_idx").on(t.interactionType, t.createdAt),
  ],
);
