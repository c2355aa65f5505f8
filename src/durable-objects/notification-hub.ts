import { DurableObject } from "cloudflare:workers";

/** What a stream ticket stands for: the user and the session it was issued to, until `exp` (ms). */
export interface TicketGrant {
  uid: string;
  sid: string;
}

interface StoredTicket extends TicketGrant {
  exp: number;
}

interface SocketAttachment {
  sid: string;
  at: number;
}

/** Open sockets per user; one more closes the oldest (a leaked tab cannot pin the hub open forever). */
export const MAX_SOCKETS_PER_USER = 20;
/** WebSocket close codes sent by the hub. */
export const CLOSE_REVOKED = 4001;
export const CLOSE_REPLACED = 4002;

/** Keys per storage.put / storage.delete call (the runtime's limit is 128). */
const STORAGE_BATCH = 128;
const ticketKey = (hash: string) => `t:${hash}`;
const revokedKey = (sid: string) => `r:${sid}`;
const BLOCKED_KEY = "blocked";

/**
 * The live notification hub of ONE user (idFromName(user id)): holds that user's open WebSockets
 * through the Hibernation API, so an idle socket costs nothing (no timer, no alarm; the object is
 * evicted from memory between messages and woken by the next push or close). `ping` is answered
 * by the runtime itself (setWebSocketAutoResponse) without waking the object.
 *
 * It also keeps the user's stream tickets (sha256 only, 60 s): `spendTicket` deletes the ticket it
 * finds in the same synchronous step (a Durable Object runs one call at a time), so a ticket is
 * used at most once. Revocation (`closeSessions`, `setBlocked`) closes the sockets of the sessions
 * at once, drops their unspent tickets and remembers the sessions until every ticket they could
 * still hold has expired.
 */
export class NotificationHub extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Stores a ticket (its sha256) for (user, session); refused (false) for a revoked session or a blocked user. */
  async issueTicket(hash: string, grant: TicketGrant, now: number, ttlMs: number): Promise<boolean> {
    if (await this.refuses(grant.sid, now)) return false;
    await this.dropExpired(now);
    await this.ctx.storage.put<StoredTicket>(ticketKey(hash), { ...grant, exp: now + ttlMs });
    return true;
  }

  /** Spends a ticket: the grant when it exists, is unexpired and its session still may stream; gone either way. */
  async spendTicket(hash: string, now: number): Promise<TicketGrant | null> {
    const key = ticketKey(hash);
    const ticket = await this.ctx.storage.get<StoredTicket>(key);
    if (!ticket) return null;
    await this.ctx.storage.delete(key);
    if (ticket.exp <= now || (await this.refuses(ticket.sid, now))) return null;
    return { uid: ticket.uid, sid: ticket.sid };
  }

  /**
   * Accepts the WebSocket upgrade forwarded by the worker once it spent a ticket: headers
   * `X-Keel-Session` (the session) and `X-Keel-Hello` (the first message, the unread count).
   */
  override async fetch(request: Request): Promise<Response> {
    const sid = request.headers.get("X-Keel-Session");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !sid) return new Response(null, { status: 400 });
    if (await this.refuses(sid, Date.now())) return new Response(null, { status: 401 });
    const open = this.ctx.getWebSockets();
    if (open.length >= MAX_SOCKETS_PER_USER) {
      const oldest = open.reduce((a, b) => (attachment(a).at <= attachment(b).at ? a : b));
      safeClose(oldest, CLOSE_REPLACED, "too many open streams");
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [`sid:${sid}`]);
    server.serializeAttachment({ sid, at: Date.now() } satisfies SocketAttachment);
    const hello = request.headers.get("X-Keel-Hello");
    if (hello) server.send(hello);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends each message to every open socket; returns how many sockets there were (0: nobody listening). */
  push(messages: readonly string[]): number {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) {
      for (const m of messages) {
        try {
          ws.send(m);
        } catch {
          // A socket closing meanwhile: its close handler tidies up.
        }
      }
    }
    return sockets.length;
  }

  /** How many sockets are open (tests, and callers that want to skip work for nobody). */
  listeners(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * The sessions were revoked: their sockets are closed (4001), their unspent tickets dropped, and
   * they are remembered for `rememberMs` so a ticket or an upgrade racing the revocation is refused.
   */
  async closeSessions(sids: readonly string[], now: number, rememberMs: number): Promise<number> {
    let closed = 0;
    for (const sid of sids) {
      for (const ws of this.ctx.getWebSockets(`sid:${sid}`)) {
        safeClose(ws, CLOSE_REVOKED, "session revoked");
        closed++;
      }
    }
    const wanted = new Set(sids);
    const tickets = await this.ctx.storage.list<StoredTicket>({ prefix: "t:" });
    await this.deleteKeys([...tickets].filter(([, t]) => wanted.has(t.sid)).map(([k]) => k));
    for (let i = 0; i < sids.length; i += STORAGE_BATCH) {
      await this.ctx.storage.put(Object.fromEntries(sids.slice(i, i + STORAGE_BATCH).map((sid) => [revokedKey(sid), now + rememberMs])));
    }
    return closed;
  }

  /**
   * The user may no longer sign in (suspended, deactivated, deleted): every socket is closed and
   * every ticket dropped, and nothing is accepted until `setBlocked(false)` (reactivation).
   */
  async setBlocked(blocked: boolean): Promise<void> {
    if (!blocked) {
      await this.ctx.storage.delete(BLOCKED_KEY);
      return;
    }
    for (const ws of this.ctx.getWebSockets()) safeClose(ws, CLOSE_REVOKED, "account not active");
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.put(BLOCKED_KEY, true);
  }

  override webSocketMessage(): void {
    // Clients only listen; "ping" is answered by the auto-response without waking the object.
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    safeClose(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
  }

  override webSocketError(ws: WebSocket): void {
    safeClose(ws, 1011, "error");
  }

  private async refuses(sid: string, now: number): Promise<boolean> {
    const got = await this.ctx.storage.get<unknown>([BLOCKED_KEY, revokedKey(sid)]);
    if (got.get(BLOCKED_KEY)) return true;
    const until = got.get(revokedKey(sid));
    return typeof until === "number" && until > now;
  }

  /** Drops expired tickets and forgotten revocations (a handful of keys per user). */
  private async dropExpired(now: number): Promise<void> {
    const all = await this.ctx.storage.list<unknown>();
    const stale: string[] = [];
    for (const [k, v] of all) {
      if (k.startsWith("t:") && (v as StoredTicket).exp <= now) stale.push(k);
      else if (k.startsWith("r:") && typeof v === "number" && v <= now) stale.push(k);
    }
    await this.deleteKeys(stale);
  }

  /** storage.delete/put take at most 128 keys at a time. */
  private async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += STORAGE_BATCH) await this.ctx.storage.delete(keys.slice(i, i + STORAGE_BATCH));
  }
}

const attachment = (ws: WebSocket) => (ws.deserializeAttachment() ?? { sid: "", at: 0 }) as SocketAttachment;

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}
