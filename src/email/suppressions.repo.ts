import { and, eq, sql } from "drizzle-orm";
import { emailSuppressions, users } from "../db/tables";
import { rawStatement, type Db } from "../platform/db";

/** Templates that stop going to a suppressed address (alerts and digests; account mail still goes). */
export const SUPPRESSIBLE_TEMPLATES: ReadonlySet<string> = new Set(["alert_match", "daily_digest", "weekly_digest", "reminder", "tender_changed"]);

export const suppressionsRepo = (db: Db) => ({
  /** The user's suppression while it applies (its address is still the user's email), else undefined. */
  active: (userId: string) =>
    db
      .select({ reason: emailSuppressions.reason, since: emailSuppressions.createdAt })
      .from(emailSuppressions)
      .innerJoin(users, and(eq(users.id, emailSuppressions.userId), eq(users.email, emailSuppressions.address)))
      .where(eq(emailSuppressions.userId, userId))
      .get(),
  /** Whether alert and digest mail to `address` is suppressed for this user. */
  isSuppressed: async (userId: string, address: string) =>
    (await db
      .select({ one: sql<number>`1` })
      .from(emailSuppressions)
      .where(and(eq(emailSuppressions.userId, userId), eq(emailSuppressions.address, address)))
      .get()) !== undefined,
  /**
   * Suppresses `address` for the user, only if it is still the user's email (a refusal of an old
   * address after an email change suppresses nothing). For a batch.
   */
  suppress: (userId: string, address: string, reason: "rejected" | "bounced", now: Date) =>
    rawStatement(
      db,
      sql`INSERT INTO ${emailSuppressions} (user_id, address, reason, created_at)
        SELECT ${users.id}, ${users.email}, ${reason}, ${now.getTime()} FROM ${users} WHERE ${users.id} = ${userId} AND ${users.email} = ${address}
        ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, reason = excluded.reason, created_at = excluded.created_at`,
    ),
  /** Verification of the address again lifts the suppression. For a batch. */
  lift: (userId: string) => db.delete(emailSuppressions).where(eq(emailSuppressions.userId, userId)),
});
