import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WebSocket as WsClient, WebSocketServer } from "ws";
import { backoffDelay, connectNotifications, TokenRefresher, verifyWebhook, WebhookVerificationError, type StreamMessage } from "../../clients/typescript/src/index";


// That src/schema.ts is what `npm run types:api` writes is checked by test/node/generated.test.ts.

const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

/** standardwebhooks' verdict on the same input: the independent implementation. */
function theirs(secret: string, headers: Record<string, string>, body: string): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}
async function ours(secret: string | string[], headers: Record<string, string>, body: string, now?: number): Promise<boolean> {
  try {
    await verifyWebhook(secret, headers, body, now === undefined ? {} : { now });
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return false;
  }
}

describe("verifyWebhook against the standardwebhooks package", () => {
  it("accepts what standardwebhooks signs and returns the parsed event", async () => {
    const secret = newSecret();
    const body = JSON.stringify({ id: "evt_1", type: "webhook.test", timestamp: new Date().toISOString(), data: { ok: true } });
    const now = new Date();
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign("msg_1", now, body) };
    expect(await verifyWebhook(secret, headers, body)).toMatchObject({ id: "evt_1", type: "webhook.test", data: { ok: true } });
    // A Headers object works too.
    expect(await ours(secret, headers, body)).toBe(true);
    expect(await verifyWebhook(secret, new Headers(headers), body)).toMatchObject({ id: "evt_1" });
  });

  it("agrees with standardwebhooks on signed, tampered, re-keyed and mis-timed deliveries (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 0, maxLength: 200 }),
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,20}$/),
        fc.integer({ min: -900, max: 900 }),
        fc.constantFrom("none", "body", "id", "secret", "signature"),
        async (text, id, skew, tamper) => {
          const secret = newSecret();
          const body = JSON.stringify({ text });
          const at = new Date(Date.now() + skew * 1000);
          const signature = new Webhook(secret).sign(id, at, body);
          const headers = { "webhook-id": tamper === "id" ? `${id}x` : id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": tamper === "signature" ? signature.replace(/^v1,(.)/, (_, c: string) => `v1,${c === "A" ? "B" : "A"}`) : signature };
          const sent = tamper === "body" ? JSON.stringify({ text: `${text}!` }) : body;
          const key = tamper === "secret" ? newSecret() : secret;
          const verdict = await ours(key, headers, sent);
          // Away from the 5-minute edge (the two clocks are read a moment apart) they must agree.
          if (Math.abs(Math.abs(skew) - 300) > 2) expect(verdict).toBe(theirs(key, headers, sent));
          if (tamper !== "none") expect(verdict).toBe(false);
          if (tamper === "none" && Math.abs(skew) < 298) expect(verdict).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("takes any of several space-separated signatures (a rotation signs with old and new) and ignores other versions", async () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const body = '{"id":"evt_2","type":"webhook.test","timestamp":"2026-01-01T00:00:00Z","data":{}}';
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const both = `${new Webhook(newOne).sign("msg_2", now, body)} ${new Webhook(oldSecret).sign("msg_2", now, body)}`;
    const headers = { "webhook-id": "msg_2", "webhook-timestamp": ts, "webhook-signature": `v2,abc ${both}` };
    expect(await ours(oldSecret, headers, body)).toBe(true);
    expect(await ours(newOne, headers, body)).toBe(true);
    expect(theirs(oldSecret, headers, body)).toBe(true);
    // A receiver mid-rotation may hold several secrets.
    expect(await ours([newSecret(), oldSecret], headers, body)).toBe(true);
    expect(await ours(newSecret(), headers, body)).toBe(false);
    // Missing headers, a non-numeric timestamp, and a delivery older than 5 minutes are refused.
    expect(await ours(oldSecret, { ...headers, "webhook-signature": "" }, body)).toBe(false);
    expect(await ours(oldSecret, { ...headers, "webhook-timestamp": "soon" }, body)).toBe(false);
    expect(await ours(oldSecret, headers, body, now.getTime() + 301_000)).toBe(false);
    expect(await ours(oldSecret, headers, body, now.getTime() + 299_000)).toBe(true);
  });
});

describe("TokenRefresher (single-flight)", () => {
  it("concurrent 401s trigger ONE refresh, and every request is retried with the new token", async () => {
    let valid = "access-1";
    let refreshes = 0;
    const seen: string[] = [];
    const fakeFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname === "/api/v1/auth/refresh") {
        refreshes += 1;
        const { refresh_token } = (await req.json()) as { refresh_token: string };
        expect(refresh_token).toBe("refresh-1");
        await new Promise((r) => setTimeout(r, 30));
        valid = "access-2";
        return Response.json({ access_token: "access-2", refresh_token: "refresh-2" });
      }
      const auth = req.headers.get("Authorization") ?? "";
      seen.push(auth);
      return auth === `Bearer ${valid}` ? Response.json({ ok: true }) : new Response(null, { status: 401 });
    };
    const stored: unknown[] = [];
    const auth = new TokenRefresher({ baseUrl: "http://keel.test", tokens: { access_token: "stale", refresh_token: "refresh-1" }, fetch: fakeFetch as typeof fetch, onTokens: (t) => stored.push(t) });
    const results = await Promise.all(Array.from({ length: 8 }, () => auth.fetch("http://keel.test/api/v1/me")));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(refreshes).toBe(1);
    expect(stored).toEqual([{ access_token: "access-2", refresh_token: "refresh-2" }]);
    // A request that failed with an already-replaced token retries with the current one, no refresh.
    expect((await auth.fetch("http://keel.test/api/v1/me")).status).toBe(200);
    expect(refreshes).toBe(1);
    expect(seen.filter((s) => s === "Bearer stale")).toHaveLength(8);
  });

  it("a refused refresh ends the session once and hands back the 401", async () => {
    let ended = 0;
    let refreshes = 0;
    const fakeFetch = async (input: Request | string | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname === "/api/v1/auth/refresh") refreshes += 1;
      return new Response(null, { status: 401 });
    };
    const auth = new TokenRefresher({ baseUrl: "http://keel.test", tokens: { access_token: "a", refresh_token: "r" }, fetch: fakeFetch as typeof fetch, onSessionEnded: () => (ended += 1) });
    const results = await Promise.all([auth.fetch("http://keel.test/api/v1/me"), auth.fetch("http://keel.test/api/v1/me")]);
    expect(results.map((r) => r.status)).toEqual([401, 401]);
    expect([refreshes, ended, auth.accessToken]).toEqual([1, 1, null]);
  });
});

describe("connectNotifications", () => {
  it("backoff grows exponentially with full jitter, capped", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 500, 30_000, () => 0.999999))).toEqual([499, 999, 1999, 3999, 29_999]);
    fc.assert(fc.property(fc.nat(40), fc.double({ min: 0, max: 0.999999, noNaN: true }), (a, r) => backoffDelay(a, 500, 30_000, () => r) < 30_000));
  });

  it("takes a ticket, delivers the server's messages, and reconnects with a new ticket after a drop", async () => {
    // A stand-in for keel's side of the contract (API.md, Integrators): POST ticket → {ticket, expires_in}; WS stream?ticket=.
    const tickets: string[] = [];
    const wss = new WebSocketServer({ noServer: true });
    const server = createServer((req, res) => {
      if (req.method === "POST" && req.url === "/api/v1/me/notifications/ticket" && req.headers.authorization === "Bearer tok") {
        const ticket = `t${tickets.length + 1}`;
        tickets.push(ticket);
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ticket, expires_in: 60 }));
      } else res.writeHead(401).end();
    });
    server.on("upgrade", (req: IncomingMessage, socket, head) => {
      const ticket = new URL(req.url ?? "", "http://x").searchParams.get("ticket");
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (ticket === "t1") {
          ws.send(JSON.stringify({ type: "unread_count", count: 3 }));
          ws.send("not json");
          setTimeout(() => ws.close(1012, "restart"), 20);
        } else {
          ws.send(JSON.stringify({ type: "notification", notification: { id: "ntf_1", title: "A match" } }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const messages: StreamMessage[] = [];
    const statuses: string[] = [];
    const stream = connectNotifications({
      baseUrl: base,
      fetch: (url, init) => fetch(url, { ...init, headers: { Authorization: "Bearer tok" } }),
      onMessage: (m) => messages.push(m),
      onStatus: (s) => statuses.push(s),
      WebSocket: WsClient as unknown as typeof WebSocket,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    try {
      await expect.poll(() => messages.length, { timeout: 5000 }).toBe(2);
      expect(messages).toEqual([{ type: "unread_count", count: 3 }, { type: "notification", notification: { id: "ntf_1", title: "A match" } }]);
      expect(tickets).toEqual(["t1", "t2"]);
      expect(statuses.slice(0, 5)).toEqual(["connecting", "open", "waiting", "connecting", "open"]);
    } finally {
      stream.close();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("stops when the session has ended (the ticket answers 401)", async () => {
    const statuses: string[] = [];
    connectNotifications({ baseUrl: "http://keel.test", fetch: async () => new Response(null, { status: 401 }), onMessage: () => {}, onStatus: (s) => statuses.push(s) });
    await expect.poll(() => statuses).toEqual(["connecting", "signed_out"]);
  });
});
