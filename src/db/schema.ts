/**
 * The whole keel data model, for drizzle-kit only (drizzle.config.ts): the application imports
 * tables from db/tables and builds its drizzle client without a schema (platform/db.ts).
 */
export * from "./tables";
