import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, json } from "../columns";
import { organizations } from "./orgs";
import { users } from "./users";

/**
 * Organization API keys (issue 18.6): the key belongs to the organization, not to the admin who
 * made it. It goes with the organization (cascade) and outlives its creator (`created_by` is set
 * null when the account row goes, and nothing else refers to the person).
 */
export const orgApiKeys = sqliteTable(
  "org_api_keys",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    /** The visible start of the key, shown in lists so admins can tell keys apart. */
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
  (t) => [uniqueIndex("org_api_keys_key_hash_unique").on(t.keyHash), index("org_api_keys_org_idx").on(t.organizationId)],
);
