import { z } from "@hono/zod-openapi";
import { PageQuery, pageOf } from "../../platform/pagination";
import type { NoteView } from "./notes.repo";

export const NOTE_TYPES = ["general", "technical", "financial", "risk"] as const;

const SHARING =
  "A shared note is shared with exactly one organization: `organization_id`, or, when omitted, the caller's only organization where the caller " +
  "is owner, admin or member (422 when there are several and none is named; 403 forbidden when there is none: a viewer cannot share). " +
  "Its members see it on GET /tenders/{id} and GET /me/notes?tender_id= while the author is still a member. `is_shared: false` unshares.";
const ORGANIZATION_ID =
  "The organization to share the note with (implies is_shared). The caller must be its owner, admin or member (a viewer gets 403; " +
  "an organization the caller does not belong to is 404).";

export const CreateNoteInput = z
  .strictObject({
    tender_id: z.string().min(1).max(64),
    note_text: z.string().trim().min(1).max(10_000),
    note_type: z.enum(NOTE_TYPES).default("general"),
    is_shared: z.boolean().optional().openapi({ description: SHARING }),
    organization_id: z.string().min(1).max(64).optional().openapi({ description: ORGANIZATION_ID }),
  })
  .openapi("CreateNoteInput");
export type CreateNoteInput = z.infer<typeof CreateNoteInput>;

export const UpdateNoteInput = z
  .strictObject({
    note_text: z.string().trim().min(1).max(10_000).optional(),
    note_type: z.enum(NOTE_TYPES).optional(),
    is_shared: z.boolean().optional().openapi({ description: SHARING }),
    organization_id: z.string().min(1).max(64).nullable().optional().openapi({ description: `${ORGANIZATION_ID} null unshares.` }),
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
    organization_id: z.string().nullable().openapi({ description: "The organization the note is shared with; null when private" }),
    own: z.boolean().openapi({ description: "Written by the caller" }),
    author: z.object({ id: z.string(), full_name: z.string() }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Note");

export const NotePage = pageOf(NoteSchema).openapi("NotePage");

export const toNoteOut = (row: NoteView, viewerId: string): z.infer<typeof NoteSchema> => ({
  id: row.id,
  tender_id: row.tenderId,
  note_text: row.noteText,
  note_type: row.noteType,
  is_shared: row.organizationId !== null,
  organization_id: row.organizationId,
  own: row.userId === viewerId,
  author: { id: row.userId, full_name: row.authorName },
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});
