import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { bool, createdAt, json, ts } from "../columns";
import { users } from "./users";
import { organizations } from "./orgs";

/** Whose events an endpoint receives (docs/api.md, Integrators): a user's, an organization's, the platform's. */
export const WEBHOOK_SCOPES = ["user", "org", "platform"] as const;
export type WebhookScope = (typeof WEBHOOK_SCOPES)[number];

/**
 * Webhook endpoints. Exactly one owner column is set for `user` and `org` scopes, none for
 * `platform`; the owner's deletion deletes its endpoints (and their deliveries).
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    scope: text("scope", { enum: WEBHOOK_SCOPES }).notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    orgId: text("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    events: json<string[]>("events").notNull(),
    description: text("description"),
    enabled: bool("enabled").notNull().default(true),
    /** The signing secret (`whsec_…`), sealed (AES-GCM under DATA_ENCRYPTION_KEY, bound to the endpoint id): it must be recoverable to sign. */
    secretSealed: text("secret_sealed").notNull(),
    /** After a rotation, the previous secret keeps signing beside the new one until `previous_secret_expires_at`. */
    previousSecretSealed: text("previous_secret_sealed"),
    previousSecretExpiresAt: ts("previous_secret_expires_at"),
    /** The first failed attempt of an unbroken run of failures (cleared by a success). */
    failingSince: ts("failing_since"),
    /** Why keel disabled it (`failing`), or null. */
    disabledReason: text("disabled_reason"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [index("webhook_endpoints_user_idx").on(t.userId), index("webhook_endpoints_org_idx").on(t.orgId), index("webhook_endpoints_scope_idx").on(t.scope)],
);

/** The outbox of webhook events: written in the same batch as the change that causes them. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    scope: text("scope", { enum: WEBHOOK_SCOPES }).notNull(),
    userId: text("user_id"),
    orgId: text("org_id"),
    /** The event body's `data` (never a secret, hash or token). */
    data: json<Record<string, unknown>>("data").notNull(),
    createdAt: ts("created_at").notNull(),
  },
  // By user: erasure deletes a user's own events (GDPR; deliveries go with them by cascade).
  (t) => [index("webhook_events_created_idx").on(t.createdAt), index("webhook_events_user_idx").on(t.userId)],
);

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "sending", "delivered", "failed"] as const;

/** One event to one endpoint: attempts are counted on the row (the log shows the latest outcome). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull().default(0),
    /** `sending` is a claimed attempt in flight (shown as pending); its claim ends at `claimed_until`. */
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    responseStatus: integer("response_status"),
    durationMs: integer("duration_ms"),
    /** At most 1 KiB of the last response body, or the network error. */
    responseBody: text("response_body"),
    nextAttemptAt: ts("next_attempt_at"),
    claimedUntil: ts("claimed_until"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.id),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_event_idx").on(t.eventId),
  ],
);
