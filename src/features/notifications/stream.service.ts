import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { hubOf, hubOfTicket, newTicket, TICKET_TTL_SECONDS } from "../../platform/notification-hub";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { revocationOf } from "../../platform/revocation";
import { SECOND } from "../../platform/time";
import { unreadCountMessage } from "./live";
import { liveRepo } from "./live.repo";

/**
 * POST /me/notifications/ticket: a single-use ticket for GET /me/notifications/stream, bound to
 * the caller and its session (browsers cannot set Authorization on a WebSocket). Per-user rate
 * first; the user's hub keeps only its sha256 and refuses a session it was told is revoked.
 */
export async function issueStreamTicket(ctx: RequestContext, actor: UserActor) {
  await rateLimit(ctx.env, `stream-ticket:user:${actor.userId}`, ctx.config.RATE_STREAM_TICKETS_PER_USER);
  const { ticket, hash } = newTicket(ctx.env, actor.userId);
  const stored = await hubOf(ctx.env, actor.userId).issueTicket(hash, { uid: actor.userId, sid: actor.sessionId }, ctx.now.getTime(), TICKET_TTL_SECONDS * SECOND);
  if (!stored) throw new AppError("unauthenticated", "Session has ended");
  return { ticket, expires_in: TICKET_TTL_SECONDS };
}

const UNKNOWN_TICKET = "Unknown, used or expired ticket: get a new one with POST /me/notifications/ticket";

/**
 * GET /me/notifications/stream?ticket=: a WebSocket upgrade only (426 otherwise, before the
 * ticket is touched), rate-limited per IP, then the ticket is spent in its hub (one step: used at
 * most once), the session and user checked against revocation, and the upgrade handed to the hub,
 * whose first message is the unread count.
 */
export async function openStream(ctx: RequestContext, ticket: string, upgrade: string | undefined): Promise<Response> {
  if (upgrade?.toLowerCase() !== "websocket") throw new AppError("upgrade_required", "Open this URL as a WebSocket (Upgrade: websocket)");
  await rateLimitIp(ctx, "stream", ctx.config.RATE_STREAM_CONNECT_PER_IP);
  const found = hubOfTicket(ctx.env, ticket);
  const grant = found ? await found.hub.spendTicket(found.hash, ctx.now.getTime()) : null;
  if (!found || !grant) throw new AppError("unauthenticated", UNKNOWN_TICKET);
  if (await revocationOf(ctx.env, ctx.config, grant.sid, grant.uid, ctx.now.getTime())) throw new AppError("unauthenticated", "Session has ended");
  const [unread] = await liveRepo(ctx.db, ctx.now).unreadCount(grant.uid);
  return found.hub.fetch("https://notification-hub/stream", {
    headers: { Upgrade: "websocket", "X-Keel-Session": grant.sid, "X-Keel-Hello": unreadCountMessage(unread?.n ?? 0) },
  });
}
