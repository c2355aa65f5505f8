import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../../audit/audit.repo";
import { DEFAULT_VIEW_PREFERENCES, insertSearchIf, viewPreferencesQuery } from "../tenders/tenders.repo";
import { deviceTypeOf, searchWithCriteria } from "../tenders/tenders.service";
import { limitsFor } from "../orgs/orgs.access";
import { savedSearchesRepo } from "./saved-searches.repo";
import { toSavedSearchOut, type CreateSavedSearchInput } from "./saved-searches.schemas";

/** POST /me/saved-searches: 409 `limit_reached` at the plan limit, enforced by the guarded insert. */
export async function createSavedSearch(ctx: RequestContext, actor: Actor, input: CreateSavedSearchInput) {
  const { db, now } = ctx;
  const { max_saved_searches: maxSavedSearches } = await limitsFor(ctx, actor);
  const repo = savedSearchesRepo(db, ownerOf(actor));
  const id = newId("srch", now.getTime());
  const [inserted, , [row]] = await db.batch([
    repo.insertWithinLimit({ id, name: input.name, query: input.query, now }, maxSavedSearches),
    auditInsertIf(db, ctx, { userId: actor.userId, action: "saved_search.created", details: { saved_search_id: id } }, repo.exists(id)),
    repo.byId(id),
  ]);
  if ((inserted as D1Result).meta.changes === 0 || !row) {
    throw new AppError("limit_reached", `Your plan allows ${maxSavedSearches} saved searches`, { fields: { limit: maxSavedSearches } });
  }
  return toSavedSearchOut(row);
}

export async function listSavedSearches(ctx: RequestContext, actor: Actor, q: { limit: number; cursor?: string }) {
  const rows = await savedSearchesRepo(ctx.db, ownerOf(actor)).list({ before: decodeCursor(q.cursor), limit: q.limit });
  return toPage(rows, q.limit, (r) => r.id, toSavedSearchOut);
}

export async function deleteSavedSearch(ctx: RequestContext, actor: Actor, id: string) {
  const { db } = ctx;
  const repo = savedSearchesRepo(db, ownerOf(actor));
  const [, removed] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "saved_search.deleted", details: { saved_search_id: id } }, repo.exists(id)),
    repo.remove(id),
  ]);
  if (removed.length === 0) throw new AppError("not_found", "Saved search not found");
}

/**
 * POST /me/saved-searches/{id}/run: the tenders that match the query now, through the same
 * matcher as alerts and /tenders?q=. The first page (no cursor) counts as a use and as a search:
 * use_count + 1 and last_used_at in one guarded UPDATE, the search row (engagement roll-up) only
 * if that search is the user's, batched with the preferences read; later pages only read.
 */
export async function runSavedSearch(ctx: RequestContext, actor: Actor, id: string, q: { limit?: number; cursor?: string }) {
  const { db, now } = ctx;
  const repo = savedSearchesRepo(db, ownerOf(actor));
  const [[search], [prefsRow]] = q.cursor
    ? await db.batch([repo.byId(id), viewPreferencesQuery(db, ownerOf(actor))])
    : await db.batch([
        repo.recordRun(id, now),
        viewPreferencesQuery(db, ownerOf(actor)),
        insertSearchIf(db, { userId: actor.userId, source: "saved_search", deviceType: deviceTypeOf(ctx.userAgent), now }, repo.exists(id)),
      ]);
  if (!search) throw new AppError("not_found", "Saved search not found");
  const prefs = prefsRow ?? DEFAULT_VIEW_PREFERENCES;
  const page = await searchWithCriteria(ctx, prefs, {
    criteria: search.query,
    sort: prefs.defaultSort,
    includeExpired: prefs.showExpired,
    limit: q.limit ?? Math.min(100, Math.max(1, prefs.tendersPerPage)),
    cursor: q.cursor,
  });
  return { ...page, saved_search: toSavedSearchOut(search) };
}
