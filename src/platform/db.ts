import type { SQL } from "drizzle-orm";
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
  const raw = db.run(query);
  const built = (raw as unknown as { getQuery(): { sql: string } }).getQuery();
  (raw as unknown as { stmt: D1PreparedStatement }).stmt = db.$client.prepare(built.sql);
  return raw;
}
