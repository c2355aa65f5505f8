import type { SQL } from "drizzle-orm";
import type { WebhookJob } from "../../env";
import type { ServiceContext } from "../../platform/context";
import type { Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { alertMatchEventIds } from "./webhook-outbox.repo";
import type { WebhookEventInput } from "./webhooks.repo";

// What other features call to emit webhook events (kept apart from the endpoint management and
// the delivery code, which load on first use only).

export async function enqueueDeliveries(ctx: Pick<ServiceContext, "env">, jobs: readonly WebhookJob[], delaySeconds?: number): Promise<void> {
  for (let i = 0; i < jobs.length; i += 100) {
    await ctx.env.WEBHOOK_QUEUE.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body, ...(delaySeconds ? { delaySeconds } : {}) })));
  }
}

/**
 * The outbox statements of a webhook event, to put in the batch of the change that causes it:
 * nothing when no enabled endpoint of the owner listens to `type` (one indexed read), else the
 * event and its pending deliveries. Its queue message is sent in the background; the consumer
 * waits for a batch that has not committed yet, and the cron relay sends what a lost message left.
 * `when` (e.g. `changes() > 0` right after a guarded statement) writes the event only if it holds there.
 * `data` must hold only what the endpoint's owner may see through the API: never a secret, hash or token.
 * @example await runBatch(ctx, [change, ...(await webhookEvent(ctx, { type: "note.shared", scope: "org", orgId, data }))]);
 */
export async function webhookEvent(ctx: ServiceContext, event: WebhookEventInput, when?: SQL): Promise<Statement[]> {
  const repo = (await import("./webhooks.repo")).webhooksRepo(ctx.db);
  if (!(await repo.anyListener(event))) return [];
  const id = newId("evt", ctx.now.getTime());
  ctx.waitUntil(enqueueDeliveries(ctx, [{ eventId: id }]).catch((err: unknown) => ctx.log.warn("webhook enqueue failed; the cron relay will send it", { event_id: id, error: String(err) })));
  return repo.eventStatements(id, event, ctx.now, when);
}

/**
 * Like `webhookEvent`, with no read before the batch (issue 20, point 2): for a hot path whose
 * event nearly always has no listener (registration). The event row is guarded in the batch by
 * "an enabled endpoint of the owner listens to `type`" (an EXISTS on the same indexed columns),
 * its deliveries follow it; `committed(results)`, given the batch results of `statements`, sends
 * the queue message only when the event row was written. A lost message is the cron relay's, as
 * for `webhookEvent`.
 * @example const hook = await webhookEventInBatch(ctx, event); const rs = await runBatch(ctx, [...change, ...hook.statements]); hook.committed(rs.slice(change.length));
 */
export async function webhookEventInBatch(ctx: ServiceContext, event: WebhookEventInput, when?: SQL): Promise<{ statements: Statement[]; committed(results: readonly unknown[]): void }> {
  const repo = (await import("./webhooks.repo")).webhooksRepo(ctx.db);
  const id = newId("evt", ctx.now.getTime());
  return {
    statements: [...repo.listenedEventStatements(id, event, ctx.now, when)],
    committed(results) {
      if (!(results[0] as unknown[] | undefined)?.length) return;
      ctx.waitUntil(enqueueDeliveries(ctx, [{ eventId: id }]).catch((err: unknown) => ctx.log.warn("webhook enqueue failed; the cron relay will send it", { event_id: id, error: String(err) })));
    },
  };
}

/** After a batch of alert matches committed: fans out their webhook events (alertMatchWebhookStatements), if any were written. */
export async function sendAlertMatchWebhooks(ctx: Pick<ServiceContext, "env">, matchIds: readonly string[]): Promise<void> {
  if (matchIds.length === 0) return;
  const eventIds = alertMatchEventIds(matchIds);
  for (let i = 0; i < eventIds.length; i += 1000) await enqueueDeliveries(ctx, [{ eventIds: eventIds.slice(i, i + 1000) }]);
}
