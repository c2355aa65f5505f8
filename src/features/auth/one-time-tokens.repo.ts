import { and, eq, gt, type SQL } from "drizzle-orm";
import { oneTimeTokens, type OneTimePurpose } from "../../db/tables";
import { randomToken, sha256Hex } from "../../platform/crypto";
import { insertIf, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";

/**
 * Issues a single-use token: returns the token (to email or hand out once) and the statements
 * for the caller's batch. Only the SHA-256 is stored. Unless `replace` is false, earlier tokens
 * of the same purpose are removed in the same batch, so only the newest link works.
 */
export function issueOneTimeToken(
  db: Db,
  p: { userId: string; purpose: OneTimePurpose; ttlMs: number; data?: Record<string, unknown>; replace?: boolean; onlyIf?: SQL },
  now: Date,
) {
  const token = randomToken(32);
  const values = {
    id: newId("ott", now.getTime()),
    userId: p.userId,
    purpose: p.purpose,
    tokenHash: sha256Hex(token),
    data: p.data ?? {},
    expiresAt: new Date(now.getTime() + p.ttlMs),
    createdAt: now,
  };
  // `onlyIf`: both statements are guarded by it (a caller's rule held by the statements themselves).
  const insert = p.onlyIf ? insertIf(db, oneTimeTokens, values, p.onlyIf) : db.insert(oneTimeTokens).values(values);
  const removeEarlier = db.delete(oneTimeTokens).where(and(eq(oneTimeTokens.userId, p.userId), eq(oneTimeTokens.purpose, p.purpose), p.onlyIf));
  return { token, statements: p.replace === false ? [insert] : [removeEarlier, insert] };
}

/** Reads a live token without spending it (to validate input before consuming). */
export const peekOneTimeToken = (db: Db, token: string, purpose: OneTimePurpose, now: Date) =>
  db
    .select()
    .from(oneTimeTokens)
    .where(and(eq(oneTimeTokens.tokenHash, sha256Hex(token)), eq(oneTimeTokens.purpose, purpose), gt(oneTimeTokens.expiresAt, now)))
    .get();

/**
 * Spends a token: a guarded DELETE … RETURNING, so two concurrent uses get it once between them.
 */
export async function consumeOneTimeToken(db: Db, token: string, purpose: OneTimePurpose, now: Date) {
  const rows = await db
    .delete(oneTimeTokens)
    .where(and(eq(oneTimeTokens.tokenHash, sha256Hex(token)), eq(oneTimeTokens.purpose, purpose), gt(oneTimeTokens.expiresAt, now)))
    .returning({ userId: oneTimeTokens.userId, data: oneTimeTokens.data });
  return rows[0];
}

/** Removes every pending token of `purpose` of a user (for the caller's batch), only while `onlyIf` holds when given. */
export const revokeOneTimeTokens = (db: Db, userId: string, purpose: OneTimePurpose, onlyIf?: SQL) =>
  db.delete(oneTimeTokens).where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose), onlyIf));
