import { sql, type SQL } from "drizzle-orm";
import { isForeignKeyViolation, runBatch } from "../../platform/db";
import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../../audit/audit.repo";
import { shareRefusal } from "../orgs/orgs.access";
import { bidMoveRefusal, bidSourcesFor } from "./bid-status";
import { findUserById } from "../users/users.repo";
import { webhookEvent } from "../webhooks/emit";
import { favoritesRepo, tenderRowQuery, type FavoriteFields, type FavoriteWithTender } from "./favorites.repo";
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
 * The `favorite.shared` event of a favorite now shared with `orgId`: the favorite as GET
 * /orgs/{id}/favorites shows it to that organization's members.
 */
async function favoriteSharedEvent(ctx: RequestContext, actor: Actor, orgId: string, { favorite: f, tender: t }: FavoriteWithTender, when: SQL) {
  const author = await findUserById(ctx.db, actor.userId, ctx.now);
  const favorite = {
    id: f.id,
    tender: { id: t.id, title: t.title, department: t.department, state: t.state, closing_date: t.closingDate?.toISOString() ?? null, value: t.value, currency: t.currency },
    folder: f.folder,
    tags: f.tags,
    priority: f.priority,
    bid_status: f.bidStatus,
    created_at: f.createdAt.toISOString(),
    added_by: { user_id: actor.userId, email: author?.email ?? null, full_name: author?.fullName ?? null },
  };
  return webhookEvent(ctx, { type: "favorite.shared", scope: "org", orgId, data: { organization_id: orgId, favorite } }, when);
}

/** The favorite as a save or edit of `input` will leave it (`before`: as stored, if any). */
const afterEdit = (before: FavoriteWithTender["favorite"] | undefined, base: FavoriteWithTender["favorite"], input: UpdateFavoriteInput | AddFavoriteInput) => ({
  ...(before ?? base),
  ...(input.folder !== undefined ? { folder: input.folder ?? null } : {}),
  ...(input.tags !== undefined ? { tags: input.tags } : {}),
  ...(input.priority !== undefined ? { priority: input.priority ?? null } : {}),
  ...("bid_status" in input && input.bid_status !== undefined ? { bidStatus: input.bid_status } : {}),
});

/**
 * POST /me/favorites: saves a tender (created: true) or updates the given fields of the existing
 * favorite. Upsert, read-back and audit are one batch. An unknown tender is 404.
 */
export async function saveFavorite(ctx: RequestContext, actor: Actor, input: AddFavoriteInput) {
  const { db, now } = ctx;
  const repo = favoritesRepo(db, ownerOf(actor));
  const id = newId("fav", now.getTime());
  const orgId = input.organization_id;
  let shared: Awaited<ReturnType<typeof favoriteSharedEvent>> = [];
  if (orgId) {
    // favorite.shared when this save moves the favorite into the organization; the event goes
    // BEFORE the upsert, guarded by the upsert's own share guard and "not shared there yet".
    const [[before], [t]] = await Promise.all([repo.rowByTender(input.tender_id), tenderRowQuery(db, input.tender_id)]);
    if (t && before?.organizationId !== orgId) {
      const base = { id, userId: actor.userId, tenderId: t.id, folder: null, tags: [], notes: null, priority: null, bidStatus: null, createdAt: now } as unknown as FavoriteWithTender["favorite"];
      shared = await favoriteSharedEvent(ctx, actor, orgId, { favorite: afterEdit(before, base, input), tender: t }, repo.willShareTenderAnew(input.tender_id, orgId));
    }
  }
  try {
    const results = await runBatch(ctx, [
      ...shared,
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
    const [saved] = results[shared.length] as { id: string }[];
    const [favorite] = results[shared.length + 1] as FavoriteWithTender["favorite"][];
    const [tender] = results[shared.length + 2] as FavoriteWithTender["tender"][];
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
  // favorite.shared when this edit moves the favorite into an organization: right after the
  // update, only if it wrote the row (changes() > 0); "not shared there before" is read first.
  const orgId = input.organization_id;
  let shared: Awaited<ReturnType<typeof favoriteSharedEvent>> = [];
  if (orgId) {
    const [[before], [t]] = await Promise.all([repo.rowById(id), repo.tenderOf(id)]);
    if (before && t && before.organizationId !== orgId) {
      shared = await favoriteSharedEvent(ctx, actor, orgId, { favorite: afterEdit(before, before, input), tender: t }, sql`changes() > 0`);
    }
  }
  const results = await runBatch(ctx, [
    repo.update(id, fieldsOf(input), bid, now),
    ...shared,
    // Audited only when the update above wrote the row (its updated_at is this request's instant).
    auditInsertIf(db, ctx, { userId: actor.userId, action: "favorite.updated", details: { favorite_id: id, bid_status: input.bid_status ?? null } }, repo.exists(id, now)),
    repo.rowById(id),
    repo.tenderOf(id),
  ]);
  const updated = results[0] as { id: string }[];
  const [favorite] = results[shared.length + 2] as FavoriteWithTender["favorite"][];
  const [tender] = results[shared.length + 3] as FavoriteWithTender["tender"][];
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
