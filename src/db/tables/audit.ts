import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, json } from "../columns";
import { users } from "./users";

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    /** Who did it, when not the user themselves (an administrator, a job). */
    actorId: text("actor_id"),
    action: text("action").notNull(),
    details: json<Record<string, unknown>>("details").notNull().default({}),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_log_user_idx").on(t.userId, t.createdAt),
    index("audit_log_action_idx").on(t.action, t.createdAt),
    index("audit_log_created_idx").on(t.createdAt),
    // Rows by an actor (an administrator, or the user): the GDPR purge anonymises them.
    index("audit_log_actor_idx").on(t.actorId, t.createdAt),
  ],
);
