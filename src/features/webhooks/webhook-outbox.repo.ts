import { sql, type SQL } from "drizzle-orm";
import { alertMatches, alerts, notifications, webhookDeliveries, webhookEndpoints, webhookEvents } from "../../db/tables";
import { rawSelect, rawStatement, type Db } from "../../platform/db";

// The set-based webhook outbox statements of the alert-matching batch and the fan-out read: kept
// out of webhooks.repo.ts, which loads on first use only (the worker's cold start stays small).

const isoOf = (ms: SQL) => sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${ms} / 1000.0, 'unixepoch')`;

/** The event ids `alertMatchWebhookStatements` gives the matches `matchIds` (derived: a rerun cannot double them). */
export const alertMatchEventIds = (matchIds: readonly string[]) =>
  matchIds.flatMap((id) => [`evt_${id.slice(4)}`, `evt_${id.slice(4, 14)}n${id.slice(15)}`]);

/**
 * For the batch that records a chunk of alert matches (alerts/alert-matching.repo.ts), set-based:
 * an `alert.matched` event per new match, and a `notification.created` event per in-app
 * notification made for it, only for users with an enabled endpoint listening to that type; then
 * their pending deliveries. Event ids derive from the match ids (`alertMatchEventIds`).
 */
export function alertMatchWebhookStatements(db: Db, matchIds: readonly string[], now: Date) {
  const t = now.getTime();
  const ids = JSON.stringify(matchIds);
  const listens = (type: string, userId: SQL) =>
    sql`EXISTS (SELECT 1 FROM ${webhookEndpoints} ep WHERE ep.scope = 'user' AND ep.user_id = ${userId} AND ep.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(ep.events) WHERE value = ${type}))`;
  return [
    rawStatement(
      db,
      sql`INSERT INTO ${webhookEvents} (id, type, scope, user_id, org_id, data, created_at)
          SELECT 'evt_' || substr(m.id, 5), 'alert.matched', 'user', m.user_id, NULL,
            json_object('match_id', m.id, 'matched_at', ${isoOf(sql`m.matched_at`)}, 'alert', json_object('id', a.id, 'name', a.name),
              'tender', json_object('id', tn.id, 'title', tn.title)), ${t}
          FROM ${alertMatches} m JOIN ${alerts} a ON a.id = m.alert_id JOIN tenders tn ON tn.id = m.tender_id
          WHERE m.id IN (SELECT value FROM json_each(${ids})) AND ${listens("alert.matched", sql`m.user_id`)}
          ON CONFLICT DO NOTHING`,
    ),
    rawStatement(
      db,
      sql`INSERT INTO ${webhookEvents} (id, type, scope, user_id, org_id, data, created_at)
          SELECT 'evt_' || substr(m.id, 5, 10) || 'n' || substr(m.id, 16), 'notification.created', 'user', n.user_id, NULL,
            json_object('notification', json_object('id', n.id, 'type', n.type, 'title', n.title, 'message', n.message, 'action_url', n.action_url,
              'related_tender_id', n.related_tender_id, 'related_alert_id', n.related_alert_id, 'created_at', ${isoOf(sql`n.created_at`)})), ${t}
          FROM ${alertMatches} m JOIN ${notifications} n ON n.id = 'ntf_' || substr(m.id, 5)
          WHERE m.id IN (SELECT value FROM json_each(${ids})) AND ${listens("notification.created", sql`n.user_id`)}
          ON CONFLICT DO NOTHING`,
    ),
    rawStatement(
      db,
      sql`INSERT INTO ${webhookDeliveries} (id, event_id, endpoint_id, event_type, attempt, status, next_attempt_at, created_at, updated_at)
          SELECT 'whd_' || substr(e.id, 5, 10) || lower(hex(randomblob(8))), e.id, ep.id, e.type, 0, 'pending', ${t}, ${t}, ${t}
          FROM ${webhookEvents} e JOIN ${webhookEndpoints} ep ON ep.scope = 'user' AND ep.user_id = e.user_id AND ep.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(ep.events) WHERE value = e.type)
          WHERE e.id IN (SELECT value FROM json_each(${JSON.stringify(alertMatchEventIds(matchIds))}))
            AND NOT EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.event_id = e.id AND d.endpoint_id = ep.id)`,
    ),
  ] as const;
}

/** Pending deliveries of these events (a fan-out message). */
export function pendingOfEvents(db: Db, eventIds: readonly string[]) {
  return rawSelect<{ id: string; attempt: number }>(
    db,
    sql`SELECT id, attempt FROM ${webhookDeliveries} WHERE status = 'pending' AND attempt = 0 AND event_id IN (SELECT value FROM json_each(${JSON.stringify(eventIds)}))`,
  );
}


/** The `notification.created` event id of a notification (derived, as for an alert match's notification: a rerun cannot double it). */
export const notificationEventIds = (notificationIds: readonly string[]) => notificationIds.map((id) => `evt_${id.slice(4, 14)}n${id.slice(15)}`);

/**
 * For a batch that may write in-app notifications (reminders, tender changes: the channel
 * dispatcher and the change fan-out), after their inserts: a user-scope `notification.created`
 * event per notification of `notificationIds` that the batch wrote, only for users with an enabled
 * endpoint listening to it, then its pending deliveries. [events, deliveries]: after the commit,
 * send `{eventIds: notificationEventIds(ids)}` to the webhook queue when the first changed rows.
 */
export function notificationCreatedWebhookStatements(db: Db, notificationIds: readonly string[], now: Date) {
  const t = now.getTime();
  const eventIds = JSON.stringify(notificationEventIds(notificationIds));
  return [
    rawStatement(
      db,
      sql`INSERT INTO ${webhookEvents} (id, type, scope, user_id, org_id, data, created_at)
          SELECT 'evt_' || substr(n.id, 5, 10) || 'n' || substr(n.id, 16), 'notification.created', 'user', n.user_id, NULL,
            json_object('notification', json_object('id', n.id, 'type', n.type, 'title', n.title, 'message', n.message, 'action_url', n.action_url,
              'related_tender_id', n.related_tender_id, 'related_alert_id', n.related_alert_id, 'created_at', ${isoOf(sql`n.created_at`)})), ${t}
          FROM ${notifications} n
          WHERE n.id IN (SELECT value FROM json_each(${JSON.stringify(notificationIds)}))
            AND EXISTS (SELECT 1 FROM ${webhookEndpoints} ep WHERE ep.scope = 'user' AND ep.user_id = n.user_id AND ep.enabled = 1
              AND EXISTS (SELECT 1 FROM json_each(ep.events) WHERE value = 'notification.created'))
          ON CONFLICT DO NOTHING`,
    ),
    rawStatement(
      db,
      sql`INSERT INTO ${webhookDeliveries} (id, event_id, endpoint_id, event_type, attempt, status, next_attempt_at, created_at, updated_at)
          SELECT 'whd_' || substr(e.id, 5, 10) || lower(hex(randomblob(8))), e.id, ep.id, e.type, 0, 'pending', ${t}, ${t}, ${t}
          FROM ${webhookEvents} e JOIN ${webhookEndpoints} ep ON ep.scope = 'user' AND ep.user_id = e.user_id AND ep.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(ep.events) WHERE value = e.type)
          WHERE e.id IN (SELECT value FROM json_each(${eventIds}))
            AND NOT EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.event_id = e.id AND d.endpoint_id = ep.id)`,
    ),
  ] as const;
}

/**
 * Erasure (features/gdpr): the account's own events (its alert matches and notifications, as sent
 * to its endpoints) go with it; their deliveries follow by cascade. Platform and organization events
 * that name the user keep only ids. `onlyIf`: the erasure batch's "still due" guard.
 */
export const forgetUserWebhookEventsOf = (db: Db, userId: string, onlyIf: SQL) =>
  db.delete(webhookEvents).where(sql`${webhookEvents.userId} = ${userId} AND ${webhookEvents.scope} = 'user' AND ${onlyIf}`);
