import type { EmailJob, Env } from "../env";
import { deliverEmailBatch } from "../features/alert-delivery/email-delivery.service";

export { EMAIL_MAX_ATTEMPTS, retryDelaySeconds } from "../features/alert-delivery/email-delivery.service";

/** The `emails` queue consumer: delivers the batch's outbox rows (alert-delivery/email-delivery.service.ts). */
export const consumeEmailBatch = (batch: MessageBatch<EmailJob>, env: Env): Promise<void> => deliverEmailBatch(batch, env);
