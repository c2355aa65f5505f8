import { sql } from "drizzle-orm";
import { index, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt, json } from "../columns";
import { organizations } from "./orgs";
import { tenders } from "./tenders";
import { users } from "./users";

export const FAVORITE_PRIORITIES = ["high", "medium", "low"] as const;

export const BID_STATUSES = ["planning", "preparing", "submitted", "won", "lost", "withdrawn"] as const;

export const favorites = sqliteTable(
  "favorites",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    folder: text("folder"),
    tags: json<string[]>("tags").notNull().default([]),
    notes: text("notes"),
    priority: text("priority", { enum: FAVORITE_PRIORITIES }),
    bidStatus: text("bid_status", { enum: BID_STATUSES }),
    bidAmount: real("bid_amount"),
    bidSubmittedAt: ts("bid_submitted_at"),
    /**
     * The one organization the favorite is shared with (null: private). Its members see it on
     * /orgs/{id}/favorites while the owner is still a member; deleting the organization unshares it.
     */
    organizationId: text("organization_id").references(() => organizations.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("favorites_user_tender_unique").on(t.userId, t.tenderId),
    index("favorites_user_created_idx").on(t.userId, t.createdAt),
    index("favorites_tender_idx").on(t.tenderId),
    index("favorites_user_folder_idx").on(t.userId, t.folder),
    index("favorites_user_bid_status_idx").on(t.userId, t.bidStatus),
    index("favorites_org_idx").on(t.organizationId, t.id),
    // The reminder job reads only the favorites of bids in progress, by tender.
    index("favorites_reminder_idx").on(t.tenderId).where(sql`bid_status IN ('planning', 'preparing')`),
  ],
);
