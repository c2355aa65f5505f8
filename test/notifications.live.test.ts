import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { insertNotification } from "./helpers/fixtures";
import { call, callAt, expectProblem, json, login, movableClock, randomIp, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";
import { signedInWithRole } from "./helpers/admin";

// Live notifications (issue 18.2, API.md "Integrators"): a single-use ticket, then a WebSocket
// to the user's hub, which pushes new notifications and the unread count.

type Message = { type: "unread_count"; count: number } | { type: "notification"; notification: { id: string; title: string; type: string; is_read: boolean } };

interface Stream {
  ws: WebSocket;
  messages: Message[];
  /** The next message (after those already taken) that satisfies `pred`, or throws after `ms`. */
  next(pred?: (m: Message) => boolean, ms?: number): Promise<Message>;
  closed: Promise<{ code: number }>;
}

async function ticketFor(token: string, ip = randomIp()): Promise<string> {
  const res = await call("me/notifications/ticket", { method: "POST", token, ip });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await json<{ ticket: string; expires_in: number }>(res);
  expect(body.expires_in).toBe(60);
  return body.ticket;
}

const upgrade = (ticket: string, ip = randomIp()) =>
  call(`me/notifications/stream?ticket=${encodeURIComponent(ticket)}`, { headers: { Upgrade: "websocket" }, ip });

function streamOf(res: Response): Stream {
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: Message[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  ws.addEventListener("message", (e) => {
    messages.push(JSON.parse(e.data as string) as Message);
    for (const w of waiters.splice(0)) w();
  });
  // Resolves with the close code, or -1 when the socket is still open after 5 s.
  const closed = new Promise<{ code: number }>((resolve) => {
    ws.addEventListener("close", (e) => resolve({ code: e.code }));
    setTimeout(() => resolve({ code: -1 }), 5000);
  });
  ws.accept();
  return {
    ws,
    messages,
    closed,
    async next(pred = () => true, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        while (taken < messages.length) {
          const m = messages[taken++]!;
          if (pred(m)) return m;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no such message; got ${JSON.stringify(messages)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, left);
        });
      }
    },
  };
}

async function openStream(token: string): Promise<Stream> {
  return streamOf(await upgrade(await ticketFor(token)));
}

const isCount = (m: Message): m is Extract<Message, { type: "unread_count" }> => m.type === "unread_count";
const isNotification = (m: Message): m is Extract<Message, { type: "notification" }> => m.type === "notification";

/** Runs the alert-matching consumer over these tenders, as the queue would. */
async function runMatching(tenderIds: string[]) {
  const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch as never, env, ctx);
  return getQueueResult(batch, ctx);
}

async function inAppAlert(token: string, word: string) {
  const res = await call("me/alerts", { body: { name: word, criteria: { keywords: [word] }, notification_methods: ["in_app"] }, token });
  expect(res.status, await res.clone().text()).toBe(201);
}

describe("live notifications: tickets", () => {
  it("a ticket opens one stream, once; the stream starts with the unread count", async () => {
    const a = await signedInUser();
    await insertNotification(a.user.id, { title: "waiting" });
    const ticket = await ticketFor(a.token);
    const stream = streamOf(await upgrade(ticket));
    expect(await stream.next()).toEqual({ type: "unread_count", count: 1 });
    await expectProblem(await upgrade(ticket), 401, "unauthenticated");
    stream.ws.close(1000);
  });

  it("without Upgrade: websocket → 426, and the ticket is not spent", async () => {
    const a = await signedInUser();
    const ticket = await ticketFor(a.token);
    await expectProblem(await call(`me/notifications/stream?ticket=${ticket}`), 426, "upgrade_required");
    streamOf(await upgrade(ticket)).ws.close(1000);
  });

  it("an expired ticket (60 s) is refused", async () => {
    const a = await signedInUser();
    const clock = movableClock();
    const res = await callAt(clock, "me/notifications/ticket", { method: "POST", token: a.token, ip: randomIp() });
    expect(res.status).toBe(200);
    const { ticket } = await json<{ ticket: string }>(res);
    clock.advance(61_000);
    await expectProblem(await callAt(clock, `me/notifications/stream?ticket=${ticket}`, { headers: { Upgrade: "websocket" }, ip: randomIp() }), 401, "unauthenticated");
  });

  it("forged, malformed and missing tickets are refused; API keys get no ticket", async () => {
    const a = await signedInUser();
    const real = await ticketFor(a.token);
    const forged = `${real.split(".")[0]}.${"A".repeat(43)}`;
    await expectProblem(await upgrade(forged), 401, "unauthenticated");
    // A's secret presented at another user's hub: that hub holds no such ticket.
    const b = await signedInUser();
    const bHub = (await ticketFor(b.token)).split(".")[0];
    await expectProblem(await upgrade(`${bHub}.${real.split(".")[1]}`), 401, "unauthenticated");
    await expectProblem(await upgrade("nonsense"), 401, "unauthenticated");
    await expectProblem(await upgrade(`${"0".repeat(64)}.${"A".repeat(43)}`), 401, "unauthenticated");
    await expectProblem(await call("me/notifications/stream", { headers: { Upgrade: "websocket" } }), 422, "validation_failed");
    await expectProblem(await call("me/notifications/ticket", { method: "POST" }), 401, "unauthenticated");
    const key = await json<{ key: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["read:notifications"] }, token: a.token }));
    await expectProblem(await call("me/notifications/ticket", { method: "POST", apiKey: key.key }), 403, "insufficient_scope");
    // The real ticket is still good: a forgery does not burn it.
    streamOf(await upgrade(real)).ws.close(1000);
  });

  it("ticket issuance is rate-limited per user", async () => {
    const a = await signedInUser();
    let last = 0;
    for (let i = 0; i < 31; i++) last = (await call("me/notifications/ticket", { method: "POST", token: a.token, ip: randomIp() })).status;
    expect(last).toBe(429);
  });
});

describe("live notifications: pushes", () => {
  it("a new alert match reaches every open stream of its user with the unread count; another user's stream gets nothing", async () => {
    const admin = await tenderAdmin();
    const a = await signedInUser();
    const b = await signedInUser();
    const word = unique("live");
    await inAppAlert(a.token, word);
    const [tab1, tab2, other] = await Promise.all([openStream(a.token), openStream(a.token), openStream(b.token)]);
    for (const s of [tab1, tab2, other]) expect(await s.next()).toEqual({ type: "unread_count", count: 0 });

    const externalId = unique("EXT-");
    await ingest(admin.key, [{ external_id: externalId, title: `Supply of ${word} pumps` }]);
    await runMatching([await tenderId(externalId)]);

    for (const tab of [tab1, tab2]) {
      const pushed = await tab.next(isNotification);
      expect(pushed).toMatchObject({ type: "notification", notification: { type: "alert_match", title: `New match: ${word}`, is_read: false } });
      expect(await tab.next(isCount)).toEqual({ type: "unread_count", count: 1 });
    }
    // The pushed item is the one GET /me/notifications lists, in the same shape.
    const listed = await json<{ items: unknown[] }>(await call("me/notifications", { token: a.token }));
    expect(listed.items[0]).toEqual((tab1.messages.find(isNotification) as Extract<Message, { type: "notification" }>).notification);

    await new Promise((r) => setTimeout(r, 200));
    expect(other.messages).toEqual([{ type: "unread_count", count: 0 }]);
    for (const s of [tab1, tab2, other]) s.ws.close(1000);
  });

  it("mark-read and read-all push the new unread count", async () => {
    const a = await signedInUser();
    const n1 = await insertNotification(a.user.id, { title: "one" });
    await insertNotification(a.user.id, { title: "two" });
    const stream = await openStream(a.token);
    expect(await stream.next()).toEqual({ type: "unread_count", count: 2 });
    expect((await call(`me/notifications/${n1}/read`, { method: "POST", token: a.token })).status).toBe(204);
    expect(await stream.next(isCount)).toEqual({ type: "unread_count", count: 1 });
    expect((await call("me/notifications/read-all", { method: "POST", token: a.token })).status).toBe(204);
    expect(await stream.next(isCount)).toEqual({ type: "unread_count", count: 0 });
    stream.ws.close(1000);
  });
});

describe("live notifications: revocation", () => {
  it("signing out closes that session's streams (4001) and spends its unused tickets; other sessions' streams stay open", async () => {
    const a = await signedInUser();
    const second = await login(a.user);
    const [mine, theirs] = await Promise.all([openStream(a.token), openStream(second.access_token)]);
    const unused = await ticketFor(a.token);
    expect((await call("auth/logout", { method: "POST", token: a.token })).status).toBe(204);
    expect((await mine.closed).code).toBe(4001);
    await expectProblem(await upgrade(unused), 401, "unauthenticated");
    await new Promise((r) => setTimeout(r, 200));
    expect(theirs.ws.readyState).toBe(WebSocket.OPEN);
    theirs.ws.close(1000);
  });

  it("ending a session from the sessions list closes its streams", async () => {
    const a = await signedInUser();
    const second = await login(a.user);
    const stream = await openStream(second.access_token);
    const res = await call(`me/sessions/${second.session_id}`, { method: "DELETE", token: a.token });
    expect(res.status, await res.clone().text()).toBe(204);
    expect((await stream.closed).code).toBe(4001);
  });

  it("a replayed refresh token ends its session, and that session's streams close", async () => {
    const a = await signedInUser();
    const stream = await openStream(a.token);
    const refresh = () => call("auth/refresh", { body: { refresh_token: a.tokens.refresh_token } });
    expect((await refresh()).status).toBe(200);
    await expectProblem(await refresh(), 401, "token_reused");
    expect((await stream.closed).code).toBe(4001);
  });

  it("sign-out everywhere closes every stream of the user", async () => {
    const a = await signedInUser();
    const second = await login(a.user);
    const streams = await Promise.all([openStream(a.token), openStream(second.access_token)]);
    expect((await call("auth/logout-all", { method: "POST", token: a.token })).status).toBe(204);
    for (const s of streams) expect((await s.closed).code).toBe(4001);
  });

  it("suspending the user closes every stream and refuses new ones; reactivation lets them open again", async () => {
    const admin = await signedInWithRole("admin");
    const a = await signedInUser();
    const stream = await openStream(a.token);
    const pending = await ticketFor(a.token);
    expect((await call(`admin/users/${a.user.id}/suspend`, { method: "POST", token: admin.token })).status).toBe(200);
    expect((await stream.closed).code).toBe(4001);
    await expectProblem(await upgrade(pending), 401, "unauthenticated");
    expect((await call(`admin/users/${a.user.id}/activate`, { method: "POST", token: admin.token })).status).toBe(200);
    const again = await login(a.user);
    (await openStream(again.access_token)).ws.close(1000);
  });
});

describe("live notifications: reminders and tender changes", () => {
  it("a reminder written by the cron reaches the user's open stream with the unread count", async () => {
    const { createScheduledController } = await import("cloudflare:test");
    const { insertFavorite, insertTender } = await import("./helpers/fixtures");
    const a = await signedInUser();
    const tender = await insertTender({ title: `Live reminder ${unique()}`, closing_date: Date.now() + 2 * 86_400_000 });
    await insertFavorite(a.user.id, tender);
    await env.DB.prepare("UPDATE favorites SET bid_status = 'planning' WHERE user_id = ?").bind(a.user.id).run();
    const tab = await openStream(a.token);
    expect(await tab.next()).toEqual({ type: "unread_count", count: 0 });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    expect(await tab.next(isNotification)).toMatchObject({ type: "notification", notification: { type: "reminder", related_tender_id: tender, is_read: false } });
    expect(await tab.next(isCount)).toEqual({ type: "unread_count", count: 1 });
    tab.ws.close(1000);
  });
});
