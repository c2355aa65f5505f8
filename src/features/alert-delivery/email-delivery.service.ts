import { matchesDeliveredStatements, matchesUndeliveredStatement } from "./delivery.repo";
import type { EmailJob } from "../../env";
import { openOutboxBodies, outboxRepo } from "../../email/outbox.repo";
import { createEmailSender, PermanentEmailError } from "../../email/sender";
import { SUPPRESSIBLE_TEMPLATES, suppressionsRepo } from "../../email/suppressions.repo";
import type { ServiceContext } from "../../platform/context";
import { runBatch, type Statement } from "../../platform/db";
import { safeErrorText } from "../../platform/log";

/** Matches `max_retries` of the email consumer in wrangler.toml. */
export const EMAIL_MAX_ATTEMPTS = 8;

/** Exponential backoff: 10 s, 20 s, 40 s … capped at 15 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(900, 10 * 2 ** Math.max(0, attempts - 1));

/**
 * Delivers outbox rows. At-least-once safe: a row already sent is acknowledged without a second
 * delivery; a failed delivery is retried with backoff, and after the last attempt the row is
 * marked failed (the message then moves to the dead-letter queue). A row whose bodies this key
 * cannot open is marked failed at once and acknowledged.
 *
 * An email is `sent` only once the provider took it, and so are the alert matches it carries
 * (alert_matches.outbox_id), in the same batch. A permanent refusal (PermanentEmailError, see
 * sender.ts) fails the row at once, fails its matches and suppresses the address for alert and
 * digest mail; an alert or digest row whose address was suppressed meanwhile is not sent at all
 * (its matches wait for the next digest, once the address is fixed). When the retries run out on
 * transient errors the matches go back to pending, so the next digest carries them.
 */
export async function deliverEmailBatch(ctx: ServiceContext, batch: MessageBatch<EmailJob>): Promise<void> {
  const { env, config, db, log } = ctx;
  const repo = outboxRepo(db);
  const suppressions = suppressionsRepo(db);
  const sender = createEmailSender(env, config);
  // One read for the whole batch and one write batch after it (issue 20, point 2): the messages
  // are acknowledged or retried once their rows' new state committed. Should that batch fail, the
  // queue retries every message of the batch, and the rows still pending are sent again
  // (at-least-once; the HTTP adapter's idempotency key is the row id).
  const ids = [...new Set(batch.messages.map((m) => m.body?.outboxId).filter((id): id is string => typeof id === "string"))];
  const rows = new Map(ids.length ? (await repo.getMany(ids)).map((r) => [r.id, r]) : []);
  const writes: Statement[] = [];
  const settle: (() => void)[] = [];
  const taken = new Set<string>();
  // Addresses the provider refused for good earlier in this batch: their suppression is not
  // committed yet, so the read below would not see it (the next alert or digest to the same
  // address must not go out either).
  const refused = new Set<string>();
  const refusal = (userId: string, address: string) => `${userId}\n${address}`;
  for (const message of batch.messages) {
    const id = message.body?.outboxId;
    if (typeof id !== "string") {
      log.error("malformed email job", { queue: batch.queue, id: message.id });
      message.ack();
      continue;
    }
    const row = rows.get(id);
    // Gone, no longer pending, or a second message for the same row in this batch (the first delivers it).
    if (!row || row.status !== "pending" || taken.has(id)) {
      message.ack();
      continue;
    }
    taken.add(id);
    const carriesMatches = SUPPRESSIBLE_TEMPLATES.has(row.template);
    if (carriesMatches && row.userId !== null && (refused.has(refusal(row.userId, row.toAddress)) || (await suppressions.isSuppressed(row.userId, row.toAddress)))) {
      writes.push(repo.markAttemptFailed(row.id, "suppressed: the provider refused this address earlier", true), matchesUndeliveredStatement(db, row.id, false));
      settle.push(() => message.ack());
      continue;
    }
    try {
      const bodies = await openOutboxBodies({ env, config }, row);
      if (!bodies.opened) {
        // No later attempt can open it (sealed with an earlier key): failed for good, at once,
        // and the rest of the batch goes on.
        writes.push(repo.markAttemptFailed(row.id, bodies.reason, true));
        log.error("outbox email cannot be opened", { queue: batch.queue, outbox_id: row.id }, bodies.reason);
        settle.push(() => message.ack());
        continue;
      }
      const { text, html } = bodies;
      const { messageId } = await sender.send({ id: row.id, from: config.EMAIL_FROM, to: row.toAddress, subject: row.subject, text, html, headers: row.headers });
      const now = ctx.clock.now();
      writes.push(repo.markSent(row.id, messageId, now, sender.name !== "outbox"), ...(carriesMatches ? matchesDeliveredStatements(db, row.id, now, row.template === "alert_match") : []));
      settle.push(() => message.ack());
    } catch (err) {
      const permanent = err instanceof PermanentEmailError;
      const final = permanent || message.attempts >= EMAIL_MAX_ATTEMPTS;
      writes.push(
        repo.markAttemptFailed(row.id, safeErrorText(err), final),
        ...(final && carriesMatches ? [matchesUndeliveredStatement(db, row.id, permanent)] : []),
        ...(permanent && row.userId !== null ? [suppressions.suppress(row.userId, row.toAddress, "rejected", ctx.clock.now())] : []),
      );
      if (permanent && row.userId !== null) refused.add(refusal(row.userId, row.toAddress));
      log.warn("email send failed", { queue: batch.queue, outbox_id: row.id, attempt: message.attempts, permanent }, err);
      // A permanent refusal is done: retrying cannot deliver it.
      settle.push(permanent ? () => message.ack() : () => message.retry({ delaySeconds: retryDelaySeconds(message.attempts) }));
    }
  }
  await runBatch(ctx, writes);
  for (const done of settle) done();
}
