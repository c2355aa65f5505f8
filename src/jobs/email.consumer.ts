import type { EmailJob } from "../env";
import { deliverEmailBatch } from "../features/alert-delivery/email-delivery.service";
import type { ServiceContext } from "../platform/context";

export { EMAIL_MAX_ATTEMPTS, retryDelaySeconds } from "../features/alert-delivery/email-delivery.service";

/** The `emails` queue consumer: delivers the batch's outbox rows (alert-delivery/email-delivery.service.ts). */
export const consumeEmailBatch = (ctx: ServiceContext, batch: MessageBatch<EmailJob>): Promise<void> => deliverEmailBatch(ctx, batch);
