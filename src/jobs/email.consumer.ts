import type { Env, EmailJob } from "../env";
import { openOutboxBodies, outboxRepo } from "../email/outbox.repo";
import { createEmailSender } from "../email/sender";
import { getConfig } from "../platform/config";
import { createDb } from "../platform/db";
import { safeErrorText } from "../platform/log";

/** Matches `max_retries` of the email consumer in wrangler.toml. */
export const EMAIL_MAX_ATTEMPTS = 8;

/** Exponential backoff: 10 s, 20 s, 40 s … capped at 15 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(900, 10 * 2 ** Math.max(0, attempts - 1));

/**
 * Delivers outbox rows. At-least-once safe: a row already sent is acknowledged without a second
 * delivery; a failed delivery is retried with backoff, and after the last attempt the row is
 * marked failed (the message then moves to the dead-letter queue). A row whose bodies this key
 * cannot open is marked failed at once and acknowledged.
 */
export async function consumeEmailBatch(batch: MessageBatch<EmailJob>, env: Env): Promise<void> {
  const config = getConfig(env);
  const db = createDb(env.DB);
  const repo = outboxRepo(db);
  const sender = createEmailSender(env, config);
  for (const message of batch.messages) {
    const id = message.body?.outboxId;
    if (typeof id !== "string") {
      console.error(JSON.stringify({ level: "error", queue: batch.queue, msg: "malformed email job", id: message.id }));
      message.ack();
      continue;
    }
    const row = await repo.get(id);
    if (!row || row.status !== "pending") {
      message.ack();
      continue;
    }
    try {
      const bodies = await openOutboxBodies({ env, config }, row);
      if (!bodies.opened) {
        // No later attempt can open it (sealed with an earlier key): failed for good, at once,
        // and the rest of the batch goes on.
        await repo.markAttemptFailed(row.id, bodies.reason, true);
        console.error(JSON.stringify({ level: "error", queue: batch.queue, outbox_id: row.id, error: bodies.reason }));
        message.ack();
        continue;
      }
      const { text, html } = bodies;
      const { messageId } = await sender.send({ id: row.id, from: config.EMAIL_FROM, to: row.toAddress, subject: row.subject, text, html, headers: row.headers });
      await repo.markSent(row.id, messageId, new Date(), sender.name !== "outbox");
      message.ack();
    } catch (err) {
      const final = message.attempts >= EMAIL_MAX_ATTEMPTS;
      await repo.markAttemptFailed(row.id, safeErrorText(err), final);
      console.error(JSON.stringify({ level: "warn", queue: batch.queue, outbox_id: row.id, attempt: message.attempts, error: safeErrorText(err) }));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
