import type { Owner } from "../../identity/owner";
import { and, desc, eq, isNull, sql, type SQL } from "drizzle-orm";
import { apiKeys } from "../../db/tables";
import { inJsonArray, insertIf, type Db } from "../../platform/db";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** API keys of one user. Every query carries the owner, so a foreign id is simply not found. */
export function apiKeysRepo(db: Db, userId: Owner) {
  const mine = eq(apiKeys.userId, userId);
  return {
    /**
     * Inserts a key in ONE guarded statement, only while the user holds fewer than `max`
     * unrevoked keys (expired ones included: they are listed until revoked). `meta.changes` tells
     * whether it was written; concurrent creates cannot pass the cap.
     */
    insertWithinCap: (row: Omit<typeof apiKeys.$inferInsert, "userId">, max: number) =>
      insertIf(db, apiKeys, { ...row, userId }, sql`(SELECT count(*) FROM api_keys c WHERE c.user_id = ${userId} AND c.revoked_at IS NULL) < ${max}`),
    /** SQL condition: this user's key `id` exists (for the audit row of its creation). */
    exists: (id: string) => sql`EXISTS (SELECT 1 FROM api_keys x WHERE x.id = ${id} AND x.user_id = ${userId})`,
    list: () => db.select().from(apiKeys).where(and(mine, isNull(apiKeys.revokedAt))).orderBy(desc(apiKeys.id)),
    /** SQL condition: this user's key `id` exists and is not revoked. */
    isLive: (id: string) =>
      sql`EXISTS (SELECT 1 FROM ${apiKeys} WHERE ${apiKeys.id} = ${id} AND ${apiKeys.userId} = ${userId} AND ${apiKeys.revokedAt} IS NULL)`,
    /** Revokes every live key of this user (a new password); returns their hashes to evict and tombstone the caches. */
    revokeAll: (now: Date) =>
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(mine, isNull(apiKeys.revokedAt)))
        .returning({ keyHash: apiKeys.keyHash }),
    /** Guarded revoke: only a live key of this user; returns its hash to evict caches. */
    revoke: (id: string, now: Date) =>
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(mine, eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id, keyHash: apiKeys.keyHash }),
  };
}

// ─── administration (features/admin calls these in its guarded batches over a JSON list of user ids) ───

/** Revokes every live API key of the listed users (account deletion, a new password); returns their hashes. */
export function revokeApiKeysOf(db: Db, idsJson: string, now: Date, guard: ((userId: unknown) => SQL) | null) {
  return db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(sql`${inJsonArray(apiKeys.userId, idsJson)} AND ${apiKeys.revokedAt} IS NULL${guard ? sql` AND ${guard(apiKeys.userId)}` : sql``}`)
    .returning({ id: apiKeys.id, keyHash: apiKeys.keyHash });
}
