import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse } from "../../platform/route-helpers";
import {
  IngestTendersInput,
  IngestTendersResult,
  ListTendersQuery,
  TenderDetailSchema,
  TenderPage,
  TenderViewQuery,
} from "./tenders.schemas";
import { getTender, ingestTenders, listTenders } from "./tenders.service";
import { tenderFeed } from "./tender-feed.service";

const tags = ["Tenders"];

// The permission is checked at every use: a write:tenders key whose owner lost admin:system is refused.
const ingestRoute = securedRoute({ scope: "write:tenders", permission: "admin:system" }, {
  method: "post",
  path: `${API}/tenders`,
  tags,
  summary: "Bulk upsert of up to 500 tenders by external_id; new and changed tenders are queued for alert matching",
  request: jsonBody(IngestTendersInput),
  responses: { 200: jsonResponse(IngestTendersResult, "Counts of inserted and changed tenders"), ...problemResponses(400, 413, 422) },
});

const listRoute = securedRoute({ scope: "read:tenders" }, {
  method: "get",
  path: `${API}/tenders`,
  tags,
  summary: "Search tenders: keyword rule for q, filters, sorts; the caller's preferences give the defaults. With updated_since: the change feed",
  description: "A request with `q` and no `cursor` counts as one search in the engagement roll-up (recorded after the response; the text is not kept).",
  request: { query: ListTendersQuery },
  responses: { 200: jsonResponse(TenderPage, "A page of tenders"), ...problemResponses(422) },
});

const getRoute = securedRoute({ scope: "read:tenders" }, {
  method: "get",
  path: `${API}/tenders/{id}`,
  tags,
  summary: "A tender with the caller's notes and the notes shared with the caller's organizations (newest 50, needs read:notes for API keys); records a view",
  request: { params: IdParam, query: TenderViewQuery },
  responses: { 200: jsonResponse(TenderDetailSchema, "The tender"), ...problemResponses(404, 422) },
});

export function registerTenders(app: App): void {
  app.openapi(ingestRoute, async (c) => {
    const { inserted, updated } = await ingestTenders(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.json({ inserted, updated }, 200);
  });
  app.openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { updated_since } = query;
    if (updated_since !== undefined) return c.json(await tenderFeed(c.var.ctx, c.var.actor, { ...query, updated_since }), 200);
    return c.json(await listTenders(c.var.ctx, c.var.actor, query), 200);
  });
  app.openapi(getRoute, async (c) =>
    c.json(await getTender(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("query").source), 200),
  );
}
