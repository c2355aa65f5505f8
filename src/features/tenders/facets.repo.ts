import { isNotNull, sql } from "drizzle-orm";
import { tenders } from "../../db/tables";
import type { Db } from "../../platform/db";

/**
 * Each distinct stored spelling of states and departments with its count: one GROUP BY over each
 * covering index (tenders_state_idx, tenders_department_idx), O(tenders). Only the facets
 * service calls it, behind its cache.
 */
export const facetCountsQuery = (db: Db) =>
  Promise.all([
    db.select({ value: tenders.state, count: sql<number>`count(*)` }).from(tenders).where(isNotNull(tenders.state)).groupBy(tenders.state),
    db.select({ value: tenders.department, count: sql<number>`count(*)` }).from(tenders).where(isNotNull(tenders.department)).groupBy(tenders.department),
  ]);

/** Whether a tender has this exact state or department (index lookups): for values newer than the cached facets. */
export const labelExists = async (db: Db, field: "state" | "department", value: string) =>
  (await db.select({ one: sql<number>`1` }).from(tenders).where(sql`${field === "state" ? tenders.state : tenders.department} = ${value}`).limit(1)).length > 0;
