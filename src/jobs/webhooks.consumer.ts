import type { WebhookJob } from "../env";
import type { ServiceContext } from "../platform/context";

/** The `webhooks` queue consumer: one guarded attempt per message (features/webhooks/delivery.service.ts, loaded on first use). */
export async function consumeWebhookBatch(ctx: ServiceContext, batch: MessageBatch<WebhookJob>): Promise<void> {
  const { consumeWebhookBatch: deliver } = await import("../features/webhooks/delivery.service");
  return deliver(ctx, batch);
}
