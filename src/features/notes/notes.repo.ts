import type { Owner } from "../../identity/owner";
import { and, desc, eq, getTableColumns, lt, or, sql, type SQL } from "drizzle-orm";
import { notes, users } from "../../db/tables";
import { insertIf, type Db } from "../../platform/db";
import { maySharePredicate, sharedItemVisible } from "../orgs/orgs.repo";

export type NoteRow = typeof notes.$inferSelect;
export type NoteType = NoteRow["noteType"];

/** A note with its author's name, as the lists show it. */
export type NoteView = NoteRow & { authorName: string };

/** SQL condition: the note row is shared with an organization `readerId` belongs to, and its author still does. */
export const noteSharedWith = (readerId: string): SQL => sharedItemVisible(notes.organizationId, notes.userId, readerId);

/** SQL condition: `readerId` may read the note: their own, or shared with them (`noteSharedWith`). */
export const noteVisibleTo = (readerId: string): SQL => or(eq(notes.userId, readerId), noteSharedWith(readerId))!;

/** Notes of one user. Every query carries the author. */
export function notesRepo(db: Db, userId: Owner) {
  const mine = eq(notes.userId, userId);
  /** Sharing with `orgId` needs the author's right to share there, read inside the write. */
  const shareGuard = (orgId: string | null | undefined) => (orgId ? maySharePredicate(userId, orgId) : sql`1`);
  return {
    /**
     * Inserts the note in ONE guarded statement: only while the author holds fewer than `maxNotes`
     * notes and, for a shared note, may share with its organization (`meta.changes` = 0 otherwise).
     */
    insert: (row: { id: string; tenderId: string; noteText: string; noteType: NoteType; organizationId: string | null; now: Date }, maxNotes: number) =>
      insertIf(
        db,
        notes,
        {
          id: row.id,
          userId,
          tenderId: row.tenderId,
          noteText: row.noteText,
          noteType: row.noteType,
          isShared: row.organizationId !== null,
          organizationId: row.organizationId,
          createdAt: row.now,
          updatedAt: row.now,
        },
        sql`(SELECT count(*) FROM ${notes} n WHERE n.user_id = ${userId}) < ${maxNotes} AND ${shareGuard(row.organizationId)}`,
      ),
    /** This user's note `id`, with the author's name. */
    byId: (id: string) =>
      db
        .select({ ...getTableColumns(notes), authorName: users.fullName })
        .from(notes)
        .innerJoin(users, eq(users.id, notes.userId))
        .where(and(mine, eq(notes.id, id))),
    /**
     * Newest first: the user's own notes and, for one tender (`tenderId`), also the notes shared
     * with the user's organizations (`noteSharedWith`), each with its author's name.
     */
    list: (opts: { tenderId?: string; before?: string; limit: number }) =>
      db
        .select({ ...getTableColumns(notes), authorName: users.fullName })
        .from(notes)
        .innerJoin(users, eq(users.id, notes.userId))
        .where(
          and(
            opts.tenderId ? and(eq(notes.tenderId, opts.tenderId), noteVisibleTo(userId)) : mine,
            opts.before ? lt(notes.id, opts.before) : undefined,
          ),
        )
        .orderBy(desc(notes.id))
        .limit(opts.limit + 1),
    /**
     * Guarded edit: sharing with an organization needs the right to share there, checked in the
     * same statement; `organizationId: null` unshares.
     */
    update: (id: string, set: { noteText?: string; noteType?: NoteType; organizationId?: string | null }, now: Date) =>
      db
        .update(notes)
        .set({ ...set, ...(set.organizationId !== undefined ? { isShared: set.organizationId !== null } : {}), updatedAt: now })
        .where(and(mine, eq(notes.id, id), shareGuard(set.organizationId)))
        .returning(),
    /** SQL condition: this user's note `id` exists (and, with `updatedAt`, was written at that instant). */
    exists: (id: string, updatedAt?: Date) =>
      sql`EXISTS (SELECT 1 FROM ${notes} WHERE ${notes.id} = ${id} AND ${notes.userId} = ${userId}${updatedAt ? sql` AND ${notes.updatedAt} = ${updatedAt.getTime()}` : sql``})`,
    remove: (id: string) => db.delete(notes).where(and(mine, eq(notes.id, id))).returning({ id: notes.id }),
    /**
     * SQL condition, for a statement placed BEFORE `update(id, { organizationId: orgId })` in the
     * same batch: that update will write the note AND it moves the note into `orgId` (it was
     * private or shared elsewhere). The same guard as the update's, so it holds exactly when the share happens.
     */
    willShareAnew: (id: string, orgId: string) =>
      sql`(EXISTS (SELECT 1 FROM ${notes} WHERE ${notes.id} = ${id} AND ${notes.userId} = ${userId} AND ${notes.organizationId} IS NOT ${orgId}) AND ${maySharePredicate(userId, orgId)})`,
  };
}

/**
 * Unshares every note `userId` shared with `orgId`, when `condition` holds at that point of the
 * batch (the member removal before it happened): a member's items leave with the member.
 */
export const unshareNotesStatement = (db: Db, orgId: string, userId: string, condition: SQL) =>
  db
    .update(notes)
    .set({ organizationId: null, isShared: false })
    .where(and(eq(notes.userId, userId), eq(notes.organizationId, orgId), condition));
