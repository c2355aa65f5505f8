import type { OrgMembership } from "../../identity/membership";
import type { RequestContext } from "../../platform/context";
import { decodeCursor, toPage } from "../../platform/pagination";
import { toNoteOut } from "./notes.schemas";
import { orgSharedNotes } from "./org-notes.repo";

/** The notes shared with the organization, a page of them (`own` is the reader's; always false for an organization key). */
export async function listOrgNotes(ctx: RequestContext, m: OrgMembership, page: { limit: number; cursor?: string }) {
  const rows = await orgSharedNotes(ctx.db, m, { limit: page.limit, before: decodeCursor(page.cursor) });
  return toPage(rows, page.limit, (r) => r.id, (r) => toNoteOut(r, m.userId));
}
