/**
 * The whole keel data model, for D1 (SQLite) through drizzle: a barrel over each feature's
 * `*.tables.ts`, which is what drizzle-kit reads (drizzle.config.ts) and what the drizzle client
 * is built with (platform/db.ts).
 *
 * Conventions: ids are prefixed sortable strings (`usr_…`, see platform/ids.ts); timestamps are
 * integer milliseconds since the epoch (drizzle maps them to Date; the API prints ISO 8601);
 * arrays and objects are JSON text; booleans are 0/1 integers (db/columns.ts). Foreign keys follow
 * the seeds' ON DELETE rules (D1 always enforces them). Only `*.repo.ts` files import tables.
 */
export * from "../features/users/users.tables";
export * from "../features/access/access.tables";
export * from "../features/orgs/orgs.tables";
export * from "../features/sessions/sessions.tables";
export * from "../features/auth/auth.tables";
export * from "../features/api-keys/api-keys.tables";
export * from "../features/audit/audit.tables";
export * from "../features/tenders/tenders.tables";
export * from "../features/favorites/favorites.tables";
export * from "../features/alerts/alerts.tables";
export * from "../features/saved-searches/saved-searches.tables";
export * from "../features/notes/notes.tables";
export * from "../features/notifications/notifications.tables";
export * from "../features/analytics/analytics.tables";
export * from "../email/outbox.tables";
export * from "../features/consents/consents.tables";
