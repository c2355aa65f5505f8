import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { AlertMatchFeedPage, AlertMatchFeedQuery } from "./alert-feed.schemas";
import { alertMatchFeed } from "./alert-feed.service";

const feedRoute = securedRoute({ scope: "read:alerts" }, {
  method: "get",
  path: `${API}/me/alerts/matches`,
  tags: ["Alerts"],
  summary: "Change feed of the matches of every alert of the caller, oldest first, with stable cursors (keep sync_cursor and poll with it)",
  request: { query: AlertMatchFeedQuery },
  responses: { 200: jsonResponse(AlertMatchFeedPage, "A page of matches"), ...problemResponses(422) },
});

/** Registered before the alert routes: `/me/alerts/matches` is not an alert id. */
export function registerAlertFeed(app: App): void {
  app.openapi(feedRoute, async (c) => c.json(await alertMatchFeed(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
}
