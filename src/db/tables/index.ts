/**
 * Every drizzle table of keel, one file per owning area. Repositories import tables from here;
 * which repos may write which table is the TABLE_OWNERS rule in test/node/architecture.test.ts.
 *
 * Conventions: ids are prefixed sortable strings (`usr_…`, see platform/ids.ts); timestamps are
 * integer milliseconds since the epoch (drizzle maps them to Date; the API prints ISO 8601);
 * arrays and objects are JSON text; booleans are 0/1 integers (db/columns.ts). Foreign keys follow
 * the seeds' ON DELETE rules (D1 always enforces them). Only `*.repo.ts` files import tables.
 */
export * from "./users";
export * from "./access";
export * from "./orgs";
export * from "./sessions";
export * from "./auth";
export * from "./api-keys";
export * from "./org-api-keys";
export * from "./audit";
export * from "./tenders";
export * from "./favorites";
export * from "./alerts";
export * from "./saved-searches";
export * from "./notes";
export * from "./notifications";
export * from "./analytics";
export * from "./outbox";
export * from "./consents";
export * from "./sso";
export * from "./passkeys";
export * from "./federation";
export * from "./webhooks";
export * from "./idempotency";
export * from "./reminders";
