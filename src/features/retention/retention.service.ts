/**
 * Retention (issue 19, point 7), from the cron tick: notifications older than
 * NOTIFICATION_RETENTION_DAYS, tender interactions older than INTERACTION_RETENTION_DAYS, and
 * audit rows older than AUDIT_RETENTION_DAYS (0, the default, keeps the audit log forever); at
 * most RETENTION_BATCH_SIZE rows of each per tick, oldest first, so a backlog drains over ticks
 * without holding one. Expired sessions, refresh tokens and one-time tokens are purged by the
 * sessions job (purgeUnusableCredentials).
 */
import type { ServiceContext } from "../../platform/context";
import { DAY } from "../../platform/time";
import { purgeOldAuditRows, purgeOldInteractions, purgeOldNotifications } from "./retention.repo";

export async function purgeRetained(ctx: Pick<ServiceContext, "db" | "config" | "now">): Promise<Record<string, number>> {
  const { db, config, now } = ctx;
  const before = (days: number) => new Date(now.getTime() - days * DAY);
  const limit = config.RETENTION_BATCH_SIZE;
  const out: Record<string, number> = {
    old_notifications: (await purgeOldNotifications(db, before(config.NOTIFICATION_RETENTION_DAYS), limit)).meta.changes ?? 0,
    old_interactions: (await purgeOldInteractions(db, before(config.INTERACTION_RETENTION_DAYS), limit)).meta.changes ?? 0,
  };
  if (config.AUDIT_RETENTION_DAYS > 0) out.old_audit_rows = (await purgeOldAuditRows(db, before(config.AUDIT_RETENTION_DAYS), limit)).meta.changes ?? 0;
  return out;
}
