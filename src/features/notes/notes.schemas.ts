import { z } from "@hono/zod-openapi";
import { PageQuery, pageOf } from "../../platform/pagination";
import type { NoteRow } from "./notes.repo";

export const NOTE_TYPES = ["general", "technical", "financial", "risk"] as const;

const SHARING =
  "Shared notes are visible on GET /tenders/{id} to the members of every organization the author belongs to. " +
  "Sharing needs the role owner, admin or member in at least one organization: a viewer-only user, or a user in no organization, gets 403 forbidden.";

export const CreateNoteInput = z
  .strictObject({
    tender_id: z.string().min(1).max(64),
    note_text: z.string().trim().min(1).max(10_000),
    note_type: z.enum(NOTE_TYPES).default("general"),
    is_shared: z.boolean().default(false).openapi({ description: SHARING }),
  })
  .openapi("CreateNoteInput");
export type CreateNoteInput = z.infer<typeof CreateNoteInput>;

export const UpdateNoteInput = z
  .strictObject({
    note_text: z.string().trim().min(1).max(10_000).optional(),
    note_type: z.enum(NOTE_TYPES).optional(),
    is_shared: z.boolean().optional().openapi({ description: SHARING }),
  })
  .openapi("UpdateNoteInput");
export type UpdateNoteInput = z.infer<typeof UpdateNoteInput>;

export const NotesQuery = PageQuery.extend({ tender_id: z.string().max(64).optional() });

export const NoteSchema = z
  .object({
    id: z.string(),
    tender_id: z.string(),
    note_text: z.string(),
    note_type: z.enum(NOTE_TYPES),
    is_shared: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Note");

export const NotePage = pageOf(NoteSchema).openapi("NotePage");

export const toNoteOut = (row: NoteRow): z.infer<typeof NoteSchema> => ({
  id: row.id,
  tender_id: row.tenderId,
  note_text: row.noteText,
  note_type: row.noteType,
  is_shared: row.isShared,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});
