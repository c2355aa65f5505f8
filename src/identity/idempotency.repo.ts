import { and, eq, sql } from "drizzle-orm";
import { idempotencyKeys } from "../db/tables";
import type { Db } from "../platform/db";

/** Storage of Idempotency-Key claims (identity/idempotency.ts decides what they mean). */

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

export interface NewClaim {
  caller: string;
  key: string;
  userId: string | null;
  fingerprint: string;
  claim: string;
  now: Date;
  leaseUntil: Date;
  expiresAt: Date;
}

/**
 * ONE guarded statement: inserts the claim, or takes over the existing row when it has expired,
 * or when it is a dead `running` claim (lease over) of the same request. Returns whether this
 * request holds the claim now.
 */
export async function claimKey(db: Db, c: NewClaim): Promise<boolean> {
  const t = idempotencyKeys;
  const now = c.now.getTime();
  const rows = await db
    .insert(t)
    .values({
      caller: c.caller,
      key: c.key,
      userId: c.userId,
      fingerprint: c.fingerprint,
      state: "running",
      claim: c.claim,
      leaseUntil: c.leaseUntil,
      createdAt: c.now,
      expiresAt: c.expiresAt,
    })
    .onConflictDoUpdate({
      target: [t.caller, t.key],
      set: {
        userId: c.userId,
        fingerprint: c.fingerprint,
        state: "running",
        claim: c.claim,
        leaseUntil: c.leaseUntil,
        status: null,
        headers: null,
        body: null,
        createdAt: c.now,
        expiresAt: c.expiresAt,
      },
      setWhere: sql`${t.expiresAt} <= ${now} OR (${t.state} = 'running' AND ${t.leaseUntil} <= ${now} AND ${t.fingerprint} = ${c.fingerprint})`,
    })
    .returning({ claim: t.claim });
  return rows.some((r) => r.claim === c.claim);
}

export const findKey = (db: Db, caller: string, key: string) =>
  db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.caller, caller), eq(idempotencyKeys.key, key))).get();

/** Records the final response of the claim (body null: not kept). */
export async function finishKey(db: Db, caller: string, key: string, claim: string, out: { status: number; headers: Record<string, string>; body: string | null }) {
  const t = idempotencyKeys;
  await db
    .update(t)
    .set({ state: "done", status: out.status, headers: out.headers, body: out.body })
    .where(and(eq(t.caller, caller), eq(t.key, key), eq(t.claim, claim)));
}

/** Gives the key back (a 5xx or 429: the request may be retried and run). */
export async function releaseKey(db: Db, caller: string, key: string, claim: string) {
  const t = idempotencyKeys;
  await db.delete(t).where(and(eq(t.caller, caller), eq(t.key, key), eq(t.claim, claim)));
}

/** Deletes expired rows, at most `limit` per call; returns how many. */
export async function purgeExpiredKeys(db: Db, now: Date, limit = 1000): Promise<number> {
  const t = idempotencyKeys;
  const res = await db.run(
    sql`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE ${t.expiresAt} <= ${now.getTime()} LIMIT ${limit})`,
  );
  return res.meta.changes ?? 0;
}
