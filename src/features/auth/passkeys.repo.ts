import { and, asc, count, eq, gt, lt, max, sql, type SQL } from "drizzle-orm";
import { passkeys, users, webauthnChallenges, type WebauthnCeremony } from "../../db/tables";
import type { Owner } from "../../identity/owner";
import { otherWayToSignIn } from "../../identity/sign-in-methods.repo";
import { sha256Hex } from "../../platform/crypto";
import { insertIf, type Db } from "../../platform/db";

export type PasskeyRow = typeof passkeys.$inferSelect;

// ─── challenges ─────────────────────────────────────────────────────────────────────────────

/**
 * A pending challenge, for the caller's batch, with the sweep of expired ones (indexed by
 * expires_at, so it stays cheap). Only the SHA-256 of the client's `challenge_id` is stored.
 */
export function insertChallenge(db: Db, c: { challengeId: string; challenge: string; ceremony: WebauthnCeremony; userId: string | null; expiresAt: Date }, now: Date) {
  return [
    db.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, now)),
    db.insert(webauthnChallenges).values({ idHash: sha256Hex(c.challengeId), challenge: c.challenge, ceremony: c.ceremony, userId: c.userId, expiresAt: c.expiresAt, createdAt: now }),
  ] as const;
}

/**
 * Spends a challenge of `ceremony` that has not expired: ONE guarded DELETE … RETURNING, so a
 * challenge answers at most once, even to two concurrent requests, and never for the other
 * ceremony. `userId`: only a challenge bound to that user (registration).
 */
export async function consumeChallenge(db: Db, challengeId: string, ceremony: WebauthnCeremony, now: Date, userId?: string) {
  const rows = await db
    .delete(webauthnChallenges)
    .where(
      and(
        eq(webauthnChallenges.idHash, sha256Hex(challengeId)),
        eq(webauthnChallenges.ceremony, ceremony),
        gt(webauthnChallenges.expiresAt, now),
        userId !== undefined ? eq(webauthnChallenges.userId, userId) : undefined,
      ),
    )
    .returning({ challenge: webauthnChallenges.challenge, userId: webauthnChallenges.userId });
  return rows[0];
}

// ─── passkeys ───────────────────────────────────────────────────────────────────────────────

/** A passkey by its credential id, for sign-in (any user: the assertion proves whose it is). */
export const findPasskeyByCredentialId = (db: Db, credentialId: string) => db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId)).get();

/** The credential ids registered for an email (none for an unknown one): one indexed read. */
export const credentialsOfEmail = (db: Db, email: string) =>
  db
    .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .innerJoin(users, eq(users.id, passkeys.userId))
    .where(eq(users.email, email))
    .all();

/** Whether the user keeps a way to sign in once passkey `exceptPasskeyId` is gone (identity/sign-in-methods.repo.ts: password, passkeys, identities). */
export const otherSignInMethods = (userId: string, exceptPasskeyId: string): SQL => otherWayToSignIn(userId, { passkeyId: exceptPasskeyId });

/**
 * Records a successful assertion: the new counter, the backup state and the time of use, only
 * when the counter moved forward (or the authenticator does not count: both 0). No row back =
 * the counter went backwards, or a concurrent sign-in got there first.
 */
export const recordPasskeyUse = (db: Db, id: string, u: { counter: number; backedUp: boolean }, now: Date) =>
  db
    .update(passkeys)
    .set({ counter: u.counter, backedUp: u.backedUp, lastUsedAt: now })
    .where(and(eq(passkeys.id, id), u.counter === 0 ? eq(passkeys.counter, 0) : lt(passkeys.counter, u.counter)))
    .returning({ id: passkeys.id });

/** Sign-in methods figures of a user, for the admin view: passkey count and last use. */
export const passkeySummary = (db: Db, userId: string) =>
  db
    .select({ count: count(), lastUsedAt: max(passkeys.lastUsedAt) })
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .get();

/** Every passkey of a user, only when `condition` holds (admin reset-factors), for the caller's batch. */
export const removeAllPasskeysIf = (db: Db, userId: string, condition: SQL) => db.delete(passkeys).where(and(eq(passkeys.userId, userId), condition));

/** A user's passkeys; every statement carries the owner, so a foreign id is simply not found. */
export function passkeysRepo(db: Db, userId: Owner) {
  const mine = (id: string) => and(eq(passkeys.id, id), eq(passkeys.userId, userId));
  return {
    list: () => db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)).all(),
    get: (id: string) => db.select().from(passkeys).where(mine(id)).get(),
    /** Inserts the passkey while the user holds fewer than `max`. */
    insert: (row: Omit<typeof passkeys.$inferInsert, "userId">, maxPasskeys: number) =>
      insertIf(db, passkeys, { ...row, userId }, sql`(SELECT count(*) FROM ${passkeys} WHERE ${passkeys.userId} = ${userId}) < ${maxPasskeys}`),
    /** SQL condition: this user holds passkey `id` (after its insert, later in the batch). */
    hasPasskey: (id: string) => sql`EXISTS (SELECT 1 FROM ${passkeys} WHERE ${passkeys.id} = ${id} AND ${passkeys.userId} = ${userId})`,
    rename: (id: string, name: string) => db.update(passkeys).set({ name }).where(mine(id)).returning(),
    /** SQL condition under which `remove(id)` deletes: the user's passkey, and another way to sign in remains. */
    removable: (id: string) => sql`(EXISTS (SELECT 1 FROM ${passkeys} WHERE ${passkeys.id} = ${id} AND ${passkeys.userId} = ${userId}) AND ${otherSignInMethods(userId, id)})`,
    remove: (id: string) =>
      db
        .delete(passkeys)
        .where(and(mine(id), otherSignInMethods(userId, id)))
        .returning({ id: passkeys.id, name: passkeys.name }),
    credentials: () => db.select({ credentialId: passkeys.credentialId, transports: passkeys.transports }).from(passkeys).where(eq(passkeys.userId, userId)).all(),
  };
}
