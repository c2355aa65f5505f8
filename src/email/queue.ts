import type { Env } from "../env";

/** Hands outbox ids to the email queue (after the batch that wrote them committed). */
export async function enqueueEmails(env: Env, outboxIds: readonly string[]): Promise<void> {
  if (outboxIds.length === 0) return;
  for (let i = 0; i < outboxIds.length; i += 100) {
    await env.EMAIL_QUEUE.sendBatch(outboxIds.slice(i, i + 100).map((outboxId) => ({ body: { outboxId } })));
  }
}
