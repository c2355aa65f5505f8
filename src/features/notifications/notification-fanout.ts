/**
 * What follows new in-app notifications outside alert matching (reminders, tender changes,
 * system notices): the `notification.created` webhook statements, for the batch that writes them,
 * and, once it committed, the live push (live.ts) and the webhook queue message.
 */
import type { ServiceContext } from "../../platform/context";
import type { Statement } from "../../platform/db";
import { enqueueDeliveries } from "../webhooks/emit";
import { notificationCreatedWebhookStatements, notificationEventIds } from "../webhooks/webhook-outbox.repo";
import { pushNewNotifications } from "./live";

/** The statements to append to the batch, after the notification inserts. */
export function notificationFanoutStatements(ctx: Pick<ServiceContext, "db" | "now">, notificationIds: readonly string[]): Statement[] {
  return notificationIds.length === 0 ? [] : ([...notificationCreatedWebhookStatements(ctx.db, notificationIds, ctx.now)] as unknown as Statement[]);
}

/**
 * After the batch committed: `results` are those of `notificationFanoutStatements` (events first).
 * Pushes the notifications that exist to open sockets and queues the webhook events written.
 */
export async function afterNotificationsWritten(ctx: ServiceContext, notificationIds: readonly string[], results: readonly D1Result[]): Promise<void> {
  if (notificationIds.length === 0) return;
  pushNewNotifications(ctx, notificationIds);
  if ((results[0]?.meta.changes ?? 0) === 0) return;
  const eventIds = notificationEventIds(notificationIds);
  try {
    for (let i = 0; i < eventIds.length; i += 1000) await enqueueDeliveries(ctx, [{ eventIds: eventIds.slice(i, i + 1000) }]);
  } catch (err) {
    ctx.log.warn("webhook enqueue failed; the cron relay will send it", { error: String(err) });
  }
}
