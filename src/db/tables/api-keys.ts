import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, json } from "../columns";
import { users } from "./users";

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The visible start of the key, shown in lists so users can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key. */
    keyHash: text("key_hash").notNull(),
    scopes: json<string[]>("scopes").notNull(),
    allowedIps: json<string[]>("allowed_ips"),
    rateLimitPerHour: integer("rate_limit_per_hour").notNull().default(1000),
    expiresAt: ts("expires_at"),
    revokedAt: ts("revoked_at"),
    lastUsedAt: ts("last_used_at"),
    useCount: integer("use_count").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_key_hash_unique").on(t.keyHash), index("api_keys_user_idx").on(t.userId)],
);
