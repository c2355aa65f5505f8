import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ts } from "../columns";
import { users } from "./users";

export const CONSENT_KINDS = ["terms", "privacy"] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

/**
 * Every acceptance of the terms of service or the privacy policy (seed 001, legal compliance):
 * append-only, the latest row of a kind is the version the user accepted.
 */
export const userConsents = sqliteTable(
  "user_consents",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: CONSENT_KINDS }).notNull(),
    version: text("version").notNull(),
    acceptedAt: ts("accepted_at").notNull(),
    ip: text("ip"),
  },
  (t) => [index("user_consents_user_kind_idx").on(t.userId, t.kind, t.acceptedAt)],
);
