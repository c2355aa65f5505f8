import type { TicketGrant } from "../durable-objects/notification-hub";
import type { Env } from "../env";
import type { Config } from "./config";
import { randomToken, sha256Hex } from "./crypto";
import { log } from "./log";
import { SECOND } from "./time";

/** Seconds a stream ticket lives (API.md: `expires_in: 60`). */
export const TICKET_TTL_SECONDS = 60 as const;

/** The live notification hub of one user (durable-objects/notification-hub.ts). */
export const hubOf = (env: Env, userId: string) => env.NOTIFICATION_HUB.get(env.NOTIFICATION_HUB.idFromName(userId));

/**
 * A new stream ticket: `<hub id>.<256 random bits>`. The hub id (an opaque hex string, not the
 * user id) says which hub holds it; the hub keeps only the sha256 of the whole ticket.
 */
export function newTicket(env: Env, userId: string): { ticket: string; hash: string } {
  const ticket = `${env.NOTIFICATION_HUB.idFromName(userId).toString()}.${randomToken(32)}`;
  return { ticket, hash: sha256Hex(ticket) };
}

/** The hub a presented ticket names and the hash to look up, or null for anything malformed. */
export function hubOfTicket(env: Env, ticket: string) {
  const m = /^([0-9a-f]{64})\.[A-Za-z0-9_-]{43}$/.exec(ticket);
  if (!m) return null;
  try {
    return { hub: env.NOTIFICATION_HUB.get(env.NOTIFICATION_HUB.idFromString(m[1]!)), hash: sha256Hex(ticket) };
  } catch {
    return null; // not an id of this namespace
  }
}

/** How long a hub remembers a revoked session: as long as an access token of it may still pass the edge check. */
const rememberMs = (config: Config) => (config.ACCESS_TOKEN_TTL_SECONDS + 60) * SECOND;

/**
 * After sessions were revoked in D1: their notification streams close now (code 4001) and their
 * unspent tickets are dropped. Never throws (revocation already committed; the socket would be
 * refused at its next ticket anyway).
 */
export async function closeStreams(env: Env, config: Config, userId: string, sessionIds: readonly string[], now: number): Promise<void> {
  if (sessionIds.length === 0) return;
  try {
    const hub = hubOf(env, userId);
    for (let i = 0; i < sessionIds.length; i += 100) await hub.closeSessions(sessionIds.slice(i, i + 100), now, rememberMs(config));
  } catch (err) {
    log.warn("closing notification streams failed", { sessions: sessionIds.length }, err);
  }
}

/** Sessions ended by a batch over several users (admin): each user's streams of them close. */
export async function closeStreamsOf(env: Env, config: Config, ended: readonly { id: string; userId?: string }[], now: number): Promise<void> {
  const byUser = new Map<string, string[]>();
  for (const s of ended) if (s.userId) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s.id]);
  await Promise.all([...byUser].map(([userId, ids]) => closeStreams(env, config, userId, ids, now)));
}

/** The user may no longer sign in (or may again): every stream closes and none opens while blocked. Never throws. */
export async function setStreamsBlocked(env: Env, userId: string, blocked: boolean): Promise<void> {
  try {
    await hubOf(env, userId).setBlocked(blocked);
  } catch (err) {
    log.warn("blocking notification streams failed", {}, err);
  }
}

export type { TicketGrant };
