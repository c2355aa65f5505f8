import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "../db/schema";

export type Db = ReturnType<typeof createDb>;

const clients = new WeakMap<D1Database, ReturnType<typeof build>>();
const build = (d1: D1Database) => drizzle(d1, { schema });

/**
 * The only place a drizzle client is built: once per binding object (per isolate), since
 * building one walks the whole schema.
 */
export function createDb(d1: D1Database) {
  let db = clients.get(d1);
  if (!db) {
    db = build(d1);
    clients.set(d1, db);
  }
  return db;
}

/**
 * D1 binds at most 100 parameters per statement: split work into chunks that fit.
 * @example for (const ids of chunk(allIds, 90)) await db.delete(t).where(inArray(t.id, ids));
 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Whether `err` (or its cause: drizzle wraps D1 errors) is a UNIQUE violation on `column`. */
export function isUniqueViolation(err: unknown, column: string): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (String((e as { message?: string }).message ?? e).includes(`UNIQUE constraint failed: ${column}`)) return true;
  }
  return false;
}

/**
 * Raw SQL usable inside `db.batch()`. drizzle's D1 batch binds parameters on a prepared
 * statement that its raw-query object never creates (its `_prepare()` returns itself without
 * `stmt`), so a parameterised `db.run(sql)` breaks a batch: attach the statement here.
 */
export function rawStatement(db: Db, query: SQL) {
  return withStatement(db, db.run(query));
}

/** Like `rawStatement`, for a raw SELECT whose rows the batch returns (`db.all` in a batch). */
export function rawSelect<T>(db: Db, query: SQL) {
  return withStatement(db, db.all<T>(query));
}

function withStatement<R>(db: Db, raw: R): R {
  const built = (raw as unknown as { getQuery(): { sql: string } }).getQuery();
  (raw as unknown as { stmt: D1PreparedStatement }).stmt = db.$client.prepare(built.sql);
  return raw;
}

/**
 * `INSERT INTO table (…) SELECT … WHERE condition`, for `db.batch()`: the row is written only
 * when `condition` holds at that point of the batch (a guarded change's audit row, an email that
 * depends on state). `values` are the same drizzle values an ordinary insert takes (mapped to
 * driver values by each column), so the conditional and the plain insert cannot drift apart.
 */
export function insertIf<T extends SQLiteTable>(db: Db, table: T, values: T["$inferInsert"], condition: SQL) {
  const columns = getTableColumns(table) as Record<string, { name: string; mapToDriverValue(v: unknown): unknown }>;
  const entries = Object.entries(values as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const names = sql.join(entries.map(([key]) => sql.identifier(columns[key]!.name)), sql`, `);
  const params = sql.join(entries.map(([key, v]) => sql`${v === null ? null : columns[key]!.mapToDriverValue(v)}`), sql`, `);
  return rawStatement(db, sql`INSERT INTO ${table} (${names}) SELECT ${params} WHERE ${condition}`);
}
