import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ts, createdAt, json } from "../columns";
import { users } from "./users";

export const OUTBOX_STATUSES = ["pending", "sent", "failed"] as const;

/**
 * Transactional outbox: an email row is written in the same batch as the change that causes
 * it, then delivered by the `email` queue consumer. Locally it is also the mailbox.
 */
export const emailOutbox = sqliteTable(
  "email_outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    htmlBody: text("html_body").notNull(),
    template: text("template").notNull(),
    /** Extra headers of the message (List-Unsubscribe of alert and digest emails), or null. */
    headers: json<Record<string, string>>("headers"),
    status: text("status", { enum: OUTBOX_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    providerMessageId: text("provider_message_id"),
    createdAt: createdAt(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    index("email_outbox_status_idx").on(t.status, t.createdAt),
    index("email_outbox_created_idx").on(t.createdAt),
    // The GDPR purge finds a user's mail by owner and by address.
    index("email_outbox_user_idx").on(t.userId),
    index("email_outbox_to_idx").on(t.toAddress),
    // GET /admin/delivery counts the last 7 days by template and status from the index alone.
    index("email_outbox_delivery_idx").on(t.createdAt, t.template, t.status),
  ],
);

export const SUPPRESSION_REASONS = ["rejected", "bounced"] as const;

/**
 * Alert and digest mail is not sent to a suppressed address: a provider refused it for good
 * (permanent rejection). One row per user; it applies while `address` is still the user's email,
 * so changing the address lifts it, and verifying the address again deletes it.
 */
export const emailSuppressions = sqliteTable(
  "email_suppressions",
  {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  address: text("address").notNull(),
  /** `rejected`: the provider refused the address for good at sending; `bounced`: reserved for bounce reports. */
  reason: text("reason", { enum: SUPPRESSION_REASONS }).notNull(),
  createdAt: createdAt(),
  },
  // GET /admin/delivery counts the suppressions of the last 7 days.
  (t) => [index("email_suppressions_created_idx").on(t.createdAt)],
);
