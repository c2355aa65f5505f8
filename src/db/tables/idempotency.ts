import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ts, json } from "../columns";
import { users } from "./users";

/**
 * Idempotency-Key claims (IETF httpapi draft), per caller, kept IDEMPOTENCY_TTL_HOURS: the first
 * POST under a key claims the row (`running`), its final response is kept (`done`) for replays.
 * `body` NULL on a `done` row: the response was not kept (it carried a secret or was too large),
 * so a repeat answers 409 instead of running again.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    /** `user:<id>` or `key:<api key id>`: a key never crosses callers. */
    caller: text("caller").notNull(),
    key: text("key").notNull(),
    /** The account behind the caller: erasure takes the kept responses with it. */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** sha256 of method, path with query, and body. */
    fingerprint: text("fingerprint").notNull(),
    state: text("state", { enum: ["running", "done"] }).notNull(),
    /** Random per claim: only the request that claimed the row finishes or releases it. */
    claim: text("claim").notNull(),
    /** A `running` claim older than this is taken over by a retry with the same fingerprint (the first request died). */
    leaseUntil: ts("lease_until").notNull(),
    status: integer("status"),
    headers: json<Record<string, string>>("headers"),
    body: text("body"),
    createdAt: ts("created_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.caller, t.key] }), index("idempotency_keys_expires_idx").on(t.expiresAt), index("idempotency_keys_user_idx").on(t.userId)],
);
