import { newApp } from "./app";
import type { AlertMatchingJob, EmailJob, Env, WebhookJob } from "./env";
import { runScheduled } from "./jobs/cron";
import { consumeEmailBatch } from "./jobs/email.consumer";
import { consumeAlertMatchingBatch } from "./jobs/alert-matching.consumer";
import { consumeWebhookBatch } from "./jobs/webhooks.consumer";
import { serviceContext, waitUntilOf } from "./platform/context";
import { log } from "./platform/log";

export { RateLimiter } from "./durable-objects/rate-limiter";
export { SignInGuard } from "./durable-objects/sign-in-guard";
export { NotificationHub } from "./durable-objects/notification-hub";

const app = newApp();

export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<EmailJob | AlertMatchingJob | WebhookJob>, env: Env, executionCtx?: ExecutionContext): Promise<void> {
    const ctx = () => serviceContext(env, { waitUntil: waitUntilOf(executionCtx) });
    switch (batch.queue) {
      case "email":
        return consumeEmailBatch(ctx(), batch as MessageBatch<EmailJob>);
      case "alert-matching":
        return consumeAlertMatchingBatch(ctx(), batch as MessageBatch<AlertMatchingJob>);
      case "webhooks":
        return consumeWebhookBatch(ctx(), batch as MessageBatch<WebhookJob>);
      default:
        log.warn("no consumer for queue", { queue: batch.queue, count: batch.messages.length });
        batch.retryAll({ delaySeconds: 300 });
    }
  },

  async scheduled(controller: ScheduledController, env: Env, executionCtx?: ExecutionContext): Promise<void> {
    const report = await runScheduled(env, controller.scheduledTime, { waitUntil: waitUntilOf(executionCtx) });
    log.info("cron done", { cron: controller.cron, ...report });
  },
} satisfies ExportedHandler<Env, EmailJob | AlertMatchingJob | WebhookJob>;
