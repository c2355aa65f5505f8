import type { Env } from "../env";
import type { Config } from "./config";

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
const revokedHere = new Map<string, number>(); // marker key → expiry (ms)
const clearedUntil = new Map<string, number>(); // "sid|uid" → trust "not revoked" until (ms)
const MAX_ENTRIES = 10_000;

function remember<K>(map: Map<K, number>, key: K, until: number): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, until);
}

const sessionKey = (sid: string) => `rs:${sid}`;
const userKey = (uid: string) => `ub:${uid}`;

/** Publishes revoked sessions to this isolate and to KV. */
export async function publishRevokedSessions(env: Env, config: Config, sessionIds: readonly string[], now: number): Promise<void> {
  const ttl = config.ACCESS_TOKEN_TTL_SECONDS + 60;
  for (const sid of sessionIds) remember(revokedHere, sessionKey(sid), now + ttl * 1000);
  clearedUntil.clear();
  await Promise.all(sessionIds.map((sid) => env.CACHE.put(sessionKey(sid), "1", { expirationTtl: ttl })));
}

/** Publishes that a user may no longer use any token (status not active), or clears it. */
export async function publishUserBlocked(env: Env, userId: string, status: string | null): Promise<void> {
  clearedUntil.clear();
  if (status) {
    remember(revokedHere, userKey(userId), Number.MAX_SAFE_INTEGER);
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
  const u = revokedHere.get(uKey);
  if (u !== undefined && u > now) return "user_inactive";
  if (sKey) {
    const s = revokedHere.get(sKey);
    if (s !== undefined && s > now) return "session_revoked";
  }
  const cacheKey = `${sessionId ?? ""}|${userId}`;
  const trusted = clearedUntil.get(cacheKey);
  if (trusted !== undefined && trusted > now) return null;

  const [userMarker, sessionMarker] = await Promise.all([
    env.CACHE.get(uKey),
    sKey ? env.CACHE.get(sKey) : Promise.resolve(null),
  ]);
  if (userMarker !== null) return "user_inactive";
  if (sessionMarker !== null) return "session_revoked";
  if (config.REVOCATION_CACHE_SECONDS > 0) remember(clearedUntil, cacheKey, now + config.REVOCATION_CACHE_SECONDS * 1000);
  return null;
}
