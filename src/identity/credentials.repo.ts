import { eq, getTableColumns, sql } from "drizzle-orm";
import { apiKeys, orgApiKeys, users } from "../db/tables";
import type { Db } from "../platform/db";
import { NO_PASSWORD } from "./sign-in-methods";

/** What authentication reads in D1: session liveness, password age, API keys by hash. */

/** Whether the user is active and (when `sessionId` is given) that session is live, read from D1. */
export async function isSessionLive(db: Db, userId: string, sessionId: string, now: Date): Promise<boolean> {
  const row = await db.run(sql`
    SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${sessionId} AND s.user_id = ${userId} AND s.revoked_at IS NULL
      AND s.expires_at > ${now.getTime()} AND u.status = 'active'`);
  return row.results.length > 0;
}

/** When the user's password was set, and whether they have one at all (not the NO_PASSWORD marker). */
export async function passwordChangedAt(db: Db, userId: string): Promise<{ changedAt: Date; hasPassword: boolean } | undefined> {
  return db
    .select({ changedAt: users.passwordChangedAt, hasPassword: sql<boolean>`${users.passwordHash} NOT IN (${NO_PASSWORD}, '')`.mapWith(Boolean) })
    .from(users)
    .where(eq(users.id, userId))
    .get();
}

/**
 * Lookup by hash for authentication (not user-scoped: the key is the credential), with the
 * owner's status from D1, so a deactivated owner's keys stop even if the KV marker was lost.
 */
export const findApiKeyByHash = (db: Db, keyHash: string) =>
  db
    .select({
      ...getTableColumns(apiKeys),
      ownerStatus: users.status,
      ownerPasswordChangedAt: users.passwordChangedAt,
      ownerHasPassword: sql<boolean>`${users.passwordHash} NOT IN (${NO_PASSWORD}, '')`.mapWith(Boolean),
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.keyHash, keyHash))
    .get();

/** Adds batched usage: `count` more uses, last one at `lastUsedAt`. */
export const addApiKeyUsage = (db: Db, id: string, count: number, lastUsedAt: Date) =>
  db
    .update(apiKeys)
    .set({
      useCount: sql`${apiKeys.useCount} + ${count}`,
      lastUsedAt: sql`max(coalesce(${apiKeys.lastUsedAt}, 0), ${lastUsedAt.getTime()})`,
    })
    .where(eq(apiKeys.id, id));

export type ApiKeyCredentialRow = NonNullable<Awaited<ReturnType<typeof findApiKeyByHash>>>;

/** An organization key by hash, for authentication (not organization-scoped: the key is the credential). */
export const findOrgApiKeyByHash = (db: Db, keyHash: string) => db.select().from(orgApiKeys).where(eq(orgApiKeys.keyHash, keyHash)).get();

/** Adds batched usage of an organization key. */
export const addOrgApiKeyUsage = (db: Db, id: string, count: number, lastUsedAt: Date) =>
  db
    .update(orgApiKeys)
    .set({
      useCount: sql`${orgApiKeys.useCount} + ${count}`,
      lastUsedAt: sql`max(coalesce(${orgApiKeys.lastUsedAt}, 0), ${lastUsedAt.getTime()})`,
    })
    .where(eq(orgApiKeys.id, id));
