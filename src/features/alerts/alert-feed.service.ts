import type { z } from "@hono/zod-openapi";
import type { Actor } from "../../identity/actor";
import { ownerOf } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { feedPage, feedStart } from "../../platform/feed";
import { matchesAfter } from "./alert-feed.repo";
import type { AlertMatchFeedQuery } from "./alert-feed.schemas";
import { toAlertMatchOut } from "./alerts.schemas";

/** GET /me/alerts/matches: the change feed of every alert of the caller (platform/feed.ts). */
export async function alertMatchFeed(ctx: RequestContext, actor: Actor, q: z.infer<typeof AlertMatchFeedQuery>) {
  const start = feedStart(q.cursor, q.since ? new Date(q.since) : undefined);
  const rows = await matchesAfter(ctx.db, ownerOf(actor), start, ctx.now, q.limit);
  return feedPage(rows, q.limit, start, (r) => ({ at: r.match.matchedAt.getTime(), id: r.match.id }), (r) => ({ ...toAlertMatchOut(r), alert_id: r.match.alertId }));
}
