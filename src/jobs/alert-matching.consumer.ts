import type { AlertMatchingJob } from "../env";
import { matchTenders } from "../features/alerts/alert-matching.service";
import type { ServiceContext } from "../platform/context";

/**
 * The `alert-matching` queue consumer: the tenders of the batch (one json_each query) against the
 * per-isolate compiled index of active alerts (rebuilt only when the alerts version stamp
 * moved), then matches, counters and in-app notifications recorded idempotently per chunk, then
 * immediate emails for the matches still pending, then the tenders' pending-matching marks cleared
 * (the queue outbox: only for the versions it read, so a tender changed meanwhile stays pending).
 * An error in a batch of several tenders runs them one by one, so one tender whose matching throws
 * does not keep the others unmatched; it stays pending for the cron (which parks it after
 * MATCH_MAX_ATTEMPTS). An error of a single tender, or of every tender, retries the batch:
 * everything already recorded is skipped on the retry (see alert-matching.service.ts), and the
 * marks stay until a run completes.
 */
export async function consumeAlertMatchingBatch(ctx: ServiceContext, batch: MessageBatch<AlertMatchingJob>): Promise<void> {
  const { log } = ctx;
  const tenderIds = [
    ...new Set(batch.messages.flatMap((m) => (Array.isArray(m.body?.tenderIds) ? m.body.tenderIds.filter((id): id is string => typeof id === "string") : []))),
  ];
  if (tenderIds.length === 0) {
    batch.ackAll();
    return;
  }
  try {
    const counts = await matchTenders(ctx, tenderIds);
    log.info("alert matching done", { queue: batch.queue, ...counts });
    batch.ackAll();
    return;
  } catch (err) {
    if (tenderIds.length === 1) {
      log.error("alert matching failed; batch retried", { queue: batch.queue, tender_id: tenderIds[0] }, err);
      batch.retryAll({ delaySeconds: 30 });
      return;
    }
  }
  // One bad tender must not hold up the batch: each tender on its own. Those that fail stay
  // pending; the cron resends them after the grace period, counting attempts, and parks a tender
  // after MATCH_MAX_ATTEMPTS. If every one failed, the cause is likely not a tender: retry all.
  const failed: string[] = [];
  for (const id of tenderIds) {
    try {
      await matchTenders(ctx, [id]);
    } catch (err) {
      failed.push(id);
      log.error("alert matching failed for a tender; left pending", { queue: batch.queue, tender_id: id }, err);
    }
  }
  if (failed.length === tenderIds.length) batch.retryAll({ delaySeconds: 30 });
  else batch.ackAll();
}
