import type { Owner } from "../../identity/owner";
import { and, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import { notes, tenderInteractions, tenderSearches, tenders, userPreferences, users } from "../../db/tables";
import { insertIf, rawStatement, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";
import { noteVisibleTo } from "../notes/notes.repo";
import type { SEARCH_SOURCES } from "../../db/tables";
import { normalizeText } from "./text";

/** The normalised copies of title and description, which only tenders_fts needs. */
const SEARCH_COPIES: readonly string[] = ["searchTitle", "searchDescription"] satisfies (keyof typeof tenders.$inferSelect)[];

/** A tender as the app reads it: every column but the search copies. */
export type TenderRow = Omit<typeof tenders.$inferSelect, "searchTitle" | "searchDescription">;

/** The column names of TenderRow, from the table itself. */
const READ_COLUMNS = Object.entries(getTableColumns(tenders))
  .filter(([key]) => !SEARCH_COPIES.includes(key))
  .map(([, column]) => column.name);
/** `alias.column, …` of the columns in TenderRow, for raw SELECTs (the search copies would double the text sent). */
export const tenderColumns = (alias: string) => sql.raw(READ_COLUMNS.map((c) => `${alias}.${c}`).join(", "));
/** {@link tenderColumns} less `omit` (e.g. the description, where it is read only when needed). */
export const tenderColumnsWithout = (alias: string, omit: readonly string[]) =>
  sql.raw(READ_COLUMNS.filter((c) => !omit.includes(c)).map((c) => `${alias}.${c}`).join(", "));

/** A tender as the upsert writes it: dates in ms, every field present (null when absent). */
export interface TenderWrite {
  id: string;
  external_id: string;
  title: string;
  description: string | null;
  department: string | null;
  state: string | null;
  portal: string | null;
  value: number | null;
  currency: string;
  published_at: number | null;
  closing_date: number | null;
  url: string | null;
}

/** Rows per upsert statement: each statement binds 2 parameters (JSON rows, time), far under 100. */
export const UPSERT_ROWS_PER_STATEMENT = 100;

const FIELDS = ["title", "description", "department", "state", "portal", "value", "currency", "published_at", "closing_date", "url"] as const;
/** Written with the fields, derived from them: what tenders_fts indexes (see tenders.tables.ts). */
const SEARCH_FIELDS = ["search_title", "search_description"] as const;

/** A row with the text tenders_fts indexes (the matcher's normalisation). */
const withSearchText = (row: TenderWrite) => ({
  ...row,
  search_title: normalizeText(row.title),
  search_description: normalizeText(row.description ?? ""),
});

/**
 * One upsert statement for up to UPSERT_ROWS_PER_STATEMENT tenders, passed as ONE JSON parameter
 * (`json_each`), so D1's 100-parameter limit never binds. A tender whose fields all equal the
 * stored ones is left alone (`DO UPDATE … WHERE` a field differs): it is not returned, its
 * updated_at does not move and the FTS triggers do not fire. RETURNING yields exactly the rows
 * inserted or changed (see ingest.ts `classifyUpsert`).
 *
 * The queue outbox rides in the same statement: every inserted or changed tender is marked
 * pending matching (`match_pending_since`), keeping the oldest mark of a tender still waiting so
 * that a stream of changes cannot postpone its resend. updated_at moves strictly forward
 * (`max(now, previous + 1)`), so two changes within one millisecond, or from isolates whose
 * clocks differ, still leave different versions for the consumer's guard
 * ({@link clearMatchPendingStatement}).
 */
export function upsertTendersStatement(db: Db, rows: readonly TenderWrite[], now: Date) {
  const at = now.getTime();
  const changed = sql.raw(FIELDS.map((f) => `tenders.${f} IS NOT excluded.${f}`).join(" OR "));
  const set = sql.raw(
    [
      ...[...FIELDS, ...SEARCH_FIELDS].map((f) => `${f} = excluded.${f}`),
      "updated_at = max(excluded.updated_at, tenders.updated_at + 1)",
      "match_pending_since = coalesce(tenders.match_pending_since, excluded.match_pending_since)",
      // A new version gets fresh matching attempts (a parked tender that changed is tried again).
      "match_attempts = 0",
      "match_parked_at = NULL",
    ].join(", "),
  );
  const pick = (f: string) => sql.raw(`json_extract(j.value, '$.${f}')`);
  return rawStatement(
    db,
    sql`INSERT INTO tenders (id, external_id, title, description, search_title, search_description, department, state, portal, value, currency, published_at, closing_date, url, created_at, updated_at, match_pending_since)
      SELECT ${pick("id")}, ${pick("external_id")}, ${pick("title")}, ${pick("description")}, ${pick("search_title")}, ${pick("search_description")}, ${pick("department")}, ${pick("state")},
        ${pick("portal")}, ${pick("value")}, ${pick("currency")}, ${pick("published_at")}, ${pick("closing_date")}, ${pick("url")}, ${at}, ${at}, ${at}
      FROM json_each(${JSON.stringify(rows.map(withSearchText))}) AS j WHERE true
      ON CONFLICT(external_id) DO UPDATE SET ${set} WHERE ${changed}
      RETURNING id, external_id`,
  );
}

/** The preferences that shape tender lists, with the column defaults for a user without a row. */
export interface ViewPreferences {
  tendersPerPage: number;
  defaultSort: "closing_date" | "value" | "published_at" | "relevance";
  showExpired: boolean;
  highlightUrgent: boolean;
  aiRecommendations: boolean;
}

export const DEFAULT_VIEW_PREFERENCES: ViewPreferences = {
  tendersPerPage: 25,
  defaultSort: "closing_date",
  showExpired: false,
  highlightUrgent: true,
  aiRecommendations: true,
};

/** The user's list preferences (one indexed read; usable in a batch). */
export const viewPreferencesQuery = (db: Db, userId: Owner) =>
  db
    .select({
      tendersPerPage: userPreferences.tendersPerPage,
      defaultSort: userPreferences.defaultSort,
      showExpired: userPreferences.showExpiredTenders,
      highlightUrgent: userPreferences.highlightUrgentTenders,
      aiRecommendations: userPreferences.enableAiRecommendations,
    })
    .from(userPreferences)
    .where(eq(userPreferences.userId, userId))
    .limit(1);

/** Raw row (snake_case columns, ms timestamps) → the drizzle row shape. */
type RawTender = Record<string, unknown>;
const dateOrNull = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)));
export function fromRawTender(r: RawTender): TenderRow {
  return {
    id: r.id as string,
    externalId: r.external_id as string,
    title: r.title as string,
    description: (r.description as string | null) ?? null,
    department: (r.department as string | null) ?? null,
    state: (r.state as string | null) ?? null,
    portal: (r.portal as string | null) ?? null,
    value: r.value === null || r.value === undefined ? null : Number(r.value),
    currency: r.currency as string,
    publishedAt: dateOrNull(r.published_at),
    closingDate: dateOrNull(r.closing_date),
    url: (r.url as string | null) ?? null,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
    matchPendingSince: dateOrNull(r.match_pending_since),
    matchAttempts: Number(r.match_attempts ?? 0),
    matchParkedAt: dateOrNull(r.match_parked_at),
  };
}

/** A tender version the alert-matching consumer has matched: the id and the updated_at it read. */
export interface MatchedVersion {
  id: string;
  updatedAt: Date;
}

/**
 * Clears the pending-matching mark of tenders the consumer has fully matched, each only if it is
 * still the version the consumer read: one guarded statement (`updated_at` moves forward at every
 * change), so a tender changed after the read stays pending, for its own message or the cron's
 * resend. A redelivered batch clears nothing more.
 */
export const clearMatchPendingStatement = (db: Db, matched: readonly MatchedVersion[]) =>
  rawStatement(
    db,
    sql`UPDATE tenders SET match_pending_since = NULL, match_attempts = 0
      FROM json_each(${JSON.stringify(matched.map((m) => [m.id, m.updatedAt.getTime()]))}) AS j
      WHERE tenders.id = j.value ->> 0 AND tenders.updated_at = j.value ->> 1 AND tenders.match_pending_since IS NOT NULL`,
  );

/**
 * Claims up to `limit` tenders pending matching since before `cutoff`, oldest first, and moves
 * their mark to `now`: the cron's resend. The claim is one statement (a rerun of the same tick
 * finds them claimed), and moving the mark sends each claimed tender to the back of the line, so
 * a tender that fails matching every time cannot hold up the others. Each claim counts an attempt
 * (`match_attempts`): the previous one did not finish. The consumer's clear is guarded by
 * updated_at, not by the mark, so this never undoes a match in flight.
 */
export const claimStalePendingMatchingQuery = (cutoff: Date, now: Date, limit: number) =>
  sql`UPDATE tenders SET match_pending_since = ${now.getTime()}, match_attempts = match_attempts + 1
    WHERE id IN (SELECT id FROM tenders WHERE match_pending_since <= ${cutoff.getTime()} ORDER BY match_pending_since LIMIT ${limit})
    RETURNING id`;

export const claimStalePendingMatching = (db: Db, cutoff: Date, now: Date, limit: number) =>
  db.all<{ id: string }>(claimStalePendingMatchingQuery(cutoff, now, limit));

/**
 * Parks the tenders still pending after their `maxAttempts`-th attempt (the first send plus
 * `maxAttempts - 1` resends): the mark is cleared, so the cron stops resending them, and
 * `match_parked_at` keeps them visible (GET /admin/stats, `parked_tenders`). Same index range as
 * the claim, run just before it.
 */
export const parkStalePendingMatching = (db: Db, cutoff: Date, now: Date, maxAttempts: number) =>
  db.all<{ id: string }>(sql`UPDATE tenders SET match_pending_since = NULL, match_parked_at = ${now.getTime()}
      WHERE match_pending_since <= ${cutoff.getTime()} AND match_attempts + 1 >= ${maxAttempts}
      RETURNING id`);

export type SortColumn = "closing_date" | "value" | "published_at" | "rank";

/** A SQL search over tenders: optional FTS5 MATCH, filters, keyset order. */
export interface TenderQuery {
  /** FTS5 MATCH expression (from the matcher's `toFtsQuery`), or null for no text condition. */
  fts: string | null;
  states: string[] | null;
  departments: string[] | null;
  minValue: number | null;
  maxValue: number | null;
  closingFrom: Date | null;
  closingTo: Date | null;
  /** Hide tenders whose closing date is before this instant (null: show every tender). */
  openAt: Date | null;
  order: { column: SortColumn; dir: "asc" | "desc" };
  /** Keyset: continue after this row's sort key and id. */
  after: { key: number | null; id: string } | null;
  /** Tender ids to leave out (e.g. already favorited). */
  excludeIds?: string[];
  limit: number;
}

/** bm25 weights: a word in the title counts five times a word in the description. */
const BM25 = sql.raw("bm25(tenders_fts, 5.0, 1.0)");

/**
 * Tenders matching the SQL part of a search, ordered by `order` with NULLs last, then id.
 * The caller applies the matcher to each row (see tenders.service.ts): SQL narrows, the matcher
 * decides. Labels compare by `lower(trim())` here, which agrees with the matcher's
 * normalizeLabel for ASCII names without doubled spaces (every Indian state and department name).
 */
export async function searchTenders(db: Db, q: TenderQuery): Promise<(TenderRow & { rank: number | null })[]> {
  const where: SQL[] = [];
  if (q.states) where.push(sql`lower(trim(t.state)) IN (SELECT lower(trim(value)) FROM json_each(${JSON.stringify(q.states)}))`);
  if (q.departments) where.push(sql`lower(trim(t.department)) IN (SELECT lower(trim(value)) FROM json_each(${JSON.stringify(q.departments)}))`);
  if (q.minValue !== null) where.push(sql`t.value >= ${q.minValue}`);
  if (q.maxValue !== null) where.push(sql`t.value <= ${q.maxValue}`);
  if (q.closingFrom) where.push(sql`t.closing_date >= ${q.closingFrom.getTime()}`);
  if (q.closingTo) where.push(sql`t.closing_date <= ${q.closingTo.getTime()}`);
  if (q.openAt) where.push(sql`(t.closing_date IS NULL OR t.closing_date >= ${q.openAt.getTime()})`);
  if (q.excludeIds?.length) where.push(sql`t.id NOT IN (SELECT value FROM json_each(${JSON.stringify(q.excludeIds)}))`);
  const col = q.order.column === "rank" ? sql.raw("f.rank") : sql.raw(`t.${q.order.column}`);
  const dir = sql.raw(q.order.dir === "asc" ? "ASC" : "DESC");
  const cmp = sql.raw(q.order.dir === "asc" ? ">" : "<");
  if (q.after) {
    const { key, id } = q.after;
    where.push(
      key === null
        ? sql`(${col} IS NULL AND t.id ${cmp} ${id})`
        : sql`(${col} ${cmp} ${key} OR (${col} = ${key} AND t.id ${cmp} ${id}) OR ${col} IS NULL)`,
    );
  }
  const fts = q.fts
    ? sql`JOIN (SELECT rowid AS rid, ${BM25} AS rank FROM tenders_fts WHERE tenders_fts MATCH ${q.fts}) AS f ON f.rid = t.rowid`
    : sql`JOIN (SELECT NULL AS rank) AS f`;
  const rows = await db.all<RawTender>(sql`SELECT ${tenderColumns("t")}, f.rank AS rank FROM tenders AS t ${fts}
    ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
    ORDER BY ${col} ${dir} NULLS LAST, t.id ${dir}
    LIMIT ${q.limit}`);
  return rows.map((r) => ({ ...fromRawTender(r), rank: r.rank === null || r.rank === undefined ? null : Number(r.rank) }));
}

/** One tender by id (tenders are platform-wide: every signed-in caller may read them). */
export const tenderByIdQuery = (db: Db, id: string) => db.select().from(tenders).where(eq(tenders.id, id)).limit(1);

export const tenderExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${tenders} WHERE ${tenders.id} = ${id})`;

/** Notes embedded in a tender page: the newest this many (`notes_total` counts them all). */
export const TENDER_PAGE_NOTES = 50;

/**
 * The notes on a tender that `userId` may read: their own, and the notes shared with an
 * organization the caller belongs to (any role: a viewer reads shared data) whose author still
 * belongs to it (`noteVisibleTo`). The newest TENDER_PAGE_NOTES; one query.
 */
export const visibleNotesQuery = (db: Db, userId: Owner, tenderId: string) =>
  db
    .select({
      id: notes.id,
      userId: notes.userId,
      authorName: users.fullName,
      noteText: notes.noteText,
      noteType: notes.noteType,
      organizationId: notes.organizationId,
      createdAt: notes.createdAt,
      updatedAt: notes.updatedAt,
    })
    .from(notes)
    .innerJoin(users, eq(users.id, notes.userId))
    .where(and(eq(notes.tenderId, tenderId), noteVisibleTo(userId)))
    .orderBy(sql`${notes.createdAt} DESC, ${notes.id} DESC`)
    .limit(TENDER_PAGE_NOTES);

/** How many notes on the tender `userId` may read (the same rule as `visibleNotesQuery`). */
export const visibleNotesCountQuery = (db: Db, userId: Owner, tenderId: string) =>
  db.select({ n: sql<number>`count(*)` }).from(notes).where(and(eq(notes.tenderId, tenderId), noteVisibleTo(userId)));

/** Records that a user opened a tender. */
export const insertView = (db: Db, v: { userId: Owner; tenderId: string; source: string; now: Date; deviceType: string | null }) =>
  db.insert(tenderInteractions).values({
    id: newId("tiv", v.now.getTime()),
    userId: v.userId,
    tenderId: v.tenderId,
    interactionType: "view",
    source: v.source,
    deviceType: v.deviceType,
    createdAt: v.now,
  });

export interface SearchRecord {
  userId: string;
  source: (typeof SEARCH_SOURCES)[number];
  deviceType: string | null;
  now: Date;
}

const searchRow = (v: SearchRecord) => ({ id: newId("tsr", v.now.getTime()), userId: v.userId, source: v.source, deviceType: v.deviceType, createdAt: v.now });

/** Records that a user ran a search (for the engagement roll-up). */
export const insertSearch = (db: Db, v: SearchRecord) => db.insert(tenderSearches).values(searchRow(v));

/** The same, for a batch: written only when `condition` holds at that point (e.g. the saved search exists). */
export const insertSearchIf = (db: Db, v: SearchRecord, condition: SQL) => insertIf(db, tenderSearches, searchRow(v), condition);

/** A tender's own page at its portal (null: none, or no such tender), for email links. */
export const tenderPortalUrl = async (db: Db, tenderId: string): Promise<string | null> =>
  (await db.select({ url: tenders.url }).from(tenders).where(eq(tenders.id, tenderId)).get())?.url ?? null;
