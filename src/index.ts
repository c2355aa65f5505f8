import { newApp } from "./app";
import type { AlertMatchingJob, EmailJob, Env } from "./env";
import { runScheduled } from "./jobs/cron";
import { consumeEmailBatch } from "./jobs/email.consumer";

export { RateLimiter } from "./durable-objects/rate-limiter";
export { SignInGuard } from "./durable-objects/sign-in-guard";

const app = newApp();

export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<EmailJob | AlertMatchingJob>, env: Env): Promise<void> {
    switch (batch.queue) {
      case "email":
        return consumeEmailBatch(batch as MessageBatch<EmailJob>, env);
      default:
        // Tender alert matching is not built yet (its issue is open): keep the messages, so
        // nothing is lost; they retry and end in the dead-letter queue for replay.
        console.warn(JSON.stringify({ level: "warn", msg: "no consumer for queue yet", queue: batch.queue, count: batch.messages.length }));
        batch.retryAll({ delaySeconds: 300 });
    }
  },

  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    const report = await runScheduled(env, controller.scheduledTime);
    console.log(JSON.stringify({ level: "info", msg: "cron done", cron: controller.cron, ...report }));
  },
} satisfies ExportedHandler<Env, EmailJob | AlertMatchingJob>;
