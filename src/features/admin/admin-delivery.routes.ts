import { z } from "@hono/zod-openapi";
import type { App, RequestContext } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { DAY } from "../../platform/time";
import { FREQUENCIES, loadDelivery } from "./admin-delivery.repo";

const count = z.number().int().nonnegative();

const WindowSchema = z
  .object({
    emails: z
      .object({
        queued: count.openapi({ description: "Emails written to the outbox in the window" }),
        sent: count.openapi({ description: "Of those, taken by the provider" }),
        failed: count.openapi({ description: "Of those, given up after retries or refused" }),
        pending: count.openapi({ description: "Of those, not delivered yet" }),
        suppressed: count.openapi({ description: "Addresses suppressed in the window (alert and digest mail no longer sent to them)" }),
      })
      .openapi({ description: "By the time the email was queued" }),
    matches_by_frequency: z
      .object({ immediate: count, daily_digest: count, weekly_digest: count })
      .openapi({ description: "Alert matches made in the window, by their alert's notification_frequency" }),
    digests_sent: z.object({ daily: count, weekly: count }).openapi({ description: "Digest emails queued in the window and taken by the provider" }),
    reminders_sent: count.openapi({ description: "Reminder marks reached in the window (one per favorite and mark)" }),
    change_notices: count.openapi({ description: "tender_changed notifications written in the window" }),
  })
  .openapi("AdminDeliveryWindow");

const DeliverySchema = z
  .object({
    generated_at: z.string().datetime(),
    last_24h: WindowSchema,
    last_7d: WindowSchema,
    digests_due: count.openapi({ description: "Users whose next digest look is due now (the digest job's backlog)" }),
    oldest_pending_tender: z
      .object({ id: z.string(), title: z.string(), pending_since: z.string().datetime(), attempts: count })
      .nullable()
      .openapi({ description: "The tender waiting longest for alert matching; null when none waits" }),
    pending_tenders: count.openapi({ description: "Tenders waiting for alert matching" }),
    parked_tenders: count.openapi({ description: "Tenders whose matching failed MATCH_MAX_ATTEMPTS times: no longer resent" }),
  })
  .openapi("AdminDelivery");

const deliveryRoute = securedRoute({ session: true, permission: "admin:system" }, {
  method: "get",
  path: `${API}/admin/delivery`,
  tags: ["Administration"],
  summary: "Email, match, digest, reminder and change-notice figures for the last 24 hours and 7 days",
  responses: { 200: jsonResponse(DeliverySchema, "Delivery figures"), ...problemResponses() },
});

type Row = { day: number; week: number };
const pick = (rows: Row[], w: "day" | "week") => rows.reduce((n, r) => n + Number(r[w]), 0);

async function adminDelivery(ctx: RequestContext): Promise<z.infer<typeof DeliverySchema>> {
  const now = ctx.now.getTime();
  const d = await loadDelivery(ctx.db, now, now - DAY, now - 7 * DAY);
  const window = (w: "day" | "week"): z.infer<typeof WindowSchema> => {
    const of = (f: (r: { template: string; status: string }) => boolean) => pick(d.emails.filter(f), w);
    return {
      emails: {
        queued: of(() => true),
        sent: of((r) => r.status === "sent"),
        failed: of((r) => r.status === "failed"),
        pending: of((r) => r.status === "pending"),
        suppressed: Number(d.suppressed[w]),
      },
      matches_by_frequency: Object.fromEntries(FREQUENCIES.map((f) => [f, pick(d.matches.filter((r) => r.frequency === f), w)])) as Record<(typeof FREQUENCIES)[number], number>,
      digests_sent: {
        daily: of((r) => r.template === "daily_digest" && r.status === "sent"),
        weekly: of((r) => r.template === "weekly_digest" && r.status === "sent"),
      },
      reminders_sent: Number(d.reminders[w]),
      change_notices: Number(d.notices[w]),
    };
  };
  const o = d.oldestPending;
  return {
    generated_at: ctx.now.toISOString(),
    last_24h: window("day"),
    last_7d: window("week"),
    digests_due: d.digestsDue,
    oldest_pending_tender: o ? { id: o.id, title: o.title, pending_since: new Date(Number(o.pending_since)).toISOString(), attempts: Number(o.attempts) } : null,
    pending_tenders: d.pendingTenders,
    parked_tenders: d.parkedTenders,
  };
}

export function registerAdminDelivery(app: App): void {
  app.openapi(deliveryRoute, async (c) => c.json(await adminDelivery(c.var.ctx), 200));
}
