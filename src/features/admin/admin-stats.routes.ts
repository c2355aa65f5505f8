import { z } from "@hono/zod-openapi";
import type { App, RequestContext } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { loadStats, SCORE_BUCKETS } from "./admin-stats.repo";
import { DAY } from "../../platform/time";

const WINDOW_DAYS = 30;

const StatsSchema = z
  .object({
    total_users: z.number().int(),
    active_users: z.number().int(),
    verified_users: z.number().int(),
    new_users_30d: z.number().int(),
    logins_by_day: z.array(z.object({ date: z.string().openapi({ example: "2026-11-22" }), logins: z.number().int() })).openapi({
      description: "The last 30 UTC days, oldest first, days without a sign-in included with 0",
    }),
    new_users_by_day: z.array(z.object({ date: z.string().openapi({ example: "2026-11-22" }), users: z.number().int() })).openapi({
      description: "Accounts created per UTC day over the last 30 days, oldest first, zero days included",
    }),
    engagement: z
      .object({
        users_with_activity_30d: z.number().int(),
        average_score: z.number().nullable().openapi({ description: "Mean daily engagement_score over the window; null without data" }),
        active_user_days_30d: z.number().int(),
        score_distribution: z.array(z.object({ bucket: z.string(), users: z.number().int() })).openapi({
          description: "Users by their average daily score over the window",
        }),
      })
      .openapi({ description: "From the daily engagement roll-up (engagement_daily), filled by the nightly job" }),
    parked_tenders: z.number().int().openapi({
      description: "Tenders whose alert matching failed MATCH_MAX_ATTEMPTS times: no longer resent by the cron; a changed re-ingest tries them again",
    }),
  })
  .openapi("AdminStats");

const statsRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "get",
  path: `${API}/admin/stats`,
  tags: ["Administration"],
  summary: "User totals, sign-ins per day and engagement over the last 30 days",
  responses: { 200: jsonResponse(StatsSchema, "Statistics"), ...problemResponses() },
});

async function adminStats(ctx: RequestContext): Promise<z.infer<typeof StatsSchema>> {
  const s = await loadStats(ctx.db, ctx.now, WINDOW_DAYS);
  const perDay = new Map(s.logins.map((r) => [r.day, Number(r.logins)]));
  const first = Date.parse(`${s.firstDay}T00:00:00Z`);
  const byBucket = new Map(s.distribution.map((r) => [r.bucket, Number(r.users)]));
  const signupsPerDay = new Map(s.signups.map((r) => [r.day, Number(r.users)]));
  const dayOf = (i: number) => new Date(first + i * DAY).toISOString().slice(0, 10);
  return {
    total_users: Number(s.totals.total),
    active_users: Number(s.totals.active),
    verified_users: Number(s.totals.verified),
    new_users_30d: Number(s.totals.recent),
    parked_tenders: s.parkedTenders,
    logins_by_day: Array.from({ length: WINDOW_DAYS }, (_, i) => ({ date: dayOf(i), logins: perDay.get(dayOf(i)) ?? 0 })),
    new_users_by_day: Array.from({ length: WINDOW_DAYS }, (_, i) => ({ date: dayOf(i), users: signupsPerDay.get(dayOf(i)) ?? 0 })),
    engagement: {
      users_with_activity_30d: Number(s.engagement.users),
      average_score: s.engagement.average === null ? null : Math.round(s.engagement.average * 100) / 100,
      active_user_days_30d: Number(s.engagement.days),
      score_distribution: SCORE_BUCKETS.map((b) => ({ bucket: b.bucket, users: byBucket.get(b.bucket) ?? 0 })),
    },
  };
}

export function registerAdminStats(app: App): void {
  app.openapi(statsRoute, async (c) => c.json(await adminStats(c.var.ctx), 200));
}
