import type { Owner } from "../../identity/owner";
import { and, eq, ne, sql } from "drizzle-orm";
import { alertMatches, alerts, tenders, userPreferences, userProfiles } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";

/** SQL: the digest was not turned back on after `issuedAt` (an unsubscribe token of that time still speaks for the user). */
const notResumedSince = (issuedAt: number) => sql`(${userPreferences.digestResumedAt} IS NULL OR ${userPreferences.digestResumedAt} <= ${issuedAt})`;

/**
 * The user's digest is on (frequency other than `never`) and was not turned back on after the
 * token's `issuedAt`: the guard of the one-click unsubscribe.
 */
export const digestOn = (userId: string, issuedAt: number) =>
  sql`EXISTS (SELECT 1 FROM ${userPreferences} WHERE ${userPreferences.userId} = ${userId} AND ${userPreferences.emailDigestFrequency} <> 'never' AND ${notResumedSince(issuedAt)})`;

/** The user's digest frequency and when it was last turned back on (the unsubscribe preview). */
export const digestFrequency = (db: Db, userId: Owner) =>
  db
    .select({ frequency: userPreferences.emailDigestFrequency, resumedAt: userPreferences.digestResumedAt })
    .from(userPreferences)
    .where(eq(userPreferences.userId, userId));

/**
 * One-click unsubscribe from the digest: frequency `never` (a trigger clears next_digest_at); a
 * digest already off is not written, nor one turned back on after the token was issued.
 */
export const turnDigestOff = (db: Db, userId: Owner, issuedAt: number, now: Date) =>
  db
    .update(userPreferences)
    .set({ emailDigestFrequency: "never", updatedAt: now })
    .where(and(eq(userPreferences.userId, userId), ne(userPreferences.emailDigestFrequency, "never"), notResumedSince(issuedAt)))
    .returning({ userId: userPreferences.userId });

export interface DueDigestRow {
  user_id: string;
  frequency: "immediate" | "daily" | "weekly" | "never";
  digest_time: string;
  last_sent_at: number | null;
  /** The next_digest_at this tick read: every write below is guarded by it. */
  next_at: number;
  timezone: string | null;
  /** `email_digest_weekday` (monday … sunday). */
  weekday: string;
  /** user_profiles.notification_preferences (JSON text). */
  notification_prefs: string | null;
  /** 1 when a match of an open tender, of an alert that emails, waits for an email. */
  has_pending: 0 | 1;
}

/**
 * Users whose digest slot has come (next_digest_at <= now), oldest slot first, at most `limit`:
 * a range of the partial index on next_digest_at. Each is then either sent its digest or moved to
 * its next slot, so the next read continues with the users after them.
 */
export const dueDigestUsers = (db: Db, now: Date, limit: number) =>
  db.all<DueDigestRow>(sql`
    SELECT p.user_id, p.email_digest_frequency AS frequency, p.email_digest_time AS digest_time, p.last_digest_sent_at AS last_sent_at,
      p.next_digest_at AS next_at, pr.timezone, p.email_digest_weekday AS weekday, pr.notification_preferences AS notification_prefs,
      EXISTS (SELECT 1 FROM ${alertMatches} m JOIN ${alerts} a ON a.id = m.alert_id JOIN ${tenders} t ON t.id = m.tender_id
              WHERE m.user_id = p.user_id AND m.notification_status = 'pending' AND m.outbox_id IS NULL
                AND (t.closing_date IS NULL OR t.closing_date > ${now.getTime()})
                AND EXISTS (SELECT 1 FROM json_each(a.notification_methods) WHERE value = 'email')) AS has_pending
    FROM ${userPreferences} p LEFT JOIN ${userProfiles} pr ON pr.user_id = p.user_id
    WHERE p.next_digest_at <= ${now.getTime()}
    ORDER BY p.next_digest_at LIMIT ${limit}`);

/**
 * The digest's claim, first statement of its group: stamps last_digest_sent_at and moves
 * next_digest_at to the next slot, only if both are still what this tick read. A concurrent or
 * rerun tick that already sent (or a preference change meanwhile) finds them changed.
 */
export const claimDigest = (db: Db, u: Pick<DueDigestRow, "user_id" | "last_sent_at" | "next_at">, now: Date, next: number | null) =>
  rawStatement(
    db,
    sql`UPDATE ${userPreferences} SET last_digest_sent_at = ${now.getTime()}, next_digest_at = ${next}
        WHERE user_id = ${u.user_id} AND last_digest_sent_at IS ${u.last_sent_at} AND next_digest_at IS ${u.next_at}`,
  );

/** Condition for the statement right after {@link claimDigest}: the claim changed a row. */
export const claimSucceeded = sql`changes() = 1`;

/**
 * Moves users looked at without a digest (not due, nothing pending, "never") to their next slot
 * (`[user_id, next_at read, next]`; next null = never): one statement, each row guarded by the
 * value read, so a preference changed meanwhile (next_digest_at = 0) is not overwritten.
 */
export const advanceDigests = (db: Db, rows: readonly (readonly [string, number, number | null])[]) =>
  rawStatement(
    db,
    sql`UPDATE ${userPreferences} SET next_digest_at = j.value ->> 2
        FROM json_each(${JSON.stringify(rows)}) AS j
        WHERE ${userPreferences.userId} = j.value ->> 0 AND ${userPreferences.nextDigestAt} = j.value ->> 1`,
  );
