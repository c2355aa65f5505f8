import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { notes, organizationMembers } from "../../db/schema";
import { insertIf, type Db } from "../../platform/db";

export type NoteRow = typeof notes.$inferSelect;
export type NoteType = NoteRow["noteType"];

/**
 * SQL condition: `userId` may share notes, i.e. is a member with a role of at least `member`
 * (owner, admin, member) in at least one organization. Read inside the write, so a demotion to
 * viewer counts at once.
 */
export const maySharePredicate = (userId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM ${organizationMembers} WHERE ${organizationMembers.userId} = ${userId} AND ${organizationMembers.role} IN ('owner', 'admin', 'member'))`;

/** Notes of one user. Every query carries the author. */
export function notesRepo(db: Db, userId: string) {
  const mine = eq(notes.userId, userId);
  const shareGuard = (isShared: boolean | undefined) => (isShared ? maySharePredicate(userId) : sql`1`);
  return {
    /** Inserts the note; a shared one only when the author may share (`meta.changes` = 0 otherwise). */
    insert: (row: { id: string; tenderId: string; noteText: string; noteType: NoteType; isShared: boolean; now: Date }) =>
      insertIf(
        db,
        notes,
        { id: row.id, userId, tenderId: row.tenderId, noteText: row.noteText, noteType: row.noteType, isShared: row.isShared, createdAt: row.now, updatedAt: row.now },
        shareGuard(row.isShared),
      ),
    byId: (id: string) => db.select().from(notes).where(and(mine, eq(notes.id, id))),
    list: (opts: { tenderId?: string; before?: string; limit: number }) =>
      db
        .select()
        .from(notes)
        .where(and(mine, opts.tenderId ? eq(notes.tenderId, opts.tenderId) : undefined, opts.before ? lt(notes.id, opts.before) : undefined))
        .orderBy(desc(notes.id))
        .limit(opts.limit + 1),
    /** Guarded edit: making a note shared needs the right to share, checked in the same statement. */
    update: (id: string, set: { noteText?: string; noteType?: NoteType; isShared?: boolean }, now: Date) =>
      db
        .update(notes)
        .set({ ...set, updatedAt: now })
        .where(and(mine, eq(notes.id, id), shareGuard(set.isShared)))
        .returning(),
    /** SQL condition: this user's note `id` exists (and, with `updatedAt`, was written at that instant). */
    exists: (id: string, updatedAt?: Date) =>
      sql`EXISTS (SELECT 1 FROM ${notes} WHERE ${notes.id} = ${id} AND ${notes.userId} = ${userId}${updatedAt ? sql` AND ${notes.updatedAt} = ${updatedAt.getTime()}` : sql``})`,
    remove: (id: string) => db.delete(notes).where(and(mine, eq(notes.id, id))).returning({ id: notes.id }),
  };
}
