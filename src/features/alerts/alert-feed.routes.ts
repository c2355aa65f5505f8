import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import { ownerOf } from "../../identity/owner";
import type { App, RequestContext } from "../../platform/context";
import type { Actor } from "../../identity/actor";
import { feedPage, feedStart, SYNC_CURSOR } from "../../platform/feed";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { AlertMatchSchema, toAlertMatchOut } from "./alerts.schemas";
import { matchesAfter } from "./alert-feed.repo";

export const AlertMatchFeedQuery = z.object({
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Matches recorded at or after this instant (default: all); ignored with cursor" }),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(500).optional(),
});

export const AlertMatchFeedPage = z
  .object({
    items: z.array(AlertMatchSchema.extend({ alert_id: z.string() })),
    next_cursor: z.string().nullable(),
    sync_cursor: SYNC_CURSOR,
  })
  .openapi("AlertMatchFeedPage", { description: "Oldest first" });

/** GET /me/alerts/matches: the change feed of every alert of the caller (platform/feed.ts). */
export async function alertMatchFeed(ctx: RequestContext, actor: Actor, q: z.infer<typeof AlertMatchFeedQuery>) {
  const start = feedStart(q.cursor, q.since ? new Date(q.since) : undefined);
  const rows = await matchesAfter(ctx.db, ownerOf(actor), start, ctx.now, q.limit);
  return feedPage(rows, q.limit, start, (r) => ({ at: r.match.matchedAt.getTime(), id: r.match.id }), (r) => ({ ...toAlertMatchOut(r), alert_id: r.match.alertId }));
}

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
