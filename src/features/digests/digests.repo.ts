import { and, eq, ne, sql } from "drizzle-orm";
import { alertMatches, alerts, emailOutbox, userPreferences, userProfiles } from "../../db/schema";
import { rawStatement, type Db } from "../../platform/db";

/** The user's digest is on (frequency other than `never`): the guard of the one-click unsubscribe. */
export const digestOn = (userId: string) =>
  sql`EXISTS (SELECT 1 FROM ${userPreferences} WHERE ${userPreferences.userId} = ${userId} AND ${userPreferences.emailDigestFrequency} <> 'never')`;

/** The user's digest frequency (the unsubscribe preview). */
export const digestFrequency = (db: Db, userId: string) =>
  db.select({ frequency: userPreferences.emailDigestFrequency }).from(userPreferences).where(eq(userPreferences.userId, userId));

/** One-click unsubscribe from the digest: frequency `never`; a digest already off is not written. */
export const turnDigestOff = (db: Db, userId: string, now: Date) =>
  db
    .update(userPreferences)
    .set({ emailDigestFrequency: "never", updatedAt: now })
    .where(and(eq(userPreferences.userId, userId), ne(userPreferences.emailDigestFrequency, "never")))
    .returning({ userId: userPreferences.userId });


/**
 * Users who may be due a digest: pending matches of an alert that emails, digest not `never`.
 * Bounded per tick; the rest wait for the next tick (a slot stays due for DIGEST_CATCH_UP_MINUTES).
 */
export const digestCandidates = (db: Db, limit: number) =>
  db.all<{ user_id: string; frequency: "immediate" | "daily" | "weekly"; digest_time: string; last_sent_at: number | null; timezone: string | null }>(sql`
    SELECT p.user_id, p.email_digest_frequency AS frequency, p.email_digest_time AS digest_time, p.last_digest_sent_at AS last_sent_at, pr.timezone
    FROM ${userPreferences} p LEFT JOIN ${userProfiles} pr ON pr.user_id = p.user_id
    WHERE p.email_digest_frequency <> 'never'
      AND EXISTS (SELECT 1 FROM ${alertMatches} m JOIN ${alerts} a ON a.id = m.alert_id
                  WHERE m.user_id = p.user_id AND m.notification_status = 'pending'
                    AND EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = 'email'))
    LIMIT ${limit}`);

/**
 * The digest's claim, first statement of its batch: stamps last_digest_sent_at only if it is
 * still what this tick read. A concurrent or rerun tick that already sent finds it changed.
 */
export const claimDigest = (db: Db, userId: string, lastRead: number | null, now: Date) =>
  rawStatement(
    db,
    sql`UPDATE ${userPreferences} SET last_digest_sent_at = ${now.getTime()} WHERE user_id = ${userId} AND last_digest_sent_at IS ${lastRead}`,
  );

/** Condition for the statement right after {@link claimDigest}: the claim changed a row. */
export const claimSucceeded = sql`changes() = 1`;

/** Marks the digest's matches sent, only if its outbox row was written in this batch. */
export const markDigestMatchesSent = (db: Db, matchIds: readonly string[], outboxId: string, now: Date) =>
  rawStatement(
    db,
    sql`UPDATE ${alertMatches} SET notification_status = 'sent', notified_at = ${now.getTime()}
        WHERE id IN (SELECT value FROM json_each(${JSON.stringify(matchIds)})) AND notification_status = 'pending'
          AND EXISTS (SELECT 1 FROM ${emailOutbox} WHERE ${emailOutbox.id} = ${outboxId})`,
  );
