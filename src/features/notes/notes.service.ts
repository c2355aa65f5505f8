import { isForeignKeyViolation, primaryDb, runBatch } from "../../platform/db";
import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import type { SQL } from "drizzle-orm";
import { auditInsertIf } from "../../audit/audit.repo";
import { shareRefusal } from "../orgs/orgs.access";
import { sharingOrgsOf } from "../orgs/orgs.repo";
import { findUserById } from "../users/users.repo";
import { webhookEvent } from "../webhooks/emit";
import { notesRepo, type NoteView } from "./notes.repo";
import { toNoteOut, type CreateNoteInput, type UpdateNoteInput } from "./notes.schemas";

const cannotShare = () =>
  new AppError("forbidden", "Sharing a note needs the owner, admin or member role in an organization (a viewer cannot share)");

const invalidOrg = (message: string) => new AppError("validation_failed", message, { errors: [{ path: "organization_id", message }] });

/**
 * The organization a note is to be shared with (docs/api.md, notes): `organization_id` when
 * named; otherwise, for `is_shared: true`, the caller's only organization where the caller may
 * share (none → 403, several → 422). `undefined`: sharing unchanged; `null`: private.
 */
async function sharingTarget(ctx: RequestContext, actor: Actor, isShared: boolean | undefined, organizationId: string | null | undefined) {
  if (organizationId !== undefined) {
    if (isShared === false && organizationId !== null) throw invalidOrg("is_shared: false contradicts organization_id");
    return organizationId;
  }
  if (isShared === false) return null;
  if (isShared !== true) return undefined;
  const orgs = await sharingOrgsOf(ctx.db, actor.userId, 2);
  if (orgs.length === 0) throw cannotShare();
  if (orgs.length > 1) throw invalidOrg("You belong to several organizations: name the one to share with");
  return orgs[0]!.orgId;
}

/**
 * The `note.shared` event of a note now shared with its organization: the note as GET
 * /orgs/{id}/notes shows it to that organization (without the reader-relative `own`).
 */
async function noteSharedEvent(ctx: RequestContext, actor: Actor, note: Omit<NoteView, "authorName" | "isShared">, when: SQL) {
  const author = await findUserById(ctx.db, actor.userId, ctx.now);
  const { own: _own, ...shown } = toNoteOut({ ...note, isShared: true, authorName: author?.fullName ?? "" }, actor.userId);
  return webhookEvent(ctx, { type: "note.shared", scope: "org", orgId: note.organizationId, data: { organization_id: note.organizationId, note: shown } }, when);
}

/**
 * POST /me/notes. ONE guarded insert checks the per-user cap (MAX_NOTES_PER_USER → 409
 * `limit_reached`) and the right to share with the organization (404 / 403); unknown tender → 404.
 */
export async function createNote(ctx: RequestContext, actor: Actor, input: CreateNoteInput) {
  const { db, now, config } = ctx;
  const repo = notesRepo(db, ownerOf(actor));
  const organizationId = (await sharingTarget(ctx, actor, input.is_shared, input.organization_id)) ?? null;
  const id = newId("note", now.getTime());
  try {
    const shared = organizationId
      ? await noteSharedEvent(
          ctx,
          actor,
          { id, userId: actor.userId, tenderId: input.tender_id, noteText: input.note_text, noteType: input.note_type, organizationId, createdAt: now, updatedAt: now },
          repo.exists(id),
        )
      : [];
    const [, , [row]] = await runBatch(ctx, [
      repo.insert({ id, tenderId: input.tender_id, noteText: input.note_text, noteType: input.note_type, organizationId, now }, config.MAX_NOTES_PER_USER),
      auditInsertIf(
        db,
        ctx,
        { userId: actor.userId, action: "note.created", details: { note_id: id, tender_id: input.tender_id, organization_id: organizationId } },
        repo.exists(id),
      ),
      repo.byId(id),
      // Written only when the insert above was (a fresh id exists only then).
      ...shared,
    ]);
    if (row) return toNoteOut(row, actor.userId);
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new AppError("not_found", organizationId ? "Tender or organization not found" : "Tender not found");
    throw err;
  }
  const refused = organizationId ? await shareRefusal(ctx, actor, organizationId) : null;
  if (refused) throw refused;
  throw new AppError("limit_reached", `A user holds at most ${config.MAX_NOTES_PER_USER} notes; delete some first`);
}

export async function listNotes(ctx: RequestContext, actor: Actor, q: { tender_id?: string; limit: number; cursor?: string }) {
  // With a tender, the list holds notes shared by fellow members (both memberships checked in the
  // query): read on the primary, never a lagging replica (docs/consistency.md).
  const rows = await notesRepo(q.tender_id ? primaryDb(ctx.env) : ctx.db, ownerOf(actor)).list({ tenderId: q.tender_id, before: decodeCursor(q.cursor), limit: q.limit });
  return toPage(rows, q.limit, (r) => r.id, (r) => toNoteOut(r, actor.userId));
}

/** PATCH /me/notes/{id}: a foreign or missing note → 404; sharing where the caller may not → 404 / 403. */
export async function updateNote(ctx: RequestContext, actor: Actor, id: string, input: UpdateNoteInput) {
  const { db, now } = ctx;
  const repo = notesRepo(db, ownerOf(actor));
  let organizationId: string | null | undefined;
  if (input.is_shared === true && input.organization_id === undefined) {
    // Already shared: stays with its organization; else the default organization.
    const [current] = await repo.byId(id);
    if (!current) throw new AppError("not_found", "Note not found");
    organizationId = current.organizationId ?? (await sharingTarget(ctx, actor, true, undefined));
  } else {
    organizationId = await sharingTarget(ctx, actor, input.is_shared, input.organization_id);
  }
  // note.shared when this edit moves the note into an organization (not for an edit of a note
  // already shared there): the event goes BEFORE the update, guarded by that update's own guard.
  const before = organizationId ? (await repo.byId(id))[0] : undefined;
  const shared =
    organizationId && before && before.organizationId !== organizationId
      ? await noteSharedEvent(
          ctx,
          actor,
          {
            ...before,
            noteText: input.note_text ?? before.noteText,
            noteType: input.note_type ?? before.noteType,
            organizationId,
            updatedAt: now,
          },
          repo.willShareAnew(id, organizationId),
        )
      : [];
  const results = await runBatch(ctx, [
    ...shared,
    repo.update(id, { noteText: input.note_text, noteType: input.note_type, organizationId }, now),
    auditInsertIf(
      db,
      ctx,
      { userId: actor.userId, action: "note.updated", details: { note_id: id, organization_id: organizationId ?? null, sharing_changed: organizationId !== undefined } },
      repo.exists(id, now),
    ),
    repo.byId(id),
  ]);
  const updated = results[shared.length] as unknown[];
  const [current] = results[shared.length + 2] as NoteView[];
  if (!current) throw new AppError("not_found", "Note not found");
  if (updated.length === 0) {
    // Only a share can be refused (the guard is the right to share with `organizationId`).
    throw (organizationId ? await shareRefusal(ctx, actor, organizationId) : null) ?? new AppError("conflict", "The note changed meanwhile; try again");
  }
  return toNoteOut(current, actor.userId);
}

export async function deleteNote(ctx: RequestContext, actor: Actor, id: string) {
  const { db } = ctx;
  const repo = notesRepo(db, ownerOf(actor));
  const [, removed] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "note.deleted", details: { note_id: id } }, repo.exists(id)),
    repo.remove(id),
  ]);
  if (removed.length === 0) throw new AppError("not_found", "Note not found");
}
