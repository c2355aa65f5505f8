import type { Env } from "../env";
import { purgeFinishedEmails, relayStaleEmails } from "../email/outbox.service";
import { purgeUnusableCredentials } from "../features/sessions/sessions.service";
import { purgeExpiredOidcFlows } from "../features/federation/federation.service";
import { purgeDueAccounts } from "../features/gdpr/gdpr.service";
import { serviceContext, type ServiceContext } from "../platform/context";
import { purgeExpiredNotifications } from "../features/notifications/notifications.service";
import { sendDueDigests } from "../features/alert-delivery/digests.service";
import { releaseQuietHoursMatches } from "../features/alert-delivery/quiet-hours.service";
import { rollUpEngagement } from "../features/analytics/engagement.service";
import { resendPendingMatching } from "../features/tenders/tenders.service";
import { purgeRetained } from "../features/retention/retention.service";
import { MINUTE, DAY } from "../platform/time";
import { purgeExpiredIdempotencyKeys } from "../identity/idempotency";
import { sendDueReminders, type ReminderReport } from "../features/reminders/reminders.service";
import { fanOutTenderChanges, type ChangeReport } from "../features/reminders/tender-changes.service";

/** Days a sent or failed outbox row is kept (delivery questions, bounces) before it is deleted. */
export const OUTBOX_RETENTION_DAYS = 30;

export interface CronReport {
  relayedEmails: number;
  relayedWebhooks?: number;
  resentTenders: number;
  parkedTenders: number;
  purged: Record<string, number>;
  erasedAccounts: number;
  digests: { sent: number; skipped: number; looked: number; batches: number };
  /** Immediate alert emails sent for matches quiet hours held back (their quiet hours ended). */
  quietHoursReleased: number;
  reminders: ReminderReport;
  tenderChanges: ChangeReport;
  /** Jobs that threw in this tick (each logged); the others ran. */
  failed: string[];
}

/**
 * The scheduled handler's work, every 15 minutes. Each job is idempotent, so a rerun of the same
 * tick (Cron Triggers are at-least-once) changes nothing more. Each job runs isolated: one that
 * throws is logged (`cron job failed`, with its name) and the next one still runs; the failed one
 * is simply tried again at the next tick.
 */
export async function runScheduled(env: Env, scheduledTime: number, opts: Pick<Partial<ServiceContext>, "clock" | "waitUntil" | "log"> = {}): Promise<CronReport> {
  const now = new Date(scheduledTime);
  const ctx = serviceContext(env, { ...opts, now });
  const { config, log } = ctx;
  const report: CronReport = {
    relayedEmails: 0,
    resentTenders: 0,
    parkedTenders: 0,
    purged: {},
    erasedAccounts: 0,
    digests: { sent: 0, skipped: 0, looked: 0, batches: 0 },
    quietHoursReleased: 0,
    reminders: { sent: 0, emails: 0, pages: 0 },
    tenderChanges: { changes: 0, notices: 0, emails: 0 },
    failed: [],
  };
  const job = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      report.failed.push(name);
      log.error("cron job failed", { job: name, scheduled_time: now.toISOString() }, err);
    }
  };

  // Outbox relay: an email whose queue send was lost after its batch committed is sent again.
  await job("email_relay", async () => {
    report.relayedEmails = await relayStaleEmails(ctx, new Date(scheduledTime - 5 * MINUTE));
  });

  await job("purge_credentials", async () => {
    Object.assign(report.purged, await purgeUnusableCredentials(ctx));
  });
  // Retention of the outbox: sent rows (bodies already cleared by real providers) and rows that
  // failed for good (their sealed bodies must not stay around forever).
  await job("purge_outbox", async () => {
    report.purged.finished_emails = await purgeFinishedEmails(ctx, new Date(scheduledTime - OUTBOX_RETENTION_DAYS * DAY));
  });
  await job("purge_oidc_flows", async () => {
    report.purged.expired_oidc_flows = await purgeExpiredOidcFlows(ctx);
  });
  await job("purge_notifications", async () => {
    report.purged.expired_notifications = await purgeExpiredNotifications(ctx);
  });
  await job("purge_idempotency_keys", async () => {
    report.purged.idempotency_keys = await purgeExpiredIdempotencyKeys(ctx);
  });

  // Retention: old notifications, interactions and (when configured) audit rows, bounded per tick.
  await job("retention", async () => {
    Object.assign(report.purged, await purgeRetained(ctx));
  });

  // GDPR erasure of accounts deleted more than ACCOUNT_PURGE_DAYS ago (bounded per tick).
  await job("gdpr_erasure", async () => {
    const erased = await purgeDueAccounts(ctx);
    report.purged.anonymised_audit_rows = erased.auditRows;
    report.erasedAccounts = erased.accounts;
  });

  // Immediate matches held back by quiet hours go out once they end, whatever the digest setting
  // (before the digest, so a digest at the end of the quiet hours does not take them first).
  await job("quiet_hours_release", async () => {
    report.quietHoursReleased = await releaseQuietHoursMatches(ctx);
  });

  // Daily and weekly digests due in each user's own time zone, oldest slot first, batches within
  // the tick's budget (guarded: a rerun sends nothing twice).
  await job("digests", async () => {
    report.digests = await sendDueDigests(ctx);
  });

  // Reminders of favorites whose bid is in progress, at each user's reminder_days (bounded pages;
  // each mark at most once, guarded by its unique key).
  await job("reminders", async () => {
    report.reminders = await sendDueReminders(ctx);
  });
  // Changes of followed tenders recorded by ingests (change outbox), fanned out to followers.
  await job("tender_changes", async () => {
    report.tenderChanges = await fanOutTenderChanges(ctx);
  });

  // Engagement roll-up of yesterday (completed) and today (so far), both UTC: idempotent UPSERTs.
  await job("engagement_rollup", async () => {
    await rollUpEngagement(ctx, [new Date(scheduledTime - DAY), now].map((d) => d.toISOString().slice(0, 10)));
  });

  // Queue outbox of tender ingest: tenders still pending alert matching after the grace period
  // (their send was lost, or the consumer gave up on them) are sent again; matching is
  // idempotent. A tender tried MATCH_MAX_ATTEMPTS times is parked instead.
  await job("resend_matching", async () => {
    const { resent, parked } = await resendPendingMatching(ctx, config.MATCH_MAX_ATTEMPTS);
    report.resentTenders = resent;
    report.parkedTenders = parked;
  });
  // Webhook deliveries due (retries beyond the queue's 12-hour delay, lost messages, lapsed claims).
  await job("webhook_relay", async () => {
    const { relayDueWebhooks } = await import("../features/webhooks/delivery.service");
    report.relayedWebhooks = await relayDueWebhooks(ctx);
  });
  await job("purge_webhook_events", async () => {
    const { purgeOldWebhookEvents } = await import("../features/webhooks/delivery.service");
    report.purged.webhook_events = await purgeOldWebhookEvents(ctx);
  });

  return report;
}
