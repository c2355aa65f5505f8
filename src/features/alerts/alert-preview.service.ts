import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { rateLimit } from "../../platform/rate-limit";
import { DAY } from "../../platform/time";
import { isUrgent } from "../tenders/ingest";
import { compileCriteria, matchesTender, prepareTender, toFtsQuery } from "../tenders/match";
import { matchReasons } from "../tenders/match-reasons";
import { toTenderOut } from "../tenders/tenders.schemas";
import type { TenderRow } from "../tenders/tenders.repo";
import { firstMatchCandidates } from "./alert-matching.repo";
import type { AlertPreviewInput } from "./alert-preview.schemas";

export const PREVIEW_DAYS = 30;
/** Tenders a preview examines at most (newest first): one indexed range read, FTS-narrowed when there are keywords. */
export const PREVIEW_SCAN_MAX = 5_000;
export const PREVIEW_SAMPLE = 10;
/** The default daily cap of immediate alert emails (user_preferences.max_alerts_per_day). */
const DEFAULT_MAX_PER_DAY = 50;
const WEEKS = PREVIEW_DAYS / 7;

/**
 * POST /me/alerts/preview: what these criteria would have matched in the last 30 days. Rate
 * limited per user before any read (RATE_ALERT_PREVIEW_PER_USER), and bounded: at most
 * PREVIEW_SCAN_MAX tenders, the same candidates query as a new alert's first match.
 */
export async function previewAlert(ctx: RequestContext, actor: Actor, input: AlertPreviewInput) {
  await rateLimit(ctx.env, `alert-preview:user:${actor.userId}`, ctx.config.RATE_ALERT_PREVIEW_PER_USER);
  const compiled = compileCriteria(input.criteria);
  const fts = compiled.keywords ? toFtsQuery(compiled.keywords) : null;
  const since = new Date(ctx.now.getTime() - PREVIEW_DAYS * DAY);
  const candidates = compiled.keywords && fts === null ? [] : await firstMatchCandidates(ctx.db, { since, limit: PREVIEW_SCAN_MAX, fts, excludeFts: toFtsQuery(compiled.excludes) });
  const matches = candidates.filter((t) => matchesTender(compiled, prepareTender(t), ctx.now)).sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  return {
    matches_last_30_days: matches.length,
    scanned: candidates.length,
    // With keywords the FTS narrows the newest PREVIEW_SCAN_MAX, so a full scan window means there may be more.
    scan_capped: candidates.length >= PREVIEW_SCAN_MAX,
    sample: matches.slice(0, PREVIEW_SAMPLE).map((t) => ({ tender: toTenderOut(t, isUrgent(t.closingDate, ctx.now)), reasons: matchReasons(input.criteria, t) })),
    expected_emails_per_week: expectedEmailsPerWeek(matches, input.notification_frequency ?? "immediate", ctx.now),
  };
}

/** See AlertPreviewSchema.expected_emails_per_week; one decimal. */
export function expectedEmailsPerWeek(matches: readonly Pick<TenderRow, "updatedAt">[], frequency: "immediate" | "daily_digest" | "weekly_digest", now: Date): number {
  const round = (n: number) => Math.round(n * 10) / 10;
  if (frequency === "immediate") return round(Math.min(matches.length / WEEKS, 7 * DEFAULT_MAX_PER_DAY));
  const bucket = frequency === "daily_digest" ? DAY : 7 * DAY;
  const buckets = new Set(matches.map((m) => Math.floor((now.getTime() - m.updatedAt.getTime()) / bucket)));
  return round(Math.min(buckets.size / WEEKS, frequency === "daily_digest" ? 7 : 1));
}
