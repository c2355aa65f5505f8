import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { MATCH_RESEND_GRACE_MS, MATCH_RESEND_PER_TICK } from "../src/features/tenders/ingest";
import { claimStalePendingMatchingQuery, clearMatchPendingStatement } from "../src/features/tenders/tenders.repo";
import { createDb } from "../src/platform/db";
import { setTenderUpdatedAt } from "./helpers/fixtures";
import { call, callWithConfig, eventually, json, signedInUser, unique } from "./helpers/harness";
import { inDays, ingest, tenderAdmin, tenderId } from "./helpers/tenders";

// The queue outbox of tender ingest (README, "Tender ingest and the queue"): the ingest batch marks
// new and changed tenders pending matching, the alert-matching consumer clears the mark of the
// version it matched, and the cron resends what is still pending after the grace period.

/**
 * The alert-matching queue during an outage: every send fails. It stands in for the outside world
 * (as the send_email stub does in jobs.test.ts); D1 and the consumer stay real, and the resends
 * go through the real local queue.
 */
const queueDown = {
  ALERT_MATCHING_QUEUE: {
    send: () => Promise.reject(new Error("alert-matching queue unavailable")),
    sendBatch: () => Promise.reject(new Error("alert-matching queue unavailable")),
  },
};

const count = async (query: string, ...binds: unknown[]) => (await env.DB.prepare(query).bind(...binds).first<{ n: number }>())!.n;
const pendingMark = async (id: string) =>
  (await env.DB.prepare("SELECT match_pending_since AS mark FROM tenders WHERE id = ?").bind(id).first<{ mark: number | null }>())!.mark;
const matchesOf = (alertId: string) => count("SELECT count(*) AS n FROM alert_matches WHERE alert_id = ?", alertId);
const tick = (at: number) => worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), env);

async function createAlert(token: string, keyword: string): Promise<string> {
  const res = await call("me/alerts", { body: { name: keyword, criteria: { keywords: [keyword] }, notification_methods: ["email", "in_app"] }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json<{ id: string }>(res)).id;
}

/** POST /tenders through the worker's fetch handler with the given bindings. */
async function ingestWith(bindings: Record<string, unknown>, key: string, tenders: Record<string, unknown>[]) {
  const res = await callWithConfig(bindings, "tenders", { body: { tenders: tenders.map((t) => ({ closing_date: inDays(30), ...t })) }, apiKey: key });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ inserted: number; updated: number }>(res);
}

async function runMatching(tenderIds: string[], testEnv: Env = env) {
  const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch as never, testEnv);
  return getQueueResult(batch, ctx);
}

describe("tender ingest → alert matching: the queue outbox", () => {
  it("a failed send leaves the tender pending; the cron resends it after the grace period; it is matched once and the mark cleared", async () => {
    const admin = await tenderAdmin();
    const { user, token } = await signedInUser();
    const word = unique("outage");
    const alertId = await createAlert(token, word);
    const externalId = unique("EXT-");

    // The rows commit and the ingest answers its counts, as when the send succeeds.
    expect(await ingestWith(queueDown, admin.key, [{ external_id: externalId, title: `Repair of ${word} bridge` }])).toEqual({ inserted: 1, updated: 0 });
    const id = await tenderId(externalId);
    const mark = await pendingMark(id);
    expect(mark).not.toBeNull();
    expect(await matchesOf(alertId)).toBe(0);

    // Within the grace period the tick leaves it alone (its message may still be on its way).
    await tick(mark! + MATCH_RESEND_GRACE_MS - 60_000);
    expect(await pendingMark(id)).toBe(mark);

    // After it, the tick claims and resends it; the real queue delivers it to the consumer.
    await tick(mark! + MATCH_RESEND_GRACE_MS + 60_000);
    expect(await pendingMark(id)).not.toBe(mark);
    await eventually(async () => {
      expect(await matchesOf(alertId)).toBe(1);
      expect(await pendingMark(id)).toBeNull();
    }, 20_000);

    // A redelivery of the same tender, and later ticks, add nothing.
    expect(await runMatching([id])).toMatchObject({ ackAll: true });
    await tick(mark! + 3 * MATCH_RESEND_GRACE_MS);
    expect(await matchesOf(alertId)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM notifications WHERE related_alert_id = ?", alertId)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template = 'alert_match'", user.id)).toBe(1);
    expect(await pendingMark(id)).toBeNull();
  });

  it("a normal ingest and its consumer clear the mark", async () => {
    const admin = await tenderAdmin();
    const { token } = await signedInUser();
    const word = unique("normal");
    const alertId = await createAlert(token, word);
    const [sent] = (await ingest(admin.key, [{ title: `Supply of ${word} pipes` }])).sent;
    const id = await tenderId(sent!.external_id);
    await eventually(async () => {
      expect(await matchesOf(alertId)).toBe(1);
      expect(await pendingMark(id)).toBeNull();
    }, 20_000);
  });

  it("a tender changed after the consumer read it stays pending, and its new version is matched later", async () => {
    const admin = await tenderAdmin();
    const { token } = await signedInUser();
    const before = unique("before");
    const after = unique("after");
    const firstAlert = await createAlert(token, before);
    const secondAlert = await createAlert(token, after);
    const externalId = unique("EXT-");
    await ingestWith(queueDown, admin.key, [{ external_id: externalId, title: `${before} road works` }]);
    const id = await tenderId(externalId);

    // The change lands while the consumer is busy with the first version: between its read and
    // its clear (when it hands the immediate email to the email queue).
    let changed = false;
    const changeMeanwhile = {
      ...env,
      EMAIL_QUEUE: {
        send: env.EMAIL_QUEUE.send.bind(env.EMAIL_QUEUE),
        sendBatch: async (messages: Iterable<MessageSendRequest<{ outboxId: string }>>) => {
          if (!changed) {
            changed = true;
            expect(await ingestWith(queueDown, admin.key, [{ external_id: externalId, title: `${after} road works` }])).toEqual({ inserted: 0, updated: 1 });
          }
          return env.EMAIL_QUEUE.sendBatch(messages);
        },
      },
    } as unknown as Env;
    expect(await runMatching([id], changeMeanwhile)).toMatchObject({ ackAll: true });
    expect(changed).toBe(true);
    expect(await matchesOf(firstAlert)).toBe(1);
    expect(await matchesOf(secondAlert)).toBe(0);
    const mark = await pendingMark(id);
    expect(mark).not.toBeNull();

    // The cron's resend brings the new version to the consumer.
    await tick(mark! + MATCH_RESEND_GRACE_MS + 60_000);
    await eventually(async () => {
      expect(await matchesOf(secondAlert)).toBe(1);
      expect(await pendingMark(id)).toBeNull();
    }, 20_000);
  });

  it("a change always moves the version forward, even from a writer whose clock is behind", async () => {
    const admin = await tenderAdmin();
    const externalId = unique("EXT-");
    await ingestWith(queueDown, admin.key, [{ external_id: externalId, title: "Clock skew, version 1" }]);
    const id = await tenderId(externalId);
    // As if the first version had been written by an isolate whose clock runs an hour ahead.
    const ahead = Date.now() + 3_600_000;
    await setTenderUpdatedAt(id, ahead);
    await ingestWith(queueDown, admin.key, [{ external_id: externalId, title: "Clock skew, version 2" }]);
    const row = await env.DB.prepare("SELECT updated_at FROM tenders WHERE id = ?").bind(id).first<{ updated_at: number }>();
    expect(row!.updated_at).toBe(ahead + 1);
  });

  it("a tick resends at most MATCH_RESEND_PER_TICK tenders, oldest first; the next tick takes the rest", async () => {
    const prefix = unique("tnd_bulk");
    const extra = 50;
    const base = Date.now() - 30 * 86_400_000;
    // Pending tenders straight into D1 (the ingest route takes 500 at a time), created and marked
    // at base + i: the oldest MATCH_RESEND_PER_TICK, then `extra` newer ones.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO tenders (id, external_id, title, created_at, updated_at, match_pending_since)
       SELECT ?2 || '_' || i, ?2 || '_' || i, 'Backlog lot ' || i, ?3 + i, ?3 + i, ?3 + i FROM n`,
    )
      .bind(MATCH_RESEND_PER_TICK + extra - 1, prefix, base)
      .run();
    const ofPart = (oldest: boolean) => `id LIKE '${prefix}_%' AND (created_at < ${base + MATCH_RESEND_PER_TICK}) = ${oldest ? 1 : 0}`;
    // Claimed by the tick at `at`: the mark is the tick's time, or gone once the real consumer matched it.
    const claimedBy = (oldest: boolean, at: number) =>
      count(`SELECT count(*) AS n FROM tenders WHERE ${ofPart(oldest)} AND (match_pending_since = ? OR match_pending_since IS NULL)`, at);
    const untouched = (oldest: boolean) => count(`SELECT count(*) AS n FROM tenders WHERE ${ofPart(oldest)} AND match_pending_since = created_at`);

    const at = Date.now();
    const started = performance.now();
    await tick(at);
    const tickMs = performance.now() - started;
    expect(await claimedBy(true, at)).toBe(MATCH_RESEND_PER_TICK);
    expect(await untouched(false)).toBe(extra);

    // The next tick (here a minute later) takes the rest, and none of those just claimed.
    await tick(at + 60_000);
    expect(await claimedBy(false, at + 60_000)).toBe(extra);
    expect(await count(`SELECT count(*) AS n FROM tenders WHERE ${ofPart(true)} AND match_pending_since = ?`, at + 60_000)).toBe(0);
    console.log(JSON.stringify({ measured: "cron tick claiming and resending the bound", tenders: MATCH_RESEND_PER_TICK, tick_ms: Math.round(tickMs) }));
  });

  it("EXPLAIN QUERY PLAN: the resend reads a range of the partial index and the clear looks tenders up by key", async () => {
    const db = createDb(env.DB);
    const plan = async (query: ReturnType<typeof sql>) => (await db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${query}`)).map((r) => r.detail);
    const claim = await plan(claimStalePendingMatchingQuery(new Date(), new Date(), 5_000));
    expect(claim.some((d) => /SEARCH tenders USING (COVERING )?INDEX tenders_match_pending_idx \(match_pending_since<\?\)/.test(d)), claim.join(" | ")).toBe(true);
    expect(claim.filter((d) => /^SCAN tenders\b/.test(d)), claim.join(" | ")).toEqual([]);
    expect(claim.some((d) => /USE TEMP B-TREE FOR ORDER BY/.test(d)), claim.join(" | ")).toBe(false);

    const clear = clearMatchPendingStatement(db, [{ id: "tnd_x", updatedAt: new Date() }]).getQuery();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${clear.sql}`).bind(...clear.params).all<{ detail: string }>();
    const details = results.map((r) => r.detail);
    expect(details.filter((d) => /^SCAN tenders\b/.test(d)), details.join(" | ")).toEqual([]);
    // By key: the primary key, or the feed's (updated_at, id) index, which the guard's updated_at makes an exact lookup too.
    expect(
      details.some((d) => /SEARCH tenders USING (INDEX sqlite_autoindex_tenders_1 \(id=\?\)|(COVERING )?INDEX tenders_updated_id_idx \(updated_at=\? AND id=\?\))/.test(d)),
      details.join(" | "),
    ).toBe(true);
  });
});
