import { recordTenderChangesStatement } from "./tender-changes.repo";
import { forgetFacets } from "./facets.service";
import { ownerOf, type Owner } from "../../identity/owner";
import { webhookEvent } from "../webhooks/emit";
import type { Env } from "../../env";
import type { Actor } from "../../identity/actor";
import type { RequestContext, ServiceContext } from "../../platform/context";
import { primaryDb, type Db } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, encodeCursor } from "../../platform/pagination";
import type { TenderCriteria } from "./criteria.schema";
import { CLOSING_RANGE_MS, compileCriteria, matchesTender, prepareTender, toFtsQuery } from "./match";
import { auditInsert } from "../../audit/audit.repo";
import { classifyUpsert, isUrgent, MATCH_RESEND_GRACE_MS, MATCH_RESEND_PER_TICK, matchingSends } from "./ingest";
import {
  claimStalePendingMatching,
  parkStalePendingMatching,
  clearMatchPendingStatement,
  DEFAULT_VIEW_PREFERENCES,
  insertSearch,
  insertView,
  searchTenders,
  tenderByIdQuery,
  upsertTendersStatement,
  UPSERT_ROWS_PER_STATEMENT,
  viewPreferencesQuery,
  visibleNotesCountQuery,
  visibleNotesQuery,
  type SortColumn,
  type TenderRow,
  type TenderWrite,
  type ViewPreferences,
} from "./tenders.repo";
import { toTenderOut, type ListTendersQuery, type TenderInput, type TenderOut, type TenderSort } from "./tenders.schemas";
import { log } from "../../platform/log";

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/**
 * Bulk upsert by external_id (POST /tenders): every chunk's statement and the audit row run in ONE
 * D1 batch (one transaction), then the ids of the new and changed tenders are sent to the
 * `alert-matching` queue.
 *
 * A transactional outbox: the upsert marks each new or changed tender pending matching in the
 * same statement, and the consumer clears the mark once it has matched that version. The send
 * follows the commit, so a message never names a tender that does not exist; if it fails, the
 * ingest still answers its counts (the rows are committed and marked) and the cron resends the
 * tenders after MATCH_RESEND_GRACE_MS ({@link resendPendingMatching}).
 */
export async function ingestTenders(ctx: RequestContext, actor: Actor, input: { tenders: TenderInput[] }) {
  const { db, now } = ctx;
  // The schema takes https: and http:; http: only in development, so no plain link reaches a mailbox.
  if (!ctx.config.isDevelopment) {
    const errors = input.tenders.flatMap((t, i) => (t.url && !t.url.startsWith("https:") ? [{ path: `tenders.${i}.url`, message: "Expected an https: URL" }] : []));
    if (errors.length > 0) throw new AppError("validation_failed", "Tender urls must be https", { errors });
  }
  const proposed = new Map<string, string>();
  const rows: TenderWrite[] = input.tenders.map((t) => {
    const id = newId("tnd", now.getTime());
    proposed.set(t.external_id, id);
    return {
      id,
      external_id: t.external_id,
      title: t.title,
      description: t.description ?? null,
      department: t.department || null,
      state: t.state || null,
      portal: t.portal || null,
      value: t.value ?? null,
      currency: t.currency ?? "INR",
      published_at: ms(t.published_at),
      closing_date: ms(t.closing_date),
      url: t.url ?? null,
    };
  });
  const statements = [];
  for (let i = 0; i < rows.length; i += UPSERT_ROWS_PER_STATEMENT) {
    // The change outbox reads the old rows, so it goes before their upsert (issue 19: tender_changed).
    statements.push(recordTenderChangesStatement(db, rows.slice(i, i + UPSERT_ROWS_PER_STATEMENT), now));
    statements.push(upsertTendersStatement(db, rows.slice(i, i + UPSERT_ROWS_PER_STATEMENT), now));
  }
  const results = await db.batch([
    ...(statements as [(typeof statements)[0], ...typeof statements]),
    auditInsert(db, ctx, {
      userId: actor.userId,
      action: "tender.ingested",
      details: { submitted: rows.length, via: actor.kind === "apiKey" ? actor.keyId : "session" },
    }),
    ...(await webhookEvent(ctx, { type: "tenders.ingested", scope: "platform", data: { submitted: rows.length, external_ids: rows.map((r) => r.external_id) } })),
  ]);
  const returned = results.slice(0, statements.length).filter((_, i) => i % 2 === 1).flatMap((r) => (r as D1Result<{ id: string; external_id: string }>).results);
  const { inserted, updated } = classifyUpsert(proposed, returned);
  const tenderIds = [...inserted, ...updated];
  if (tenderIds.length > 0) ctx.waitUntil(forgetFacets(ctx));
  try {
    await sendForMatching(ctx.env, tenderIds);
  } catch (err) {
    // Committed and marked pending: the cron's resend delivers them (README, consistency windows).
    log.error("alert-matching send failed; the cron resends", { request_id: ctx.requestId, tenders: tenderIds.length }, err);
  }
  return { inserted: inserted.length, updated: updated.length, tenderIds };
}

/** Hands tender ids to the `alert-matching` queue, in `sendBatch` calls of at most 100 messages. */
async function sendForMatching(env: Env, tenderIds: readonly string[]): Promise<void> {
  for (const messages of matchingSends(tenderIds)) await env.ALERT_MATCHING_QUEUE.sendBatch(messages);
}

/**
 * The cron's outbox relay: tenders still pending matching MATCH_RESEND_GRACE_MS after their mark
 * (a lost send, or a consumer that gave up on them) are claimed, at most MATCH_RESEND_PER_TICK,
 * oldest first, and sent again. Safe to repeat: the consumer records nothing twice. If the send
 * fails the claim stays, and the next tick after the grace period tries again. A tender still
 * pending after `maxAttempts` attempts is parked instead (never resent; counted in /admin/stats).
 */
export async function resendPendingMatching(
  ctx: Pick<ServiceContext, "db" | "env" | "now">,
  maxAttempts: number,
  limit = MATCH_RESEND_PER_TICK,
): Promise<{ resent: number; parked: number }> {
  const cutoff = new Date(ctx.now.getTime() - MATCH_RESEND_GRACE_MS);
  const parked = await parkStalePendingMatching(ctx.db, cutoff, ctx.now, maxAttempts);
  if (parked.length > 0) {
    log.error("tenders parked: alert matching failed too often", { tenders: parked.map((r) => r.id).slice(0, 50), max_attempts: maxAttempts });
  }
  const claimed = await claimStalePendingMatching(ctx.db, cutoff, ctx.now, limit);
  await sendForMatching(ctx.env, claimed.map((r) => r.id));
  return { resent: claimed.length, parked: parked.length };
}

/**
 * Clears the pending-matching mark of tenders whose matches and emails the consumer has recorded,
 * each only if unchanged since the consumer read it (see `clearMatchPendingStatement`).
 */
export async function markTendersMatched(db: Db, tenders: readonly TenderRow[]): Promise<number> {
  const pending = tenders.filter((t) => t.matchPendingSince !== null).map((t) => ({ id: t.id, updatedAt: t.updatedAt }));
  if (pending.length === 0) return 0;
  const result = await clearMatchPendingStatement(db, pending);
  return result.meta.changes ?? 0;
}

/** The caller's list preferences (one read), defaults when the row is missing. */
export async function viewPreferences(ctx: RequestContext, userId: Owner): Promise<ViewPreferences> {
  const [row] = await viewPreferencesQuery(ctx.db, userId);
  return row ?? DEFAULT_VIEW_PREFERENCES;
}

/** What a search asks: criteria (the matcher's), extra closing bounds, order and page. */
export interface SearchSpec {
  criteria: TenderCriteria | Partial<TenderCriteria>;
  closingAfter?: Date;
  closingBefore?: Date;
  sort: TenderSort;
  includeExpired: boolean;
  limit: number;
  cursor?: string;
  excludeIds?: string[];
}

const ORDERS: Record<Exclude<TenderSort, "relevance">, { column: SortColumn; dir: "asc" | "desc" }> = {
  closing_date: { column: "closing_date", dir: "asc" },
  value: { column: "value", dir: "desc" },
  published_at: { column: "published_at", dir: "desc" },
};

function sortKey(row: TenderRow & { rank: number | null }, column: SortColumn): number | null {
  switch (column) {
    case "closing_date":
      return row.closingDate?.getTime() ?? null;
    case "published_at":
      return row.publishedAt?.getTime() ?? null;
    case "value":
      return row.value;
    case "rank":
      return row.rank;
  }
}

function readCursor(cursor: string | undefined, sort: string): { key: number | null; id: string } | null {
  const raw = decodeCursor(cursor);
  if (cursor === undefined) return null;
  try {
    const [s, key, id] = JSON.parse(raw ?? "") as [string, number | null, string];
    if (s === sort && typeof id === "string" && (key === null || typeof key === "number")) return { key, id };
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "Invalid cursor", { errors: [{ path: "cursor", message: "Not a cursor of this list and sort" }] });
}

/** Rounds of candidate fetching per page, when the matcher rejects SQL candidates (rare). */
const MAX_ROUNDS = 5;

/**
 * Searches tenders with the one matcher: SQL (FTS5 for keywords, indexed filters) narrows the
 * candidates in the requested order, and `matchesTender` decides each one, so `/tenders?q=`,
 * saved searches and alerts can never disagree. Keyset pages: the cursor carries the sort and the
 * last row's key and id.
 */
export async function searchWithCriteria(ctx: RequestContext, prefs: ViewPreferences, spec: SearchSpec) {
  const { now } = ctx;
  const compiled = compileCriteria(spec.criteria as TenderCriteria);
  const fts = compiled.keywords ? toFtsQuery(compiled.keywords) : null;
  if (compiled.keywords && !fts) return { items: [] as TenderOut[], next_cursor: null };
  const order = spec.sort === "relevance" ? (fts ? { column: "rank" as const, dir: "asc" as const } : ORDERS.published_at) : ORDERS[spec.sort];
  const range = spec.criteria.closing_date_range;
  const rangeTo = range && range !== "any" ? new Date(now.getTime() + CLOSING_RANGE_MS[range]) : null;
  const closingFrom = [spec.closingAfter, rangeTo ? now : undefined].filter((d): d is Date => d !== undefined);
  const closingTo = [spec.closingBefore, rangeTo ?? undefined].filter((d): d is Date => d !== undefined);
  const base = {
    fts,
    states: spec.criteria.states?.length ? spec.criteria.states : null,
    departments: spec.criteria.departments?.length ? spec.criteria.departments : null,
    minValue: spec.criteria.min_value ?? null,
    maxValue: spec.criteria.max_value ?? null,
    closingFrom: closingFrom.length ? new Date(Math.max(...closingFrom.map((d) => d.getTime()))) : null,
    closingTo: closingTo.length ? new Date(Math.min(...closingTo.map((d) => d.getTime()))) : null,
    openAt: spec.includeExpired ? null : now,
    order,
    excludeIds: spec.excludeIds,
  };
  const limit = spec.limit;
  const fetchSize = limit + 1;
  let after = readCursor(spec.cursor, spec.sort);
  const matched: (TenderRow & { rank: number | null })[] = [];
  let exhausted = false;
  let lastExamined: (TenderRow & { rank: number | null }) | undefined;
  for (let round = 0; round < MAX_ROUNDS && matched.length <= limit && !exhausted; round++) {
    const rows = await searchTenders(ctx.db, { ...base, after, limit: fetchSize });
    exhausted = rows.length < fetchSize;
    for (const row of rows) {
      lastExamined = row;
      if (matchesTender(compiled, prepareTender(row), now)) matched.push(row);
      if (matched.length > limit) break;
    }
    if (lastExamined) after = { key: sortKey(lastExamined, order.column), id: lastExamined.id };
  }
  const page = matched.slice(0, limit);
  const last = matched.length > limit ? page[page.length - 1] : exhausted ? undefined : lastExamined;
  const urgent = (row: TenderRow) => prefs.highlightUrgent && isUrgent(row.closingDate, now);
  return {
    items: page.map((row) => toTenderOut(row, urgent(row))),
    next_cursor: last ? encodeCursor(JSON.stringify([spec.sort, sortKey(last, order.column), last.id])) : null,
  };
}

/**
 * GET /tenders: the query's filters, with the caller's preferences as defaults. A query with `q`
 * is a search (engagement roll-up): its first page is recorded after the response (waitUntil),
 * so the search costs no round trip; a cursor page continues the same search and is not counted.
 */
export async function listTenders(ctx: RequestContext, actor: Actor, query: ListTendersQuery) {
  if (query.q && !query.cursor) {
    const { db, now } = ctx;
    ctx.waitUntil(
      insertSearch(db, { userId: actor.userId, source: "query", deviceType: deviceTypeOf(ctx.userAgent), now })
        .run()
        .catch((err: unknown) => log.error("search not recorded", {}, err)),
    );
  }
  const prefs = await viewPreferences(ctx, ownerOf(actor));
  return searchWithCriteria(ctx, prefs, {
    criteria: {
      keywords: query.q ? [query.q] : undefined,
      states: query.states,
      departments: query.departments,
      min_value: query.min_value,
      max_value: query.max_value,
    },
    closingAfter: query.closing_after ? new Date(query.closing_after) : undefined,
    closingBefore: query.closing_before ? new Date(query.closing_before) : undefined,
    sort: query.sort ?? prefs.defaultSort,
    includeExpired: query.include_expired ?? prefs.showExpired,
    limit: query.limit ?? Math.min(100, Math.max(1, prefs.tendersPerPage)),
    cursor: query.cursor,
  });
}

/**
 * Whether the caller may read notes: a session always; an API key only with `read:notes`
 * (`read:tenders` alone never returns notes).
 */
const readsNotes = (actor: Actor) => actor.kind !== "apiKey" || actor.scopes.has("read:notes");

/**
 * GET /tenders/{id}: the tender, the notes the caller may read (the newest 50, with their count)
 * and the caller's preferences in one batch; the view is recorded after the response
 * (waitUntil), never delaying it.
 */
export async function getTender(ctx: RequestContext, actor: Actor, id: string, source: string) {
  const { db, now } = ctx;
  const withNotes = readsNotes(actor);
  // Shared notes check both memberships in the query: read on the primary, never a lagging
  // replica that could still count a member removed a moment ago (docs/consistency.md).
  const fresh = primaryDb(ctx.env);
  const [[row], [prefs], noteRows, [counted]] = withNotes
    ? await fresh.batch([tenderByIdQuery(fresh, id), viewPreferencesQuery(fresh, ownerOf(actor)), visibleNotesQuery(fresh, ownerOf(actor), id), visibleNotesCountQuery(fresh, ownerOf(actor), id)])
    : [...(await db.batch([tenderByIdQuery(db, id), viewPreferencesQuery(db, ownerOf(actor))])), [], []];
  if (!row) throw new AppError("not_found", "Tender not found");
  ctx.waitUntil(
    insertView(db, { userId: ownerOf(actor), tenderId: id, source, now, deviceType: deviceTypeOf(ctx.userAgent) })
      .run()
      .catch((err: unknown) => log.error("view not recorded", { tender_id: id }, err)),
  );
  const highlight = (prefs ?? DEFAULT_VIEW_PREFERENCES).highlightUrgent;
  const tender = toTenderOut(row, highlight && isUrgent(row.closingDate, now));
  if (!withNotes) return tender;
  return {
    ...tender,
    notes: noteRows.map((n) => ({
      id: n.id,
      note_text: n.noteText,
      note_type: n.noteType,
      is_shared: n.organizationId !== null,
      organization_id: n.organizationId,
      own: n.userId === actor.userId,
      author: { id: n.userId, full_name: n.authorName },
      created_at: n.createdAt.toISOString(),
      updated_at: n.updatedAt.toISOString(),
    })),
    notes_total: Number(counted?.n ?? 0),
  };
}

/** A coarse device class from the User-Agent, for interaction analytics. */
export function deviceTypeOf(userAgent: string): string | null {
  if (!userAgent) return null;
  if (/ipad|tablet/i.test(userAgent)) return "tablet";
  if (/mobi|android|iphone/i.test(userAgent)) return "mobile";
  return /mozilla/i.test(userAgent) ? "desktop" : "api";
}
