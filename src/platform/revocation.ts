import type { Env } from "../env";
import type { Config } from "./config";
import { IsolateCache } from "./isolate-cache";
import { setStreamsBlocked } from "./notification-hub";
import { SECOND } from "./time";

/**
 * Edge view of revocations. D1 is the truth (sessions.revoked_at, users.status); KV carries
 * markers so every location can refuse a revoked access token without a D1 round trip:
 *
 * - `rs:<sessionId>`: the session was revoked. TTL = access-token lifetime + 60 s, after which
 *   every access token of the session has expired anyway.
 * - `ub:<userId>`: the user is not active (deactivated, suspended). No TTL; removed on reactivation.
 *
 * KV is eventually consistent: other locations see a marker within ~60 s (KV's propagation),
 * plus at most REVOCATION_CACHE_SECONDS during which an isolate trusts its last "not revoked"
 * answer. The isolate that revokes refuses at once (the in-memory set below), and sensitive
 * operations check D1 itself.
 */
const revokedHere = new IsolateCache<string, true>(10_000); // marker key, until it expires
const clearedUntil = new IsolateCache<string, true>(10_000); // "sid|uid": trusted "not revoked"

const sessionKey = (sid: string) => `rs:${sid}`;
const userKey = (uid: string) => `ub:${uid}`;

/** Publishes revoked sessions to this isolate and to KV. */
export async function publishRevokedSessions(env: Env, config: Config, sessionIds: readonly string[], now: number): Promise<void> {
  const ttl = config.ACCESS_TOKEN_TTL_SECONDS + 60;
  for (const sid of sessionIds) revokedHere.set(sessionKey(sid), true, now, ttl * SECOND);
  clearedUntil.clear();
  await Promise.all(sessionIds.map((sid) => env.CACHE.put(sessionKey(sid), "1", { expirationTtl: ttl })));
}

/** Publishes that a user may no longer use any token (status not active), or clears it. */
export async function publishUserBlocked(env: Env, userId: string, status: string | null): Promise<void> {
  clearedUntil.clear();
  await setStreamsBlocked(env, userId, status !== null); // live notification streams close (or may open again)
  if (status) {
    revokedHere.set(userKey(userId), true, 0, Infinity); // until reactivation
    await env.CACHE.put(userKey(userId), status);
  } else {
    revokedHere.delete(userKey(userId));
    await env.CACHE.delete(userKey(userId));
  }
}

/** Why a token of (session, user) must be refused, or null when it may be used. */
export async function revocationOf(
  env: Env,
  config: Config,
  sessionId: string | null,
  userId: string,
  now: number,
): Promise<"session_revoked" | "user_inactive" | null> {
  const uKey = userKey(userId);
  const sKey = sessionId ? sessionKey(sessionId) : null;
  if (revokedHere.get(uKey, now)) return "user_inactive";
  if (sKey && revokedHere.get(sKey, now)) return "session_revoked";
  const cacheKey = `${sessionId ?? ""}|${userId}`;
  if (clearedUntil.get(cacheKey, now)) return null;

  const [userMarker, sessionMarker] = await Promise.all([
    env.CACHE.get(uKey),
    sKey ? env.CACHE.get(sKey) : Promise.resolve(null),
  ]);
  if (userMarker !== null) return "user_inactive";
  if (sessionMarker !== null) return "session_revoked";
  clearedUntil.set(cacheKey, true, now, config.REVOCATION_CACHE_SECONDS * SECOND);
  return null;
}
