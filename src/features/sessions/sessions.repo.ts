import type { Owner } from "../../identity/owner";
import { and, desc, eq, gt, isNotNull, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import { oneTimeTokens, refreshTokens, sessions, userDevices } from "../../db/tables";
import { inJsonArray, insertIf, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";
import { DAY } from "../../platform/time";

export type SessionRow = typeof sessions.$inferSelect;

export interface NewSession {
  id: string;
  userId: string;
  deviceName: string | null;
  ipAddress: string;
  userAgent: string;
  country: string | null;
  city: string | null;
  expiresAt: Date;
}

/** Sessions of one user; every statement carries the owner. */
export function sessionsRepo(db: Db, userId: Owner) {
  const mine = eq(sessions.userId, userId);
  return {
    insert: (s: Omit<NewSession, "userId">, now: Date) =>
      db.insert(sessions).values({ ...s, userId, createdAt: now, lastUsedAt: now, authTime: now }),
    /**
     * Step-up (POST /auth/reauthenticate): guarded on this live session of this user, records the
     * fresh authentication and expires its unspent refresh tokens (the caller gets a new one).
     */
    reauthenticated: (id: string, now: Date) => [
      db
        .update(sessions)
        .set({ authTime: now })
        .where(and(mine, eq(sessions.id, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .returning({ id: sessions.id, expiresAt: sessions.expiresAt, createdAt: sessions.createdAt }),
      db
        .delete(refreshTokens)
        .where(and(eq(refreshTokens.userId, userId), eq(refreshTokens.sessionId, id), isNull(refreshTokens.usedAt))),
    ] as const,
    listActive: (now: Date) =>
      db
        .select()
        .from(sessions)
        .where(and(mine, isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(desc(sessions.lastUsedAt), desc(sessions.id)),
    /** Guarded: revokes one live session of this user; returns it when it was live. */
    revoke: (id: string, reason: string, now: Date) =>
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(mine, eq(sessions.id, id), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id }),
    /** Revokes every live session of this user, except `keep` when given. */
    revokeAll: (reason: string, now: Date, keep?: string) =>
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(mine, isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined))
        .returning({ id: sessions.id }),
    /** SQL condition: session `id` of this user is live. */
    isLive: (id: string, now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${sessions} WHERE ${sessions.id} = ${id} AND ${sessions.userId} = ${userId} AND ${sessions.revokedAt} IS NULL AND ${sessions.expiresAt} > ${now.getTime()})`,
  };
}

export function insertRefreshToken(db: Db, t: { sessionId: string; userId: string; tokenHash: string; expiresAt: Date }, now: Date) {
  return db.insert(refreshTokens).values({ id: newId("rft", now.getTime()), ...t, createdAt: now });
}

/** insertRefreshToken, only when `guard` holds (a step-up on a live session). */
export function insertRefreshTokenIf(db: Db, t: { sessionId: string; userId: string; tokenHash: string; expiresAt: Date }, now: Date, guard: SQL) {
  return insertIf(db, refreshTokens, { id: newId("rft", now.getTime()), ...t, createdAt: now }, guard);
}

/**
 * Spends a refresh token: one guarded statement, so of two concurrent refreshes with the same
 * token exactly one gets the row back (D1 has no interactive transactions to lock with).
 */
export function spendRefreshToken(db: Db, tokenHash: string, now: Date) {
  return db
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt), gt(refreshTokens.expiresAt, now)))
    .returning({ sessionId: refreshTokens.sessionId, userId: refreshTokens.userId });
}

export const findRefreshToken = (db: Db, tokenHash: string) =>
  db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();

/** The state of a session, for refresh. */
export const sessionForRefresh = (db: Db, sessionId: string) =>
  db
    .select({ id: sessions.id, createdAt: sessions.createdAt, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt, authTime: sessions.authTime })
    .from(sessions)
    .where(eq(sessions.id, sessionId))
    .get();

export function touchSession(db: Db, sessionId: string, s: { ip: string; userAgent: string; expiresAt: Date }, now: Date) {
  return db
    .update(sessions)
    .set({ lastUsedAt: now, ipAddress: s.ip, userAgent: s.userAgent, expiresAt: s.expiresAt })
    .where(eq(sessions.id, sessionId));
}

/**
 * SQL condition: the user has signed in before (a session is on record), but never from
 * `country` (among the sessions kept: ended sessions are purged 30 days after they end).
 */
export const isNewCountryForReturningUser = (userId: string | SQL, country: string) =>
  sql`EXISTS (SELECT 1 FROM ${sessions} WHERE ${sessions.userId} = ${userId})
    AND NOT EXISTS (SELECT 1 FROM ${sessions} WHERE ${sessions.userId} = ${userId} AND ${sessions.country} = ${country})`;

// ─── devices ───────────────────────────────────────────────────────────────────────────────

/**
 * SQL condition: the user has signed in before, but never from `fingerprint` (a first ever
 * sign-in is not news; a sign-in from an unseen device after that is).
 */
export const isNewDeviceForReturningUser = (userId: string | SQL, fingerprint: string) =>
  sql`EXISTS (SELECT 1 FROM ${userDevices} WHERE ${userDevices.userId} = ${userId})
    AND NOT EXISTS (SELECT 1 FROM ${userDevices} WHERE ${userDevices.userId} = ${userId} AND ${userDevices.fingerprint} = ${fingerprint})`;

/** SQL condition: the user signed in from `fingerprint` after `since` (its row need not be touched). */
export const isDeviceSeenSince = (userId: string | SQL, fingerprint: string, since: Date) =>
  sql`EXISTS (SELECT 1 FROM ${userDevices} WHERE ${userDevices.userId} = ${userId} AND ${userDevices.fingerprint} = ${fingerprint} AND ${userDevices.lastSeenAt} > ${since.getTime()})`;

export function upsertDevice(db: Db, userId: string, fingerprint: string, now: Date) {
  return db
    .insert(userDevices)
    .values({ userId, fingerprint, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({ target: [userDevices.userId, userDevices.fingerprint], set: { lastSeenAt: now } });
}

// ─── housekeeping ──────────────────────────────────────────────────────────────────────────

/**
 * Deletes what can no longer be used: expired one-time tokens, refresh tokens past expiry,
 * and sessions that ended more than 30 days ago (kept a while for the user's session history).
 */
export async function purgeExpiredCredentials(db: Db, now: Date): Promise<Record<string, number>> {
  const cutoff = new Date(now.getTime() - 30 * DAY);
  const [ott, rft, ses] = await db.batch([
    db.delete(oneTimeTokens).where(lt(oneTimeTokens.expiresAt, now)),
    db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)),
    db
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, cutoff), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, cutoff)))),
  ]);
  return {
    one_time_tokens: ott.meta.changes ?? 0,
    refresh_tokens: rft.meta.changes ?? 0,
    sessions: ses.meta.changes ?? 0,
  };
}

// ─── administration (features/admin calls these in its guarded batches over a JSON list of user ids) ───

/** Ends every live session of the listed users; returns them with their last use (see the caller). */
export function revokeSessionsOf(db: Db, idsJson: string, reason: string, now: Date, guard: (userId: unknown) => SQL) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(sql`${inJsonArray(sessions.userId, idsJson)} AND ${sessions.revokedAt} IS NULL AND ${guard(sessions.userId)}`)
    .returning({ id: sessions.id, lastUsedAt: sessions.lastUsedAt, userId: sessions.userId });
}
