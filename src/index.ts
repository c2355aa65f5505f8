import { env } from "cloudflare:workers";
import { newApp, ROUTE_GROUPS, warmHotQueries } from "./app";
import type { AlertMatchingJob, EmailJob, Env, WebhookJob } from "./env";
import { serviceContext, waitUntilOf } from "./platform/context";
import { log } from "./platform/log";
import { buildStartupGroups } from "./platform/lazy-routes";
import { warmUp } from "./platform/warm-up";

export { RateLimiter } from "./durable-objects/rate-limiter";
export { SignInGuard } from "./durable-objects/sign-in-guard";
export { NotificationHub } from "./durable-objects/notification-hub";

const app = newApp();
// The first request's once-per-isolate work done at startup (issue 20, point 3): the config parse,
// the JWT key import, the routers (the main one and GET /me's group), the hot path's SQL.
warmUp(env, app.router);
buildStartupGroups(ROUTE_GROUPS);
warmHotQueries(env);
// The queue consumers and the cron jobs load on their first batch or tick: a cold start for a
// request evaluates none of their code (issue 20, point 3).

export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<EmailJob | AlertMatchingJob | WebhookJob>, env: Env, executionCtx?: ExecutionContext): Promise<void> {
    const ctx = () => serviceContext(env, { waitUntil: waitUntilOf(executionCtx) });
    switch (batch.queue) {
      case "email":
        return (await import("./jobs/email.consumer")).consumeEmailBatch(ctx(), batch as MessageBatch<EmailJob>);
      case "alert-matching":
        return (await import("./jobs/alert-matching.consumer")).consumeAlertMatchingBatch(ctx(), batch as MessageBatch<AlertMatchingJob>);
      case "webhooks":
        return (await import("./jobs/webhooks.consumer")).consumeWebhookBatch(ctx(), batch as MessageBatch<WebhookJob>);
      default:
        log.warn("no consumer for queue", { queue: batch.queue, count: batch.messages.length });
        batch.retryAll({ delaySeconds: 300 });
    }
  },

  async scheduled(controller: ScheduledController, env: Env, executionCtx?: ExecutionContext): Promise<void> {
    const { runScheduled } = await import("./jobs/cron");
    const report = await runScheduled(env, controller.scheduledTime, { waitUntil: waitUntilOf(executionCtx) });
    log.info("cron done", { cron: controller.cron, ...report });
  },
} satisfies ExportedHandler<Env, EmailJob | AlertMatchingJob | WebhookJob>;
