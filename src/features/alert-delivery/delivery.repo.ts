import type { Owner } from "../../identity/owner";
import { and, eq, sql } from "drizzle-orm";
import { alertMatches, alerts, emailOutbox, emailSuppressions, tenders, userPreferences, userProfiles, users } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";

/** The ids of a JSON array parameter, as a subquery. */
const idsIn = (ids: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
/** For queries that alias alerts as `a`. */
const hasMethod = (method: "email" | "in_app") => sql`EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = ${method})`;

// Alert delivery: the matches an email (immediate or digest) carries, their delivery state, and
// the alert's email channel the one-click unsubscribe turns off.

/** A pending match and what an email about it needs. */
export interface PendingMatchRow {
  match_id: string;
  alert_id: string;
  alert_name: string;
  user_id: string;
  email: string;
  full_name: string;
  timezone: string | null;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  max_alerts_per_day: number | null;
  tender_id: string;
  title: string;
  department: string | null;
  value: number | null;
  currency: string;
  closing_date: number | null;
  url: string | null;
  state: string | null;
  description: string | null;
  /** The alert's criteria (JSON text), for the reasons it matched. */
  criteria: string;
  alert_frequency: "immediate" | "daily_digest" | "weekly_digest";
  language: string | null;
  /** user_profiles.notification_preferences (JSON text). */
  notification_prefs: string | null;
}

const pendingSelect = sql`SELECT m.id AS match_id, a.id AS alert_id, a.name AS alert_name, u.id AS user_id, u.email, u.full_name,
    pr.timezone, p.quiet_hours_start, p.quiet_hours_end, p.max_alerts_per_day,
    t.id AS tender_id, t.title, t.department, t.value, t.currency, t.closing_date, t.url, t.state, t.description,
    a.criteria, a.notification_frequency AS alert_frequency, pr.language_preference AS language, pr.notification_preferences AS notification_prefs
  FROM ${alertMatches} m
  JOIN ${alerts} a ON a.id = m.alert_id
  JOIN ${tenders} t ON t.id = m.tender_id
  JOIN ${users} u ON u.id = m.user_id AND u.status = 'active' AND u.deletion_requested_at IS NULL
  LEFT JOIN ${userPreferences} p ON p.user_id = m.user_id
  LEFT JOIN ${userProfiles} pr ON pr.user_id = m.user_id`;

/** For queries that alias users as `u`: no provider refused the user's current address for good. */
export const addressNotSuppressed = sql`NOT EXISTS (SELECT 1 FROM ${emailSuppressions} s WHERE s.user_id = u.id AND s.address = u.email)`;

/** A match no email carries yet: pending, and not in an outbox email being delivered. */
const unclaimed = sql`m.notification_status = 'pending' AND m.outbox_id IS NULL`;

/** For queries that alias tenders as `t`: still open at `now` (no closing date counts as open). */
export const tenderOpen = (now: Date) => sql`(t.closing_date IS NULL OR t.closing_date > ${now.getTime()})`;

/** Which pending immediate matches a run looks at. */
export type ImmediateScope =
  | { tenderIds: readonly string[] }
  | { alertId: string }
  /** Matches held back since `since` of users who have quiet hours (released when they end), at most `limit`. */
  | { heldSince: Date; limit: number };

/**
 * Pending matches of open tenders of active, immediate, email alerts: of these tenders, of one
 * alert, or held back recently for users with quiet hours. A retry after a crash between recording
 * and emailing finds them again (they are still pending).
 */
export const pendingImmediateMatches = (db: Db, of: ImmediateScope, now: Date) =>
  db.all<PendingMatchRow>(sql`${pendingSelect}
    WHERE ${unclaimed} AND a.is_active = 1 AND a.notification_frequency = 'immediate' AND ${hasMethod("email")} AND ${addressNotSuppressed} AND ${tenderOpen(now)}
      AND ${
        "alertId" in of
          ? sql`m.alert_id = ${of.alertId}`
          : "tenderIds" in of
            ? sql`m.tender_id IN ${idsIn(of.tenderIds)}`
            : sql`m.user_id IN (SELECT user_id FROM ${userPreferences} WHERE quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL) AND m.matched_at >= ${of.heldSince.getTime()}`
      }
    ORDER BY m.id ${"limit" in of ? sql`LIMIT ${of.limit}` : sql``}`);

/** A pending digest match, with how many this user has in all (the digest counts what it leaves out). */
export type DigestMatchRow = PendingMatchRow & { total: number };

/**
 * Pending matches of open tenders of the users' alerts that email, for their digests in one query:
 * the `limit` soonest closing per user (window function; no closing date last), with the user's
 * total. Matches of weekly-digest alerts only for the users in `weeklyFor` (their weekly digest day).
 */
export const pendingDigestMatchesOf = (db: Db, userIds: readonly Owner[], limit: number, now: Date, weeklyFor: readonly string[] = []) =>
  db.all<DigestMatchRow>(sql`SELECT * FROM (
      SELECT q.*, row_number() OVER (PARTITION BY q.user_id ORDER BY q.closing_date IS NULL, q.closing_date, q.match_id) AS rn,
        count(*) OVER (PARTITION BY q.user_id) AS total FROM (${pendingSelect}
        WHERE m.user_id IN ${idsIn(userIds)} AND ${unclaimed} AND ${hasMethod("email")} AND ${addressNotSuppressed} AND ${tenderOpen(now)}
          AND (a.notification_frequency <> 'weekly_digest' OR m.user_id IN ${idsIn(weeklyFor)})) q
    ) WHERE rn <= ${limit} ORDER BY user_id, rn`);

/** Alert emails sent (written to the outbox) to these users since `since`, per user. */
export async function alertEmailsSince(db: Db, userIds: readonly string[], since: Date): Promise<{ user_id: string; created_at: number }[]> {
  if (userIds.length === 0) return [];
  return db.all(sql`SELECT user_id, created_at FROM ${emailOutbox}
    WHERE user_id IN ${idsIn(userIds)} AND template = 'alert_match' AND created_at >= ${since.getTime()}`);
}

/** Guard for an immediate email: every match it lists is still pending and no other email carries any of them. */
export const matchesStillPending = (matchIds: readonly string[]) =>
  sql`NOT EXISTS (SELECT 1 FROM ${alertMatches} WHERE ${alertMatches.id} IN ${idsIn(matchIds)} AND (${alertMatches.notificationStatus} <> 'pending' OR ${alertMatches.outboxId} IS NOT NULL))`;

/**
 * Hands pending matches to the outbox email `outboxId`, right after its guarded insert in one batch:
 * only if that row was written. They stay `pending` until the email consumer delivered it
 * ({@link matchesDeliveredStatements}); a rerun finds them carried and writes no second email.
 */
export const claimMatchesForEmail = (db: Db, matchIds: readonly string[], outboxId: string) =>
  rawStatement(
    db,
    sql`UPDATE ${alertMatches} SET outbox_id = ${outboxId}
        WHERE id IN ${idsIn(matchIds)} AND notification_status = 'pending' AND outbox_id IS NULL
          AND EXISTS (SELECT 1 FROM ${emailOutbox} WHERE ${emailOutbox.id} = ${outboxId})`,
  );

/**
 * The provider took the email: its matches become `sent` (once: a redelivery finds none pending),
 * and an immediate alert email counts on its alert, as before.
 */
export function matchesDeliveredStatements(db: Db, outboxId: string, now: Date, countOnAlert: boolean) {
  const t = now.getTime();
  const carried = sql`SELECT alert_id FROM ${alertMatches} WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`;
  const sent = rawStatement(db, sql`UPDATE ${alertMatches} SET notification_status = 'sent', notified_at = ${t} WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`);
  if (!countOnAlert) return [sent];
  return [
    // Before the matches are marked: it counts only what is still pending (a redelivery counts nothing).
    rawStatement(db, sql`UPDATE ${alerts} SET total_notifications_sent = total_notifications_sent + 1, last_notified_at = ${t} WHERE ${alerts.id} IN (${carried})`),
    sent,
  ];
}

/**
 * The email failed for good. Rejected by the provider (a bad address): its matches are `failed`.
 * Otherwise (retries used up, or the address was suppressed before it went out): they go back to
 * pending without an email, so the next digest carries them.
 */
export const matchesUndeliveredStatement = (db: Db, outboxId: string, rejected: boolean) =>
  rawStatement(
    db,
    rejected
      ? sql`UPDATE ${alertMatches} SET notification_status = 'failed' WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`
      : sql`UPDATE ${alertMatches} SET outbox_id = NULL WHERE outbox_id = ${outboxId} AND notification_status = 'pending'`,
  );

/**
 * The one-click unsubscribe may act on this alert: the owner's, email among its methods, and the
 * email not turned back on after the token was issued. The guard of the update and its audit row.
 */
export const alertEmailUnsubscribable = (userId: string, alertId: string, issuedAt: number) =>
  sql`EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${alertId} AND ${alerts.userId} = ${userId}
      AND EXISTS (SELECT 1 FROM json_each(${alerts.notificationMethods}) WHERE value = 'email')
      AND (${alerts.emailResumedAt} IS NULL OR ${alerts.emailResumedAt} <= ${issuedAt}))`;

/** One-click unsubscribe: removes "email" from the alert's notification methods, under {@link alertEmailUnsubscribable}. */
export const turnAlertEmailOff = (db: Db, userId: Owner, alertId: string, issuedAt: number, now: Date) =>
  db
    .update(alerts)
    .set({
      notificationMethods: sql`(SELECT json_group_array(value) FROM json_each(${alerts.notificationMethods}) WHERE value <> 'email')`,
      updatedAt: now,
    })
    .where(and(eq(alerts.userId, userId), eq(alerts.id, alertId), alertEmailUnsubscribable(userId, alertId, issuedAt)))
    .returning({ id: alerts.id });

/** What an unsubscribe token's alert looks like now (owner in the where). */
export const alertEmailState = (db: Db, userId: Owner, alertId: string) =>
  db
    .select({ name: alerts.name, isActive: alerts.isActive, notificationMethods: alerts.notificationMethods, emailResumedAt: alerts.emailResumedAt })
    .from(alerts)
    .where(and(eq(alerts.userId, userId), eq(alerts.id, alertId)));

/** What the dispatcher needs to know of a recipient (active accounts only), in one query. */
export interface RecipientRow {
  user_id: string;
  email: string;
  full_name: string;
  timezone: string | null;
  language: string | null;
  notification_prefs: string | null;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  /** 1 when a provider refused the current address for good. */
  suppressed: 0 | 1;
}

export const recipientRow = (db: Db, userId: Owner) =>
  db.all<RecipientRow>(sql`SELECT u.id AS user_id, u.email, u.full_name, pr.timezone, pr.language_preference AS language, pr.notification_preferences AS notification_prefs,
      p.quiet_hours_start, p.quiet_hours_end, NOT ${addressNotSuppressed} AS suppressed
    FROM ${users} u LEFT JOIN ${userProfiles} pr ON pr.user_id = u.id LEFT JOIN ${userPreferences} p ON p.user_id = u.id
    WHERE u.id = ${userId} AND u.status = 'active' AND u.deletion_requested_at IS NULL`);
