import type { Actor } from "../../identity/actor";
import { ownerOf } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { feedPage, feedStart } from "../../platform/feed";
import { isUrgent } from "./ingest";
import { changedTenders } from "./tender-feed.repo";
import { viewPreferences } from "./tenders.service";
import { toTenderOut, type ListTendersQuery } from "./tenders.schemas";

/** The search parameters a change feed does not take: it serves every tender that changed. */
const NOT_IN_FEED = ["q", "states", "departments", "min_value", "max_value", "closing_after", "closing_before", "sort", "include_expired"] as const;

/**
 * GET /tenders?updated_since= : every tender inserted or changed since, expired ones included,
 * oldest change first, with stable cursors (platform/feed.ts).
 */
export async function tenderFeed(ctx: RequestContext, actor: Actor, query: ListTendersQuery & { updated_since: string }) {
  const extra = NOT_IN_FEED.filter((k) => query[k] !== undefined);
  if (extra.length) {
    throw new AppError("validation_failed", "updated_since takes only limit and cursor", { errors: extra.map((path) => ({ path, message: "Not with updated_since" })) });
  }
  const prefs = await viewPreferences(ctx, ownerOf(actor));
  const limit = query.limit ?? Math.min(100, Math.max(1, prefs.tendersPerPage));
  const start = feedStart(query.cursor, new Date(query.updated_since));
  const rows = await changedTenders(ctx.db, start, ctx.now, limit);
  return feedPage(rows, limit, start, (r) => ({ at: r.updatedAt.getTime(), id: r.id }), (r) => toTenderOut(r, prefs.highlightUrgent && isUrgent(r.closingDate, ctx.now)));
}
