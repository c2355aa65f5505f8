/**
 * keel's live notification stream (API.md, Integrators): a single-use 60-second ticket from
 * `POST /api/v1/me/notifications/ticket` (browsers cannot set headers on a WebSocket), then a
 * WebSocket to `/api/v1/me/notifications/stream?ticket=`. Server messages:
 * `{"type":"notification","notification":{…}}` and `{"type":"unread_count","count":n}`.
 * The stream reconnects after a drop with exponential backoff and full jitter, with a new ticket
 * each time, until `close()` or until the session has ended (the ticket answers 401).
 */

export type StreamMessage = { type: "notification"; notification: Record<string, unknown> } | { type: "unread_count"; count: number };

export type StreamStatus = "connecting" | "open" | "waiting" | "closed" | "signed_out";

export interface NotificationStreamOptions {
  /** keel's origin, e.g. `https://api.example.com`. */
  baseUrl: string;
  /** A fetch that authenticates (the client's `fetch`: it refreshes the access token when needed). */
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  onMessage: (message: StreamMessage) => void;
  onStatus?: (status: StreamStatus) => void;
  /** First delay and cap of the reconnect backoff, ms (defaults 500 and 30 000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** The WebSocket class (default: the global one). */
  WebSocket?: typeof WebSocket;
  /** Random in [0, 1) for the jitter (tests). */
  random?: () => number;
}

export interface NotificationStream {
  close(): void;
}

/** The delay before reconnect attempt `attempt` (0-based): full jitter over min(max, initial·2^attempt). */
export const backoffDelay = (attempt: number, initialMs: number, maxMs: number, random: () => number) =>
  Math.floor(random() * Math.min(maxMs, initialMs * 2 ** attempt));

export function connectNotifications(opts: NotificationStreamOptions): NotificationStream {
  const WS = opts.WebSocket ?? globalThis.WebSocket;
  const initial = opts.backoff?.initialMs ?? 500;
  const max = opts.backoff?.maxMs ?? 30_000;
  const random = opts.random ?? Math.random;
  let closed = false;
  let attempt = 0;
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const status = (s: StreamStatus) => opts.onStatus?.(s);

  const scheduleReconnect = () => {
    if (closed) return;
    status("waiting");
    timer = setTimeout(connect, backoffDelay(attempt, initial, max, random));
    attempt += 1;
  };

  async function connect() {
    timer = null;
    if (closed) return;
    status("connecting");
    let ticket: string;
    try {
      const res = await opts.fetch(`${opts.baseUrl}/api/v1/me/notifications/ticket`, { method: "POST" });
      if (res.status === 401) {
        closed = true;
        status("signed_out");
        return;
      }
      if (res.status !== 200) throw new Error(`ticket: ${res.status}`);
      ticket = ((await res.json()) as { ticket: string }).ticket;
    } catch {
      return scheduleReconnect();
    }
    if (closed) return;
    const url = new URL(`/api/v1/me/notifications/stream?ticket=${encodeURIComponent(ticket)}`, opts.baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WS(url.toString());
    socket = ws;
    ws.addEventListener("open", () => {
      attempt = 0;
      status("open");
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      try {
        const message = JSON.parse(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer)) as StreamMessage;
        if (message.type === "notification" || message.type === "unread_count") opts.onMessage(message);
      } catch {
        // not a message of the contract: ignored
      }
    });
    ws.addEventListener("close", () => {
      if (socket === ws) socket = null;
      scheduleReconnect();
    });
    ws.addEventListener("error", () => {
      // a close event follows
    });
  }

  void connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000, "client closed");
      socket = null;
      status("closed");
    },
  };
}
