import { and, eq, gt, lt, sql, type SQL } from "drizzle-orm";
import type { Owner } from "../../identity/owner";
import { emailCodes } from "../../db/tables";
import type { Db } from "../../platform/db";

/** Wrong guesses a code survives: the 5th wrong one kills it, a 6th guess finds nothing. */
export const EMAIL_CODE_MAX_ATTEMPTS = 5;

/**
 * The one live code of a user: an upsert, so a new send replaces the old code and link (and
 * resets the guess count).
 */
export function putEmailCode(db: Db, userId: Owner, p: { codeHash: string; tokenHash: string; expiresAt: Date }, now: Date) {
  return db
    .insert(emailCodes)
    .values({ userId, ...p, attempts: 0, createdAt: now })
    .onConflictDoUpdate({ target: emailCodes.userId, set: { codeHash: p.codeHash, tokenHash: p.tokenHash, attempts: 0, expiresAt: p.expiresAt, createdAt: now } });
}

/**
 * Takes one guess at the user's live code, in one guarded statement: counts it and returns the
 * stored hash only while the code is live and has guesses left. Nothing back: no live code.
 */
export async function takeEmailCodeGuess(db: Db, userId: string, now: Date) {
  const rows = await db
    .update(emailCodes)
    .set({ attempts: sql`${emailCodes.attempts} + 1` })
    .where(and(eq(emailCodes.userId, userId), lt(emailCodes.attempts, EMAIL_CODE_MAX_ATTEMPTS), gt(emailCodes.expiresAt, now)))
    .returning({ codeHash: emailCodes.codeHash });
  return rows[0];
}

/** Spends the code whose hash matched: a guarded DELETE, so two concurrent right guesses sign in once. */
export async function spendEmailCode(db: Db, userId: string, codeHash: string, now: Date) {
  const rows = await db
    .delete(emailCodes)
    .where(and(eq(emailCodes.userId, userId), eq(emailCodes.codeHash, codeHash), gt(emailCodes.expiresAt, now)))
    .returning({ userId: emailCodes.userId });
  return rows[0];
}

/** Spends the code through its emailed link's token (the link dies with a dead code, too). */
export async function spendEmailCodeLink(db: Db, tokenHash: string, now: Date) {
  const rows = await db
    .delete(emailCodes)
    .where(and(eq(emailCodes.tokenHash, tokenHash), lt(emailCodes.attempts, EMAIL_CODE_MAX_ATTEMPTS), gt(emailCodes.expiresAt, now)))
    .returning({ userId: emailCodes.userId });
  return rows[0];
}

/** Drops the user's live code and link (for the caller's batch), only while `onlyIf` holds. */
export const dropEmailCode = (db: Db, userId: string, onlyIf: SQL) => db.delete(emailCodes).where(and(eq(emailCodes.userId, userId), onlyIf));
