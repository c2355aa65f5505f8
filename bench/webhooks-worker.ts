/**
 * Bench-only Worker (see bench/webhooks.mjs and bench/webhooks.wrangler.toml): the webhook fan-out
 * of one ingest, inside workerd, through keel's own code:
 *
 *   GET  /ping                  → "ok"
 *   POST /seed?tenders&alerts&endpoints&receiver=http://127.0.0.1:port
 *        users (5 alerts each, bench/matcher-data.ts), their alerts (in-app, daily digest: no
 *        immediate emails), the tenders (not yet matched) and one user endpoint (both user event
 *        types, secret sealed by the real `seal`) for each of the first `endpoints` users; bulk SQL.
 *   POST /match                 → the real `matchTenders` (alert-matching.service.ts: index, match
 *        rows, notifications, webhook outbox events + pending deliveries in the same batches); the
 *        WEBHOOK_QUEUE messages it sends are captured here. Returns counts and ms.
 *   POST /deliver?from=i&n=k    → captured messages i..i+k as ONE queue batch through the real
 *        consumer (delivery.service.ts `consumeWebhookBatch`: claim, open secret, sign, fetch, record).
 *   GET  /counts                → events, deliveries by status.
 *
 * Times are performance.now() inside workerd (locally it advances during CPU work and I/O alike:
 * these are wall times of the work). CPU is measured from /proc by bench/webhooks.mjs.
 */
import type { WebhookJob } from "../src/env";
import { matchTenders } from "../src/features/alerts/alert-matching.service";
import { consumeWebhookBatch } from "../src/features/webhooks/delivery.service";
import { sealContext } from "../src/features/webhooks/webhooks.service";
import { serviceContext } from "../src/platform/context";
import { seal } from "../src/platform/secrets";
import type { Env as AppEnv } from "../src/env";
import { BENCH_NOW, generateAlerts, generateTenders } from "./matcher-data";

interface Env {
  DB: D1Database;
  ENVIRONMENT: string;
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const intParam = (url: URL, name: string, def: number, max: number) => Math.min(Math.max(Number(url.searchParams.get(name) ?? def) || def, 1), max);

/** WEBHOOK_QUEUE / EMAIL_QUEUE messages the real code sent, kept for /deliver. */
const captured: WebhookJob[] = [];
const otherMessages = { email: 0, alertMatching: 0 };
let tenderIds: string[] = [];

const fakeQueue = <T>(onBody: (body: T) => void) => ({
  async send(body: T) {
    onBody(body);
  },
  async sendBatch(messages: Iterable<{ body: T }>) {
    for (const m of messages) onBody(m.body);
  },
});

/** The app's Env with the queues captured and the live-notification hub a no-op (no sockets here). */
function appEnv(env: Env): AppEnv {
  const hub = { push: async () => {} };
  return {
    ...env,
    WEBHOOK_QUEUE: fakeQueue<WebhookJob>((b) => captured.push(b)),
    EMAIL_QUEUE: fakeQueue(() => otherMessages.email++),
    ALERT_MATCHING_QUEUE: fakeQueue(() => otherMessages.alertMatching++),
    NOTIFICATION_HUB: { idFromName: (n: string) => n, get: () => hub },
  } as unknown as AppEnv;
}

async function bulk(db: D1Database, sqlText: string, rows: unknown[][], per = 500) {
  for (let i = 0; i < rows.length; i += per) await db.prepare(sqlText).bind(JSON.stringify(rows.slice(i, i + per))).run();
}

async function counts(db: D1Database) {
  const [ev, del] = await db.batch([
    db.prepare("SELECT type, count(*) AS n FROM webhook_events GROUP BY type"),
    db.prepare("SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status"),
  ]);
  const byKey = (rows: Record<string, unknown>[], key: string) => Object.fromEntries(rows.map((r) => [String(r[key]), Number(r.n)]));
  return { events: byKey(ev!.results as Record<string, unknown>[], "type"), deliveries: byKey(del!.results as Record<string, unknown>[], "status") };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("ok");
    const aenv = appEnv(env);

    if (url.pathname === "/seed" && request.method === "POST") {
      const nTenders = intParam(url, "tenders", 500, 10_000);
      const nAlerts = intParam(url, "alerts", 10_000, 100_000);
      const nEndpoints = intParam(url, "endpoints", 1_000, 100_000);
      const receiver = url.searchParams.get("receiver") ?? "";
      if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(receiver)) return json({ error: "receiver must be http://127.0.0.1:<port>" }, 400);
      const t0 = performance.now();
      const alerts = generateAlerts(nAlerts, 2);
      const tenders = generateTenders(nTenders, 1);
      const userIds = [...new Set(alerts.map((a) => a.userId))];
      const now = Date.now();
      await bulk(
        env.DB,
        `INSERT INTO users (id, email, password_hash, full_name, email_verified, created_at, updated_at)
         SELECT 'usr_' || (j.value ->> 0), 'bench+' || (j.value ->> 0) || '@example.com', '', 'Bench ' || (j.value ->> 0), 1, ${now}, ${now} FROM json_each(?) j`,
        userIds.map((u) => [u]),
      );
      await bulk(
        env.DB,
        `INSERT INTO alerts (id, user_id, name, criteria, notification_methods, notification_frequency, is_active, created_at, updated_at)
         SELECT 'alr_' || (j.value ->> 0), 'usr_' || (j.value ->> 1), 'Bench alert ' || (j.value ->> 0), j.value ->> 2, '["in_app"]', 'daily_digest', 1, ${now}, ${now} FROM json_each(?) j`,
        alerts.map((a) => [a.id, a.userId, JSON.stringify(a.criteria)]),
      );
      await bulk(
        env.DB,
        `INSERT INTO tenders (id, external_id, title, description, department, state, value, closing_date)
         SELECT j.value ->> 0, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6 FROM json_each(?) j`,
        tenders.map((t) => [t.id, t.title, t.description ?? null, t.department ?? null, t.state ?? null, t.value ?? null, t.closingDate?.getTime() ?? null]),
        200,
      );
      // One endpoint per user for the first `endpoints` users; secrets sealed by the real code.
      const ctx = serviceContext(aenv);
      const endpointRows: unknown[][] = [];
      for (const u of userIds.slice(0, nEndpoints)) {
        const id = `whe_bench_${u}`;
        const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
        endpointRows.push([id, `usr_${u}`, `${receiver}/hook/${u}`, await seal(ctx.env, ctx.config, secret, sealContext(id))]);
      }
      await bulk(
        env.DB,
        `INSERT INTO webhook_endpoints (id, scope, user_id, url, events, enabled, secret_sealed, created_at, updated_at)
         SELECT j.value ->> 0, 'user', j.value ->> 1, j.value ->> 2, '["alert.matched","notification.created"]', 1, j.value ->> 3, ${now}, ${now} FROM json_each(?) j`,
        endpointRows,
      );
      tenderIds = tenders.map((t) => t.id);
      return json({ users: userIds.length, alerts: alerts.length, tenders: tenders.length, endpoints: endpointRows.length, seed_ms: performance.now() - t0 });
    }

    if (url.pathname === "/match" && request.method === "POST") {
      captured.length = 0;
      // As the ingest's matching consumer would see it; "now" is the data's reference instant.
      const ctx = serviceContext(aenv, { now: BENCH_NOW });
      const t0 = performance.now();
      const result = await matchTenders(ctx, tenderIds);
      const matchMs = performance.now() - t0;
      return json({ ...result, match_ms: matchMs, messages: captured.length, other_messages: otherMessages, ...(await counts(env.DB)) });
    }

    if (url.pathname === "/deliver" && request.method === "POST") {
      const from = Number(url.searchParams.get("from") ?? 0);
      const n = intParam(url, "n", 1, 1_000);
      const jobs = captured.slice(from, from + n);
      let acked = 0;
      let retried = 0;
      const messages = jobs.map((body, i) => ({
        id: `bench-${from + i}`,
        timestamp: new Date(),
        attempts: 1,
        body,
        ack: () => void acked++,
        retry: () => void retried++,
      }));
      const batch = { queue: "webhooks", messages, ackAll: () => void (acked += messages.length), retryAll: () => void (retried += messages.length) } as unknown as MessageBatch<WebhookJob>;
      const before = captured.length;
      const t0 = performance.now();
      await consumeWebhookBatch(serviceContext(aenv), batch);
      return json({ messages: jobs.length, acked, retried, deliver_ms: performance.now() - t0, requeued: captured.length - before });
    }

    if (url.pathname === "/counts") return json(await counts(env.DB));
    return new Response("not found", { status: 404 });
  },
};
