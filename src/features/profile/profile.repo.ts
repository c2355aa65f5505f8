import type { Owner } from "../../identity/owner";
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { IfMatch } from "../../platform/etag";
import { userPreferences, userProfiles } from "../../db/tables";
import type { Db } from "../../platform/db";

export type ProfileRow = typeof userProfiles.$inferSelect;
export type PreferencesRow = typeof userPreferences.$inferSelect;
export type ProfilePatch = Partial<Omit<typeof userProfiles.$inferInsert, "userId" | "createdAt" | "updatedAt">>;
export type PreferencesPatch = Partial<Omit<typeof userPreferences.$inferInsert, "userId" | "updatedAt" | "lastDigestSentAt">>;

/**
 * The signed-in user's profile and preferences (one row each, created with the user in the
 * registration batch). Every statement carries the owner.
 */
export function profileRepo(db: Db, userId: Owner) {
  const mine = eq(userProfiles.userId, userId);
  const minePrefs = eq(userPreferences.userId, userId);

  /** The bound as it will be after the patch: the new value when sent, else the stored one. */
  const bound = (patch: ProfilePatch, key: "minTenderValue" | "maxTenderValue"): SQL =>
    key in patch ? sql`${patch[key] ?? null}` : sql`${userProfiles[key]}`;

  return {
    getProfile: () => db.select().from(userProfiles).where(mine).get(),
    getPreferences: () => db.select().from(userPreferences).where(minePrefs).get(),

    /**
     * Applies the patch only if the resulting value range is ordered (min ≤ max), in one guarded
     * statement: two concurrent PATCHes (one raising min, one lowering max) cannot leave the
     * row inverted. No row back = the range would be inverted (or no profile).
     */
    updateProfile: (patch: ProfilePatch, now: Date, ifMatch?: IfMatch) => {
      const min = bound(patch, "minTenderValue");
      const max = bound(patch, "maxTenderValue");
      return db
        .update(userProfiles)
        .set({ ...patch, updatedAt: now })
        .where(and(mine, sql`(${min} IS NULL OR ${max} IS NULL OR ${min} <= ${max})`, ifMatch ? inArray(userProfiles.updatedAt, [...ifMatch]) : undefined))
        .returning();
    },

    /** SQL condition, for an audit row later in the same batch: the profile was written at `now`. */
    profileWrittenAt: (now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${userProfiles} WHERE ${userProfiles.userId} = ${userId} AND ${userProfiles.updatedAt} = ${now.getTime()})`,

    /** SQL condition, for an audit row later in the same batch: the preferences were written at `now`. */
    preferencesWrittenAt: (now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${userPreferences} WHERE ${userPreferences.userId} = ${userId} AND ${userPreferences.updatedAt} = ${now.getTime()})`,

    /** `ifMatch`: the write happens only on one of those versions (If-Match, checked by the statement itself). */
    updatePreferences: (patch: PreferencesPatch, now: Date, ifMatch?: IfMatch) =>
      db
        .update(userPreferences)
        .set({
          ...patch,
          // Turning the digest back on (from `never`) refuses unsubscribe links issued before now.
          ...(patch.emailDigestFrequency !== undefined && patch.emailDigestFrequency !== "never"
            ? { digestResumedAt: sql`CASE WHEN ${userPreferences.emailDigestFrequency} = 'never' THEN ${now.getTime()} ELSE ${userPreferences.digestResumedAt} END` }
            : {}),
          updatedAt: now,
        })
        .where(and(minePrefs, ifMatch ? inArray(userPreferences.updatedAt, [...ifMatch]) : undefined))
        .returning(),
  };
}
