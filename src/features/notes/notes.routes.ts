import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { CreateNoteInput, NotePage, NoteSchema, NotesQuery, UpdateNoteInput } from "./notes.schemas";
import { createNote, deleteNote, listNotes, updateNote } from "./notes.service";

const tags = ["Notes"];

const createRoute = securedRoute({ scope: "write:notes" }, {
  method: "post",
  path: `${API}/me/notes`,
  tags,
  summary: "Write a note on a tender (optionally shared with one of the author's organizations)",
  description: "A user holds at most MAX_NOTES_PER_USER notes (default 5,000): over it → 409 limit_reached.",
  request: jsonBody(CreateNoteInput),
  responses: { 201: jsonResponse(NoteSchema, "Created"), ...problemResponses(400, 404, 409, 422) },
});

const listRoute = securedRoute({ scope: "read:notes" }, {
  method: "get",
  path: `${API}/me/notes`,
  tags,
  summary: "The user's own notes, newest first; with ?tender_id=, also the notes shared with the user's organizations on that tender",
  request: { query: NotesQuery },
  responses: { 200: jsonResponse(NotePage, "A page of notes"), ...problemResponses(422) },
});

const updateRoute = securedRoute({ scope: "write:notes" }, {
  method: "patch",
  path: `${API}/me/notes/{id}`,
  tags,
  summary: "Edit a note's text, type or sharing",
  request: { params: IdParam, ...jsonBody(UpdateNoteInput) },
  responses: { 200: jsonResponse(NoteSchema, "The note"), ...problemResponses(400, 404, 422) },
});

const deleteRoute = securedRoute({ scope: "write:notes" }, {
  method: "delete",
  path: `${API}/me/notes/{id}`,
  tags,
  summary: "Delete a note",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(404) },
});

export function registerNotes(app: App): void {
  app.openapi(createRoute, async (c) => c.json(await createNote(c.var.ctx, c.var.actor, c.req.valid("json")), 201));
  app.openapi(listRoute, async (c) => c.json(await listNotes(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(updateRoute, async (c) => c.json(await updateNote(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(deleteRoute, async (c) => {
    await deleteNote(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
