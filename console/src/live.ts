// The live notification stream (issue 18.2): a single-use ticket from POST /me/notifications/ticket
// (browsers cannot set Authorization on a WebSocket), then a WebSocket to /me/notifications/stream.
// On any close it reconnects with exponential backoff and jitter (1 s, 2 s, 4 s … 30 s), taking a
// fresh ticket each time; a socket that stayed open resets the backoff.
import { api } from "./api";

export type LiveMessage =
  | { type: "unread_count"; count: number }
  | { type: "notification"; notification: { id: string; type: string; title: string; message: string; is_read: boolean; created_at: string } };

const MAX_DELAY_MS = 30_000;
/** Keeps intermediaries from closing an idle socket; the hub answers "pong" without waking. */
const PING_MS = 30_000;

/** Starts the stream; returns a function that stops it for good. */
export function connectNotifications(onMessage: (m: LiveMessage) => void): () => void {
  let stopped = false;
  let ws: WebSocket | null = null;
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;

  const schedule = () => {
    if (stopped) return;
    const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt++);
    retry = setTimeout(() => void open(), base / 2 + Math.random() * (base / 2));
  };

  async function open() {
    if (stopped) return;
    let ticket: string;
    try {
      ({ ticket } = await api<{ ticket: string }>("POST", "/me/notifications/ticket", {}));
    } catch {
      schedule();
      return;
    }
    if (stopped) return;
    const url = new URL(`/api/v1/me/notifications/stream?ticket=${encodeURIComponent(ticket)}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), PING_MS);
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string" || e.data === "pong") return;
      try {
        onMessage(JSON.parse(e.data) as LiveMessage);
      } catch {
        // not one of ours
      }
    };
    socket.onclose = () => {
      clearInterval(ping);
      if (ws === socket) ws = null;
      schedule();
    };
  }

  void open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    clearInterval(ping);
    // Closing a socket still connecting makes the browser log an error: close it once it opens.
    if (ws?.readyState === WebSocket.CONNECTING) ws.onopen = function (this: WebSocket) { this.close(1000); };
    else ws?.close(1000);
  };
}
