import type { Owner } from "../../identity/owner";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { savedSearches } from "../../db/tables";
import { insertIf, type Db } from "../../platform/db";
import type { TenderCriteria } from "../tenders/criteria.schema";

export type SavedSearchRow = typeof savedSearches.$inferSelect;

/** The most generous alert and saved-search limits across the organizations the user belongs to (null: in none). */
/** Saved searches of one user. Every query carries the owner. */
export function savedSearchesRepo(db: Db, userId: Owner) {
  const mine = eq(savedSearches.userId, userId);
  return {
    /**
     * Inserts only while the user has fewer than `limit` saved searches, in one statement: two
     * concurrent creates at limit − 1 cannot both pass (SQLite runs one write at a time, and the
     * count is read inside the insert). `meta.changes` = 0 means the limit was reached.
     */
    insertWithinLimit: (row: { id: string; name: string; query: TenderCriteria; now: Date }, limit: number) =>
      insertIf(
        db,
        savedSearches,
        { id: row.id, userId, name: row.name, query: row.query, useCount: 0, createdAt: row.now, updatedAt: row.now },
        sql`(SELECT count(*) FROM ${savedSearches} WHERE ${savedSearches.userId} = ${userId}) < ${limit}`,
      ),
    byId: (id: string) => db.select().from(savedSearches).where(and(mine, eq(savedSearches.id, id))),
    list: (opts: { before?: string; limit: number }) =>
      db
        .select()
        .from(savedSearches)
        .where(and(mine, opts.before ? lt(savedSearches.id, opts.before) : undefined))
        .orderBy(desc(savedSearches.id))
        .limit(opts.limit + 1),
    /** Counts a run: one guarded UPDATE, returns the search (none when not this user's). */
    recordRun: (id: string, now: Date) =>
      db
        .update(savedSearches)
        .set({ useCount: sql`${savedSearches.useCount} + 1`, lastUsedAt: now })
        .where(and(mine, eq(savedSearches.id, id)))
        .returning(),
    exists: (id: string) => sql`EXISTS (SELECT 1 FROM ${savedSearches} WHERE ${savedSearches.id} = ${id} AND ${savedSearches.userId} = ${userId})`,
    remove: (id: string) => db.delete(savedSearches).where(and(mine, eq(savedSearches.id, id))).returning({ id: savedSearches.id }),
  };
}
