import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { ConditionalGetHeaders, ConditionalWriteHeaders, ifMatchOf, jsonResponseWithETag, jsonWithETag, jsonWithNewETag, NotModified } from "../../platform/etag";
import { AlertMatchPage, AlertPage, AlertSchema, CreateAlertInput, UpdateAlertInput } from "./alerts.schemas";
import { createAlert, deleteAlert, getAlert, listAlertMatches, listAlerts, updateAlert } from "./alerts.service";

import { AlertPreviewInput, AlertPreviewSchema } from "./alert-preview.schemas";
import { previewAlert } from "./alert-preview.service";

const tags = ["Alerts"];

const createRoute = securedRoute({ scope: "write:alerts" }, {
  method: "post",
  path: `${API}/me/alerts`,
  tags,
  summary: "Create an alert; 409 limit_reached at the plan's max_alerts. An immediate alert is matched at once against the last 7 days of tenders",
  request: jsonBody(CreateAlertInput),
  responses: { 201: jsonResponse(AlertSchema, "Created"), ...problemResponses(400, 409, 422) },
});

const listRoute = securedRoute({ scope: "read:alerts" }, {
  method: "get",
  path: `${API}/me/alerts`,
  tags,
  summary: "The user's alerts, newest first",
  request: { query: PageQuery },
  responses: { 200: jsonResponse(AlertPage, "A page of alerts"), ...problemResponses(422) },
});

const getRoute = securedRoute({ scope: "read:alerts" }, {
  method: "get",
  path: `${API}/me/alerts/{id}`,
  tags,
  summary: "One alert",
  request: { params: IdParam, headers: ConditionalGetHeaders },
  responses: { 200: jsonResponseWithETag(AlertSchema, "The alert"), ...NotModified, ...problemResponses(404) },
});

const updateRoute = securedRoute({ scope: "write:alerts" }, {
  method: "patch",
  path: `${API}/me/alerts/{id}`,
  tags,
  summary: "Change an alert; criteria, when given, replace the old ones whole",
  request: { params: IdParam, headers: ConditionalWriteHeaders, ...jsonBody(UpdateAlertInput) },
  responses: { 200: jsonResponseWithETag(AlertSchema, "The alert"), ...problemResponses(400, 404, 412, 422) },
});

const deleteRoute = securedRoute({ scope: "write:alerts" }, {
  method: "delete",
  path: `${API}/me/alerts/{id}`,
  tags,
  summary: "Delete an alert and its matches",
  request: { params: IdParam, headers: ConditionalWriteHeaders },
  responses: { 204: NoContent, ...problemResponses(404, 412) },
});

const matchesRoute = securedRoute({ scope: "read:alerts" }, {
  method: "get",
  path: `${API}/me/alerts/{id}/matches`,
  tags,
  summary: "The tenders this alert matched, newest first, with matched_at and notification_status",
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(AlertMatchPage, "A page of matches"), ...problemResponses(404, 422) },
});

const previewRoute = securedRoute({ scope: "read:alerts" }, {
  method: "post",
  path: `${API}/me/alerts/preview`,
  tags,
  summary: "What criteria would have matched in the last 30 days: the count, 10 samples with their reasons, the expected emails per week (rate limited per user; bounded scan)",
  request: jsonBody(AlertPreviewInput),
  responses: { 200: jsonResponse(AlertPreviewSchema, "The preview"), ...problemResponses(400, 422, 429) },
});

export function registerAlerts(app: App): void {
  app.openapi(previewRoute, async (c) => c.json(await previewAlert(c.var.ctx, c.var.actor, c.req.valid("json")), 200));
  app.openapi(createRoute, async (c) => c.json(await createAlert(c.var.ctx, c.var.actor, c.req.valid("json")), 201));
  app.openapi(listRoute, async (c) => c.json(await listAlerts(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(getRoute, async (c) => jsonWithETag(c, await getAlert(c.var.ctx, c.var.actor, c.req.valid("param").id)));
  app.openapi(updateRoute, async (c) =>
    jsonWithNewETag(c, await updateAlert(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json"), ifMatchOf(c.req.header("If-Match")))),
  );
  app.openapi(deleteRoute, async (c) => {
    await deleteAlert(c.var.ctx, c.var.actor, c.req.valid("param").id, ifMatchOf(c.req.header("If-Match")));
    return c.body(null, 204);
  });
  app.openapi(matchesRoute, async (c) => c.json(await listAlertMatches(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("query")), 200));
}
