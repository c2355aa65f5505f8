import type { Env } from "../env";
import { outboxRepo } from "../email/outbox.repo";
import { purgeExpiredCredentials } from "../features/sessions/sessions.repo";
import { purgeDueAccounts } from "../features/gdpr/gdpr.service";
import { getConfig } from "../platform/config";
import { createDb } from "../platform/db";
import { enqueueEmails } from "../email/queue";
import { purgeExpiredNotifications } from "../features/notifications/notifications.repo";
import { sendDueDigests } from "../features/digests/digests.service";
import { rollUpEngagementDay } from "../features/analytics/engagement.repo";
import { resendPendingMatching } from "../features/tenders/tenders.service";

const DAY = 86_400_000;
/** Days a sent or failed outbox row is kept (delivery questions, bounces) before it is deleted. */
export const OUTBOX_RETENTION_DAYS = 30;

export interface CronReport {
  relayedEmails: number;
  resentTenders: number;
  purged: Record<string, number>;
  erasedAccounts: number;
  digests: { sent: number; skipped: number };
}

/**
 * The scheduled handler's work, every 15 minutes. Each job is idempotent, so a rerun of the same
 * tick (Cron Triggers are at-least-once) changes nothing more.
 */
export async function runScheduled(env: Env, scheduledTime: number): Promise<CronReport> {
  const db = createDb(env.DB);
  const now = new Date(scheduledTime);
  const outbox = outboxRepo(db);

  // Outbox relay: an email whose queue send was lost after its batch committed is sent again.
  const stale = await outbox.stalePending(new Date(scheduledTime - 5 * 60_000), 500);
  await enqueueEmails(
    env,
    stale.map((r) => r.id),
  );

  const purged = await purgeExpiredCredentials(db, now);
  // Retention of the outbox: sent rows (bodies already cleared by real providers) and rows that
  // failed for good (their sealed bodies must not stay around forever).
  const finished = await outbox.purgeFinishedBefore(new Date(scheduledTime - OUTBOX_RETENTION_DAYS * DAY));
  purged.finished_emails = finished.meta.changes ?? 0;
  purged.expired_notifications = (await purgeExpiredNotifications(db, now)).meta.changes ?? 0;

  // GDPR erasure of accounts deleted more than ACCOUNT_PURGE_DAYS ago (bounded per tick).
  const erased = await purgeDueAccounts(env, db, getConfig(env), now);
  purged.anonymised_audit_rows = erased.auditRows;

  // Daily and weekly digests due in each user's own time zone (guarded: a rerun sends nothing twice).
  const digests = await sendDueDigests({ db, env, config: getConfig(env), now });

  // Engagement roll-up of yesterday (completed) and today (so far), both UTC: idempotent UPSERTs.
  for (const day of [new Date(scheduledTime - DAY), now].map((d) => d.toISOString().slice(0, 10))) await rollUpEngagementDay(db, day);

  // Queue outbox of tender ingest: tenders still pending alert matching after the grace period
  // (their send was lost, or the consumer gave up on them) are sent again; matching is
  // idempotent. Last, so a queue outage that fails this send holds up none of the jobs above.
  const resentTenders = await resendPendingMatching({ db, env, now });
  return { relayedEmails: stale.length, resentTenders, purged, erasedAccounts: erased.accounts, digests };
}
