import type { Actor } from "../../platform/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../audit/audit.repo";
import { notesRepo } from "./notes.repo";
import { toNoteOut, type CreateNoteInput, type UpdateNoteInput } from "./notes.schemas";

const cannotShare = () =>
  new AppError("forbidden", "Sharing a note needs the owner, admin or member role in an organization (a viewer cannot share)");

const isForeignKeyViolation = (err: unknown) => {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (String((e as { message?: string }).message ?? e).includes("FOREIGN KEY constraint failed")) return true;
  }
  return false;
};

/** POST /me/notes. The right to share is checked inside the insert (403 when refused); unknown tender → 404. */
export async function createNote(ctx: RequestContext, actor: Actor, input: CreateNoteInput) {
  const { db, now } = ctx;
  const repo = notesRepo(db, actor.userId);
  const id = newId("note", now.getTime());
  try {
    const [, , [row]] = await db.batch([
      repo.insert({ id, tenderId: input.tender_id, noteText: input.note_text, noteType: input.note_type, isShared: input.is_shared, now }),
      auditInsertIf(db, ctx, { userId: actor.userId, action: "note.created", details: { note_id: id, tender_id: input.tender_id, is_shared: input.is_shared } }, repo.exists(id)),
      repo.byId(id),
    ]);
    if (!row) throw cannotShare();
    return toNoteOut(row);
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new AppError("not_found", "Tender not found");
    throw err;
  }
}

export async function listNotes(ctx: RequestContext, actor: Actor, q: { tender_id?: string; limit: number; cursor?: string }) {
  const rows = await notesRepo(ctx.db, actor.userId).list({ tenderId: q.tender_id, before: decodeCursor(q.cursor), limit: q.limit });
  return toPage(rows, q.limit, (r) => r.id, toNoteOut);
}

/** PATCH /me/notes/{id}: a foreign or missing note → 404; sharing without the right → 403. */
export async function updateNote(ctx: RequestContext, actor: Actor, id: string, input: UpdateNoteInput) {
  const { db, now } = ctx;
  const repo = notesRepo(db, actor.userId);
  const [updated, , [current]] = await db.batch([
    repo.update(id, { noteText: input.note_text, noteType: input.note_type, isShared: input.is_shared }, now),
    auditInsertIf(db, ctx, { userId: actor.userId, action: "note.updated", details: { note_id: id, is_shared: input.is_shared ?? null } }, repo.exists(id, now)),
    repo.byId(id),
  ]);
  if (!current) throw new AppError("not_found", "Note not found");
  if (updated.length === 0) throw cannotShare();
  return toNoteOut(current);
}

export async function deleteNote(ctx: RequestContext, actor: Actor, id: string) {
  const { db } = ctx;
  const repo = notesRepo(db, actor.userId);
  const [, removed] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "note.deleted", details: { note_id: id } }, repo.exists(id)),
    repo.remove(id),
  ]);
  if (removed.length === 0) throw new AppError("not_found", "Note not found");
}
