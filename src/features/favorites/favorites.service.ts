import { isForeignKeyViolation } from "../../platform/db";
import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../../audit/audit.repo";
import { shareRefusal } from "../orgs/orgs.access";
import { bidMoveRefusal, bidSourcesFor } from "./bid-status";
import { favoritesRepo, tenderRowQuery, type FavoriteFields } from "./favorites.repo";
import { toFavoriteOut, type AddFavoriteInput, type FavoritesQuery, type UpdateFavoriteInput } from "./favorites.schemas";

const fieldsOf = (input: Omit<UpdateFavoriteInput, "bid_status">): FavoriteFields => {
  const out: FavoriteFields = {};
  if (input.folder !== undefined) out.folder = input.folder;
  if (input.tags !== undefined) out.tags = input.tags;
  if (input.notes !== undefined) out.notes = input.notes;
  if (input.priority !== undefined) out.priority = input.priority;
  if (input.bid_amount !== undefined) out.bidAmount = input.bid_amount;
  if (input.organization_id !== undefined) out.organizationId = input.organization_id;
  return out;
};

/**
 * POST /me/favorites: saves a tender (created: true) or updates the given fields of the existing
 * favorite. Upsert, read-back and audit are one batch. An unknown tender is 404.
 */
export async function saveFavorite(ctx: RequestContext, actor: Actor, input: AddFavoriteInput) {
  const { db, now } = ctx;
  const repo = favoritesRepo(db, ownerOf(actor));
  const id = newId("fav", now.getTime());
  try {
    const [[saved], [favorite], [tender]] = await db.batch([
      repo.upsert(id, input.tender_id, fieldsOf(input), now),
      repo.rowByTender(input.tender_id),
      tenderRowQuery(db, input.tender_id),
      auditInsertIf(
        db,
        ctx,
        { userId: actor.userId, action: "favorite.saved", details: { tender_id: input.tender_id, organization_id: input.organization_id ?? null } },
        repo.existsForTender(input.tender_id, now),
      ),
    ]);
    const refused = !saved && input.organization_id ? await shareRefusal(ctx, actor, input.organization_id) : null;
    if (refused) throw refused;
    if (!saved || !favorite || !tender) throw new AppError("not_found", "Tender not found");
    return { created: saved.id === id, favorite: toFavoriteOut({ favorite, tender }) };
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new AppError("not_found", "Tender not found");
    throw err;
  }
}

export async function listFavorites(ctx: RequestContext, actor: Actor, q: FavoritesQuery) {
  const rows = await favoritesRepo(ctx.db, ownerOf(actor)).list({
    folder: q.folder,
    priority: q.priority,
    bidStatus: q.bid_status,
    tag: q.tag,
    before: decodeCursor(q.cursor),
    limit: q.limit,
  });
  return toPage(rows, q.limit, (r) => r.favorite.id, toFavoriteOut);
}

/**
 * PATCH /me/favorites/{id}. The bid-status move is checked by the guarded UPDATE itself (only from
 * a status that allows it), and the favorite is read back in the same batch: no row → 404; a row
 * that the update did not touch → the move was not allowed from its status → 422.
 */
export async function updateFavorite(ctx: RequestContext, actor: Actor, id: string, input: UpdateFavoriteInput) {
  const { db, now } = ctx;
  const repo = favoritesRepo(db, ownerOf(actor));
  const sources = input.bid_status ? bidSourcesFor(input.bid_status) : null;
  const bid = input.bid_status && sources ? { to: input.bid_status, from: sources.statuses, fromNone: sources.fromNone } : null;
  const [updated, , [favorite], [tender]] = await db.batch([
    repo.update(id, fieldsOf(input), bid, now),
    // Audited only when the update above wrote the row (its updated_at is this request's instant).
    auditInsertIf(db, ctx, { userId: actor.userId, action: "favorite.updated", details: { favorite_id: id, bid_status: input.bid_status ?? null } }, repo.exists(id, now)),
    repo.rowById(id),
    repo.tenderOf(id),
  ]);
  if (!favorite || !tender) throw new AppError("not_found", "Favorite not found");
  const refused = updated.length === 0 && input.organization_id ? await shareRefusal(ctx, actor, input.organization_id) : null;
  if (refused) throw refused;
  if (updated.length === 0) {
    const from = favorite.bidStatus;
    throw new AppError("validation_failed", bidMoveRefusal(from, input.bid_status!) ?? `The bid's status changed to ${from ?? "none"} meanwhile; try again`, {
      errors: [{ path: "bid_status", message: `The outcome is recorded as ${from}` }],
    });
  }
  return toFavoriteOut({ favorite, tender });
}

export async function removeFavorite(ctx: RequestContext, actor: Actor, id: string) {
  const { db } = ctx;
  const repo = favoritesRepo(db, ownerOf(actor));
  // The audit row first, and only if the favorite is this user's, so a foreign id leaves no trace.
  const [, removed] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "favorite.removed", details: { favorite_id: id } }, repo.exists(id)),
    repo.remove(id),
  ]);
  if (removed.length === 0) throw new AppError("not_found", "Favorite not found");
}
