import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { CreateSavedSearchInput, RunSavedSearchQuery, SavedSearchPage, SavedSearchRunSchema, SavedSearchSchema } from "./saved-searches.schemas";
import { createSavedSearch, deleteSavedSearch, listSavedSearches, runSavedSearch } from "./saved-searches.service";

const tags = ["Saved searches"];

const createRoute = securedRoute({ scope: "write:searches" }, {
  method: "post",
  path: `${API}/me/saved-searches`,
  tags,
  summary: "Save a search (query = alert criteria); 409 limit_reached at the plan's max_saved_searches",
  request: jsonBody(CreateSavedSearchInput),
  responses: { 201: jsonResponse(SavedSearchSchema, "Saved"), ...problemResponses(400, 409, 422) },
});

const listRoute = securedRoute({ scope: "read:searches" }, {
  method: "get",
  path: `${API}/me/saved-searches`,
  tags,
  summary: "The user's saved searches, newest first",
  request: { query: PageQuery },
  responses: { 200: jsonResponse(SavedSearchPage, "A page of saved searches"), ...problemResponses(422) },
});

const deleteRoute = securedRoute({ scope: "write:searches" }, {
  method: "delete",
  path: `${API}/me/saved-searches/{id}`,
  tags,
  summary: "Delete a saved search",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(404) },
});

const runRoute = securedRoute({ scope: "read:searches" }, {
  method: "post",
  path: `${API}/me/saved-searches/{id}/run`,
  tags,
  summary: "The tenders that match the saved search now; the first page counts a use (use_count, last_used_at) and a search (engagement)",
  request: { params: IdParam, query: RunSavedSearchQuery },
  responses: { 200: jsonResponse(SavedSearchRunSchema, "Matching tenders"), ...problemResponses(404, 422) },
});

export function registerSavedSearches(app: App): void {
  app.openapi(createRoute, async (c) => c.json(await createSavedSearch(c.var.ctx, c.var.actor, c.req.valid("json")), 201));
  app.openapi(listRoute, async (c) => c.json(await listSavedSearches(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(deleteRoute, async (c) => {
    await deleteSavedSearch(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(runRoute, async (c) => c.json(await runSavedSearch(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("query")), 200));
}
