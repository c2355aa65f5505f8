import type { Owner } from "../../identity/owner";
import { desc, eq, sql, type SQL } from "drizzle-orm";
import { tenderInteractions, tenders, userProfiles } from "../../db/tables";
import type { Db } from "../../platform/db";
import { fromRawTender, tenderColumns, type TenderRow } from "../tenders/tenders.repo";

/** The profile fields that recommendations read. */
export const profileSignalsQuery = (db: Db, userId: Owner) =>
  db
    .select({
      industrySector: userProfiles.industrySector,
      specializations: userProfiles.specializations,
      preferredTenderTypes: userProfiles.preferredTenderTypes,
      operatingStates: userProfiles.operatingStates,
      minTenderValue: userProfiles.minTenderValue,
      maxTenderValue: userProfiles.maxTenderValue,
    })
    .from(userProfiles)
    .where(eq(userProfiles.userId, userId))
    .limit(1);

/** Departments and states of the tenders the user viewed most recently. */
export const viewSignalsQuery = (db: Db, userId: Owner) =>
  db
    .select({ tenderId: tenderInteractions.tenderId, department: tenders.department, state: tenders.state })
    .from(tenderInteractions)
    .innerJoin(tenders, eq(tenders.id, tenderInteractions.tenderId))
    .where(sql`${tenderInteractions.userId} = ${userId} AND ${tenderInteractions.interactionType} IN ('view', 'email_click')`)
    .orderBy(desc(tenderInteractions.createdAt))
    .limit(200);

/**
 * Open tenders that could fit: those the FTS query finds (with their bm25 rank), or in one of
 * `states`, or of one of `departments`; never one in `excludeIds` (already favorited). One query,
 * best text matches first, then soonest closing.
 */
export async function recommendationCandidates(
  db: Db,
  q: { fts: string | null; states: string[]; departments: string[]; excludeIds: string[]; now: Date; limit: number },
): Promise<(TenderRow & { rank: number | null })[]> {
  const anyOf: SQL[] = [];
  if (q.fts) anyOf.push(sql`f.rank IS NOT NULL`);
  if (q.states.length) anyOf.push(sql`lower(trim(t.state)) IN (SELECT lower(trim(value)) FROM json_each(${JSON.stringify(q.states)}))`);
  if (q.departments.length) anyOf.push(sql`lower(trim(t.department)) IN (SELECT lower(trim(value)) FROM json_each(${JSON.stringify(q.departments)}))`);
  if (anyOf.length === 0) return [];
  const fts = q.fts
    ? sql`LEFT JOIN (SELECT rowid AS rid, bm25(tenders_fts, 5.0, 1.0) AS rank FROM tenders_fts WHERE tenders_fts MATCH ${q.fts}) AS f ON f.rid = t.rowid`
    : sql`LEFT JOIN (SELECT NULL AS rid, NULL AS rank) AS f ON 0`;
  const rows = await db.all<Record<string, unknown>>(sql`SELECT ${tenderColumns("t")}, f.rank AS rank FROM tenders AS t ${fts}
    WHERE (t.closing_date IS NULL OR t.closing_date >= ${q.now.getTime()})
      AND t.id NOT IN (SELECT value FROM json_each(${JSON.stringify(q.excludeIds)}))
      AND (${sql.join(anyOf, sql` OR `)})
    ORDER BY f.rank ASC NULLS LAST, t.closing_date ASC NULLS LAST, t.id
    LIMIT ${q.limit}`);
  return rows.map((r) => ({ ...fromRawTender(r), rank: r.rank === null || r.rank === undefined ? null : Number(r.rank) }));
}
