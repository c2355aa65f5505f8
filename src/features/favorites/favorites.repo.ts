import type { Owner } from "../../identity/owner";
import { and, desc, eq, getTableColumns, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { favorites, tenders } from "../../db/tables";
import { insertSelectSql, rawSelect, type Db } from "../../platform/db";
import { maySharePredicate } from "../orgs/orgs.repo";
import type { BidStatus } from "./bid-status";

export type FavoriteRow = typeof favorites.$inferSelect;
export type FavoriteWithTender = { favorite: FavoriteRow; tender: typeof tenders.$inferSelect };

/** What a save or an edit may set. */
export interface FavoriteFields {
  folder?: string | null;
  tags?: string[];
  notes?: string | null;
  priority?: FavoriteRow["priority"];
  bidAmount?: number | null;
  /** The organization to share with; null unshares (private). */
  organizationId?: string | null;
}

export interface FavoriteFilters {
  folder?: string;
  priority?: FavoriteRow["priority"];
  bidStatus?: BidStatus;
  tag?: string;
  /** Keyset: ids below this one (ids sort by creation time). */
  before?: string;
  limit: number;
}

/** Favorites of one user. Every query carries the owner, so a foreign id is simply not found. */
export const tenderRowQuery = (db: Db, tenderId: string) => db.select().from(tenders).where(eq(tenders.id, tenderId));

export function favoritesRepo(db: Db, userId: Owner) {
  const mine = eq(favorites.userId, userId);
  /** Sharing with `orgId` needs the owner's right to share there, read inside the write. */
  const shareGuard = (orgId: string | null | undefined) => (orgId ? maySharePredicate(userId, orgId) : sql`1`);
  const withTender = (where: SQL | undefined) =>
    db.select({ favorite: favorites, tender: tenders }).from(favorites).innerJoin(tenders, eq(tenders.id, favorites.tenderId)).where(and(mine, where));
  return {
    /**
     * Saves a tender as a favorite, or updates the given fields of the existing favorite of the
     * same tender (the unique (user, tender) key makes concurrent saves one row), in ONE guarded
     * statement: sharing with an organization needs the right to share there, read inside the
     * write; refused, nothing is written. Returns the id: the proposed `id` when the row is new.
     */
    upsert: (id: string, tenderId: string, fields: FavoriteFields, now: Date) => {
      const columns = getTableColumns(favorites) as Record<string, { name: string }>;
      const updates = [...Object.keys(fields).filter((k) => fields[k as keyof FavoriteFields] !== undefined), "updatedAt"].map(
        (key) => sql`${sql.identifier(columns[key]!.name)} = excluded.${sql.identifier(columns[key]!.name)}`,
      );
      return rawSelect<{ id: string }>(
        db,
        sql`${insertSelectSql(favorites, { id, userId, tenderId, ...fields, tags: fields.tags ?? [], createdAt: now, updatedAt: now }, shareGuard(fields.organizationId))}
          ON CONFLICT (${sql.identifier(favorites.userId.name)}, ${sql.identifier(favorites.tenderId.name)}) DO UPDATE SET ${sql.join(updates, sql`, `)}
          RETURNING ${sql.identifier(favorites.id.name)}`,
      );
    },
    // Batch reads stay unjoined: D1 batch results are objects keyed by column name, so a join's
    // two `id` columns would collapse. The tender is read by a sibling statement instead.
    rowByTender: (tenderId: string) => db.select().from(favorites).where(and(mine, eq(favorites.tenderId, tenderId))),
    rowById: (id: string) => db.select().from(favorites).where(and(mine, eq(favorites.id, id))),
    /** The tender of this user's favorite `id`. */
    tenderOf: (id: string) =>
      db.select().from(tenders).where(sql`${tenders.id} = (SELECT ${favorites.tenderId} FROM ${favorites} WHERE ${favorites.id} = ${id} AND ${favorites.userId} = ${userId})`),
    /** Newest first, with the tender embedded (one JOIN). */
    list: (f: FavoriteFilters) =>
      withTender(
        and(
          f.folder !== undefined ? eq(favorites.folder, f.folder) : undefined,
          f.priority ? eq(favorites.priority, f.priority) : undefined,
          f.bidStatus ? eq(favorites.bidStatus, f.bidStatus) : undefined,
          f.tag !== undefined ? sql`EXISTS (SELECT 1 FROM json_each(${favorites.tags}) WHERE value = ${f.tag})` : undefined,
          f.before ? lt(favorites.id, f.before) : undefined,
        ),
      )
        .orderBy(desc(favorites.id))
        .limit(f.limit + 1),
    /**
     * Guarded edit: applies only while the stored bid status is one of `bid.from` (so a move is
     * checked against the status it actually leaves, even under concurrent edits). Moving to
     * `submitted` stamps bid_submitted_at, once; moving back to planning or preparing clears it
     * (the record no longer says the bid went out).
     */
    update: (id: string, fields: FavoriteFields, bid: { to: BidStatus; from: BidStatus[]; fromNone: boolean } | null, now: Date) =>
      db
        .update(favorites)
        .set({
          ...fields,
          ...(bid
            ? {
                bidStatus: bid.to,
                bidSubmittedAt:
                  bid.to === "submitted"
                    ? sql`CASE WHEN ${favorites.bidStatus} = 'submitted' THEN ${favorites.bidSubmittedAt} ELSE ${now.getTime()} END`
                    : bid.to === "planning" || bid.to === "preparing"
                      ? null
                      : undefined,
              }
            : {}),
          updatedAt: now,
        })
        .where(
          and(
            mine,
            eq(favorites.id, id),
            bid ? or(bid.from.length ? inArray(favorites.bidStatus, bid.from) : sql`0`, bid.fromNone ? isNull(favorites.bidStatus) : sql`0`) : undefined,
            shareGuard(fields.organizationId),
          ),
        )
        .returning({ id: favorites.id }),
    /** SQL condition: this user's favorite `id` exists (and, with `updatedAt`, was written at that instant). */
    exists: (id: string, updatedAt?: Date) =>
      sql`EXISTS (SELECT 1 FROM ${favorites} WHERE ${favorites.id} = ${id} AND ${favorites.userId} = ${userId}${updatedAt ? sql` AND ${favorites.updatedAt} = ${updatedAt.getTime()}` : sql``})`,
    /** SQL condition: this user's favorite of `tenderId` was written at `updatedAt` (by this batch's save). */
    existsForTender: (tenderId: string, updatedAt: Date) =>
      sql`EXISTS (SELECT 1 FROM ${favorites} WHERE ${favorites.userId} = ${userId} AND ${favorites.tenderId} = ${tenderId} AND ${favorites.updatedAt} = ${updatedAt.getTime()})`,
    remove: (id: string) => db.delete(favorites).where(and(mine, eq(favorites.id, id))).returning({ id: favorites.id }),
    /**
     * SQL condition, for a statement placed BEFORE `upsert(…, { organizationId: orgId })` in the
     * same batch: the save will write (the upsert's own share guard) AND the favorite of `tenderId`
     * is not already shared with `orgId` (new, private, or shared elsewhere).
     */
    willShareTenderAnew: (tenderId: string, orgId: string) =>
      sql`(${maySharePredicate(userId, orgId)} AND NOT EXISTS (SELECT 1 FROM ${favorites} WHERE ${favorites.userId} = ${userId} AND ${favorites.tenderId} = ${tenderId} AND ${favorites.organizationId} = ${orgId}))`,
  };
}

/**
 * Unshares every favorite `userId` shared with `orgId`, when `condition` holds at that point of
 * the batch (the member removal before it happened): a member's items leave with the member.
 */
export const unshareFavoritesStatement = (db: Db, orgId: string, userId: string, condition: SQL) =>
  db
    .update(favorites)
    .set({ organizationId: null })
    .where(and(eq(favorites.userId, userId), eq(favorites.organizationId, orgId), condition));

/** Departments and states of a user's favorites, for recommendations. */
export const favoriteSignalsQuery = (db: Db, userId: Owner) =>
  db
    .select({ tenderId: favorites.tenderId, department: tenders.department, state: tenders.state })
    .from(favorites)
    .innerJoin(tenders, eq(tenders.id, favorites.tenderId))
    .where(eq(favorites.userId, userId))
    .orderBy(desc(favorites.id))
    .limit(500);
