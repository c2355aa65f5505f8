import { drizzle } from "drizzle-orm/d1";
import * as schema from "../db/schema";

export type Db = ReturnType<typeof createDb>;

/** The only place a drizzle client is built. Cheap: it wraps the binding, no connection. */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
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
