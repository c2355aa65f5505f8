import type { WebhookJob } from "../env";
import { consumeWebhookBatch as deliver } from "../features/webhooks/delivery.service";
import type { ServiceContext } from "../platform/context";

/** The `webhooks` queue consumer: one guarded attempt per message (features/webhooks/delivery.service.ts). */
export const consumeWebhookBatch = (ctx: ServiceContext, batch: MessageBatch<WebhookJob>): Promise<void> => deliver(ctx, batch);
