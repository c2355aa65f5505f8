import type { AlertMatchingJob, Env } from "../env";
import { activeAlertIndex, matchPairs, recordMatches, sendImmediateEmails } from "../features/alerts/alert-matching.service";
import { tendersByIds } from "../features/alerts/alert-matching.repo";
import { markTendersMatched } from "../features/tenders/tenders.service";
import { getConfig } from "../platform/config";
import { createDb } from "../platform/db";

/**
 * The `alert-matching` queue consumer: the tenders of the batch (one json_each query) against the
 * per-isolate compiled index of active alerts (rebuilt only when the alerts version stamp
 * moved), then matches, counters and in-app notifications recorded idempotently per chunk, then
 * immediate emails for the matches still pending, then the tenders' pending-matching marks cleared
 * (the queue outbox: only for the versions it read, so a tender changed meanwhile stays pending).
 * Any error retries the whole batch: everything it already recorded is skipped on the retry (see
 * alert-matching.service.ts), and the marks stay until a run completes.
 */
export async function consumeAlertMatchingBatch(batch: MessageBatch<AlertMatchingJob>, env: Env, now = new Date()): Promise<void> {
  const tenderIds = [
    ...new Set(batch.messages.flatMap((m) => (Array.isArray(m.body?.tenderIds) ? m.body.tenderIds.filter((id): id is string => typeof id === "string") : []))),
  ];
  if (tenderIds.length === 0) {
    batch.ackAll();
    return;
  }
  const ctx = { db: createDb(env.DB), env, config: getConfig(env), now };
  try {
    const [index, tenders] = await Promise.all([activeAlertIndex(ctx), tendersByIds(ctx.db, tenderIds)]);
    const pairs = matchPairs(index, tenders, now);
    const inserted = await recordMatches(ctx, pairs);
    const emailed = await sendImmediateEmails(ctx, { tenderIds });
    const cleared = await markTendersMatched(ctx.db, tenders);
    console.log(
      JSON.stringify({ level: "info", queue: batch.queue, tenders: tenders.length, matches: pairs.length, new_matches: inserted, emails: emailed.length, cleared }),
    );
    batch.ackAll();
  } catch (err) {
    console.error(JSON.stringify({ level: "error", queue: batch.queue, msg: "alert matching failed; batch retried", error: String(err).slice(0, 500) }));
    batch.retryAll({ delaySeconds: 30 });
  }
}
