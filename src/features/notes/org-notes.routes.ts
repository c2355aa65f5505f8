import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonResponse } from "../../platform/route-helpers";
import { NotePage } from "./notes.schemas";
import { listOrgNotes } from "./org-notes.service";

const sharedNotesRoute = securedRoute({ session: true, orgAction: "shared.read", orgKey: "read:shared" }, {
  method: "get",
  path: `${API}/orgs/{id}/notes`,
  tags: ["Organizations"],
  summary: "Notes members shared with the organization, newest first",
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(NotePage, "Notes"), ...problemResponses(422) },
});

/** GET /orgs/{id}/notes (issue 18.6: what an organization key with read:shared reads, beside shared favorites). */
export function registerOrgNotes(app: App): void {
  app.openapi(sharedNotesRoute, async (c) => c.json(await listOrgNotes(c.var.ctx, c.var.membership, c.req.valid("query")), 200));
}
