import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { createDb } from "../src/platform/db";
import { dueDigestUsers } from "../src/features/alert-delivery/digests.repo";
import { closingIn, insertAlert, insertAlertMatch, insertOutboxRow, insertTender } from "./helpers/fixtures";
import { signedInWithRole } from "./helpers/admin";
import { call, json, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";

// Issue 14, points 16–18: jobs at scale. Digests reach every due user, one failing cron job does
// not stop the others, a tender that never matches is parked, and an email is "sent" only once a
// provider took it (a permanent rejection suppresses the address).

const DAY = 86_400_000;
const tickWith = (testEnv: Env, iso: string | number) =>
  worker.scheduled(createScheduledController({ scheduledTime: typeof iso === "number" ? iso : Date.parse(iso), cron: "*/15 * * * *" }), testEnv);
const tick = (iso: string | number) => tickWith(env, iso);
const first = async <T>(query: string, ...binds: unknown[]) => (await env.DB.prepare(query).bind(...binds).first<T>())!;

/**
 * `n` users (ids `<prefix><i>`) in UTC, each with a daily digest at `time(i)`, one email alert
 * and one pending match of the shared tender: bulk SQL, one statement per table.
 */
async function seedDigestUsers(prefix: string, n: number, time: (i: number) => string, tenderId: string) {
  const seq = `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n - 1})`;
  // The digest times, as a JSON array indexed by i.
  const times = JSON.stringify(Array.from({ length: n }, (_, i) => time(i)));
  await env.DB.batch([
    env.DB.prepare(`${seq} INSERT INTO users (id, email, email_verified, password_hash, full_name) SELECT ?1 || i, ?1 || i || '@bulk.example.com', 1, 'x', 'Bulk ' || i FROM seq`).bind(prefix),
    env.DB.prepare(`${seq} INSERT INTO user_profiles (user_id, timezone) SELECT ?1 || i, 'UTC' FROM seq`).bind(prefix),
    env.DB.prepare(`${seq} INSERT INTO user_preferences (user_id, email_digest_frequency, email_digest_time) SELECT ?1 || i, 'daily', json_extract(?2, '$[' || i || ']') FROM seq`).bind(prefix, times),
    env.DB.prepare(
      `${seq} INSERT INTO alerts (id, user_id, name, criteria, notification_methods, notification_frequency) SELECT 'alr_' || ?1 || i, ?1 || i, 'Bulk', '{"keywords":["bulk"]}', '["email"]', 'daily_digest' FROM seq`,
    ).bind(prefix),
    env.DB.prepare(`${seq} INSERT INTO alert_matches (id, alert_id, tender_id, user_id) SELECT 'amt_' || ?1 || i, 'alr_' || ?1 || i, ?2, ?1 || i FROM seq`).bind(prefix, tenderId),
  ]);
}

const digestCounts = async (prefix: string) =>
  first<{ users: number; mails: number }>(
    "SELECT count(DISTINCT user_id) AS users, count(*) AS mails FROM email_outbox WHERE template = 'daily_digest' AND user_id LIKE ?1 || '%'",
    prefix,
  );

describe("digests at scale (point 16)", () => {
  it("1,500 users whose digest times fall in the same hour each get exactly one digest over that hour's ticks, behind 600 users due later", async () => {
    const tenderId = await insertTender({ title: "Bulk bridge", department: "Roads", closing_date: Date.parse("2026-12-30T00:00:00Z") });
    // Seeded first (lower rowids): users with pending matches whose digest is due in the evening.
    // Today's unordered LIMIT 500 keeps taking them and never reaches the others.
    const later = `usr_later${unique()}_`;
    await seedDigestUsers(later, 600, () => "18:00", tenderId);
    const due = `usr_due${unique()}_`;
    // 09:00 … 09:45 UTC, spread over the hour's four ticks.
    await seedDigestUsers(due, 1500, (i) => `09:${String((i * 7) % 46).padStart(2, "0")}`, tenderId);

    // The first tick after the deploy (or of a new user) computes next_digest_at; then the hour.
    await tick("2026-12-07T08:45:00Z");
    expect((await digestCounts(due)).mails).toBe(0);
    for (const at of ["09:00", "09:15", "09:30", "09:45", "09:45", "10:00"]) await tick(`2026-12-07T${at}:00Z`);
    expect(await digestCounts(due)).toEqual({ users: 1500, mails: 1500 });
    expect((await digestCounts(later)).mails).toBe(0);
    // The evening ones go out at 18:00, once.
    await tick("2026-12-07T18:00:00Z");
    await tick("2026-12-07T18:15:00Z");
    expect(await digestCounts(later)).toEqual({ users: 600, mails: 600 });
    expect((await digestCounts(due)).mails).toBe(1500);
  }, 120_000);

  it("takes due users oldest first, one batch per tick when the budget is spent, and the next tick continues", async () => {
    const tenderId = await insertTender({ title: "Budget bridge", closing_date: Date.parse("2026-12-30T00:00:00Z") });
    const prefix = `usr_budget${unique()}_`;
    await seedDigestUsers(prefix, 5, () => "07:00", tenderId);
    const tight = { ...env, DIGEST_BATCH_SIZE: "2", DIGEST_TICK_BUDGET_MS: "1" } as Env;
    // Slots a second apart, user 4's the oldest: the order the job must take them in.
    await env.DB.prepare("UPDATE user_preferences SET next_digest_at = ?2 + (4 - CAST(substr(user_id, length(?1) + 1) AS INTEGER)) * 1000 WHERE user_id LIKE ?1 || '%'")
      .bind(prefix, Date.parse("2026-12-08T06:59:50Z"))
      .run();
    const sent = async () => (await digestCounts(prefix)).mails;
    await tickWith(tight, "2026-12-08T07:00:00Z");
    expect(await sent()).toBe(2);
    const firstTaken = (await env.DB.prepare("SELECT user_id FROM email_outbox WHERE template = 'daily_digest' AND user_id LIKE ?1 || '%' ORDER BY user_id").bind(prefix).all<{ user_id: string }>()).results;
    expect(firstTaken.map((r) => r.user_id)).toEqual([`${prefix}3`, `${prefix}4`]);
    await tickWith(tight, "2026-12-08T07:15:00Z");
    expect(await sent()).toBe(4);
    await tickWith(tight, "2026-12-08T07:30:00Z");
    expect(await sent()).toBe(5);
  });

  it("EXPLAIN QUERY PLAN: due users are a range of the partial index on next_digest_at, already in order", async () => {
    const db = createDb(env.DB);
    const query = dueDigestUsers(db, new Date(), 200).getQuery();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).bind(...query.params).all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join(" | ");
    expect(plan).toMatch(/SEARCH p USING INDEX user_preferences_next_digest_idx \(next_digest_at<\?\)/);
    expect(plan).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
    expect(plan).not.toMatch(/SCAN p\b/);
  });

  it("a changed digest time or time zone moves next_digest_at (PATCH /me/preferences, PATCH /me/profile)", async () => {
    const { user, token } = await signedInUser();
    const next = async () => (await first<{ n: number | null }>("SELECT next_digest_at AS n FROM user_preferences WHERE user_id = ?", user.id)).n;
    await tick("2026-12-09T00:00:00Z");
    // Default: daily at 09:00 Asia/Kolkata = 03:30 UTC.
    expect(await next()).toBe(Date.parse("2026-12-09T03:30:00Z"));
    expect((await call("me/preferences", { method: "PATCH", body: { email_digest_time: "10:00" }, token })).status).toBe(200);
    await tick("2026-12-09T00:15:00Z");
    expect(await next()).toBe(Date.parse("2026-12-09T04:30:00Z"));
    expect((await call("me/profile", { method: "PATCH", body: { timezone: "Europe/Berlin" }, token })).status).toBe(200);
    await tick("2026-12-09T00:30:00Z");
    expect(await next()).toBe(Date.parse("2026-12-09T09:00:00Z"));
    expect((await call("me/preferences", { method: "PATCH", body: { email_digest_frequency: "never" }, token })).status).toBe(200);
    expect(await next()).toBeNull();
  });
});

/** A tender pending matching since `since` (the queue outbox mark), matching the alert's keyword. */
const pendingTender = (title: string, since: number) => insertTender({ title, closing_date: closingIn(30), match_pending_since: since });

describe("cron isolation and parked tenders (point 17)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a cron job that fails is logged and the jobs after it still run", async () => {
    const stale = Date.now() - 60 * 60_000;
    const tenderId = await pendingTender(`Isolated ${unique()}`, stale);
    // A stale outbox row makes the first job (the relay) hand it to the email queue, which is down.
    await insertOutboxRow(stale);
    const sentForMatching: unknown[] = [];
    const broken = {
      ...env,
      EMAIL_QUEUE: { send: () => Promise.reject(new Error("email queue unavailable")), sendBatch: () => Promise.reject(new Error("email queue unavailable")) },
      ALERT_MATCHING_QUEUE: { send: async () => {}, sendBatch: async (m: unknown[]) => void sentForMatching.push(...m) },
    } as unknown as Env;
    const errors = vi.spyOn(console, "error");
    await tickWith(broken, Date.now());
    // The last job (the resend of tenders pending matching) still ran.
    expect(sentForMatching.length).toBeGreaterThan(0);
    expect((await first<{ m: number }>("SELECT match_pending_since AS m FROM tenders WHERE id = ?", tenderId)).m).toBeGreaterThan(stale);
    const logged = errors.mock.calls.map((c) => String(c[0])).find((l) => l.includes("cron job failed"));
    expect(logged).toBeDefined();
    expect(JSON.parse(logged!)).toMatchObject({ level: "error", job: "email_relay" });
  });

  it("a tender whose matching fails MATCH_MAX_ATTEMPTS times is parked, counted in /admin/stats, and no longer resent", async () => {
    // A broken row: a state that is not text (a blob) makes matching of this tender throw.
    const t0 = Date.now();
    const id = await insertTender({ title: "Broken", state: new Uint8Array([1, 2, 3]).buffer, closing_date: t0 + 30 * DAY, match_pending_since: t0 });
    const good = await pendingTender(`Healthy ${unique()}`, t0);
    const resent: string[][] = [];
    const queue = {
      ...env,
      ALERT_MATCHING_QUEUE: {
        send: async () => {},
        sendBatch: async (m: { body: { tenderIds: string[] } }[]) => void resent.push(m.flatMap((x) => x.body.tenderIds)),
      },
    } as unknown as Env;
    const runMatching = async (ids: string[]) => {
      const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds: ids } }]);
      const ctx = createExecutionContext();
      await worker.queue(batch as never, queue);
      return getQueueResult(batch, ctx);
    };
    // The batch with the broken tender and a healthy one: the healthy one is matched anyway.
    await runMatching([id, good]);
    expect((await first<{ m: number | null }>("SELECT match_pending_since AS m FROM tenders WHERE id = ?", good)).m).toBeNull();

    const admin = (await signedInWithRole("admin")).token;
    const statsBefore = await json<{ parked_tenders: number }>(await call("admin/stats", { token: admin }));
    let at = t0;
    for (let attempt = 0; attempt < 8; attempt++) {
      at += 20 * 60_000;
      resent.length = 0;
      await tickWith(queue, at);
      const ids = resent.flat();
      if (ids.includes(id)) await runMatching(ids);
      else break;
    }
    // Resent MATCH_MAX_ATTEMPTS - 1 times after the first attempt, then parked.
    const row = await first<{ m: number | null; parked: number | null; attempts: number }>(
      "SELECT match_pending_since AS m, match_parked_at AS parked, match_attempts AS attempts FROM tenders WHERE id = ?",
      id,
    );
    expect(row.m).toBeNull();
    expect(row.parked).not.toBeNull();
    expect(row.attempts).toBe(4); // resends: the first attempt was the consumer run above
    resent.length = 0;
    await tickWith(queue, at + 60 * 60_000);
    expect(resent.flat()).not.toContain(id);
    const stats = await json<{ parked_tenders: number }>(await call("admin/stats", { token: admin }));
    expect(stats.parked_tenders).toBe((statsBefore.parked_tenders ?? 0) + 1);
  });
});

/** A user with an immediate email alert and one pending match (quiet hours off). */
async function userWithImmediateMatch() {
  const { user, token } = await signedInUser();
  const alertId = await insertAlert(user.id, { name: "Now", criteria: { keywords: ["now"] }, notification_methods: ["email"] });
  const tenderId = await insertTender({ title: "Now bridge", closing_date: closingIn(30) });
  await insertAlertMatch(alertId, tenderId, user.id);
  return { user, token, alertId, tenderId };
}

const matchStatus = async (alertId: string) => (await first<{ s: string }>("SELECT notification_status AS s FROM alert_matches WHERE alert_id = ?", alertId)).s;
const alertMailOf = async (userId: string) =>
  first<{ id: string; status: string } | null>("SELECT id, status FROM email_outbox WHERE user_id = ? AND template = 'alert_match' ORDER BY created_at DESC LIMIT 1", userId);

/** Runs the email consumer on outbox rows with the given bindings; returns the queue result. */
async function deliver(ids: string[], testEnv: Env, attempts = 1) {
  const batch = createMessageBatch("email", ids.map((outboxId, i) => ({ id: `msg-${i}-${outboxId}`, timestamp: new Date(), attempts, body: { outboxId } })));
  const ctx = createExecutionContext();
  await worker.queue(batch as never, testEnv);
  return getQueueResult(batch, ctx);
}

/** Matching for the user's tender through the alert-matching consumer, with the email queue held (the test delivers). */
async function matchAndQueue(tenderId: string) {
  const held = { ...env, EMAIL_QUEUE: { send: async () => {}, sendBatch: async () => {} } } as unknown as Env;
  const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds: [tenderId] } }]);
  await worker.queue(batch as never, held);
}

const httpProvider = (status: number) => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ message: "rejected" }), { status }));
  return { ...env, EMAIL_PROVIDER: "http", EMAIL_HTTP_ENDPOINT: "https://mail.example.com/send", EMAIL_API_TOKEN: "t" } as Env;
};

describe("a failed email is not sent (point 18)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a match stays pending while its email is queued or retried, and is sent once the provider took it", async () => {
    const u = await userWithImmediateMatch();
    await matchAndQueue(u.tenderId);
    const mail = await alertMailOf(u.user.id);
    expect(mail?.status).toBe("pending");
    expect(await matchStatus(u.alertId)).toBe("pending");
    // A transient failure (503): retried, not sent, not suppressed.
    const retried = await deliver([mail!.id], httpProvider(503));
    expect(retried.retryMessages).toHaveLength(1);
    expect(await matchStatus(u.alertId)).toBe("pending");
    vi.restoreAllMocks();
    // The provider takes it.
    await deliver([mail!.id], httpProvider(200));
    expect(await matchStatus(u.alertId)).toBe("sent");
    const prefs = await json<{ email_suppressed: unknown }>(await call("me/preferences", { token: u.token }));
    expect(prefs.email_suppressed).toBeNull();
  });

  it("a permanent rejection (HTTP 422) fails the email, not retried; the address is suppressed for alerts and digests and /me/preferences says so", async () => {
    const u = await userWithImmediateMatch();
    await matchAndQueue(u.tenderId);
    const mail = await alertMailOf(u.user.id);
    const result = await deliver([mail!.id], httpProvider(422));
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await alertMailOf(u.user.id))?.status).toBe("failed");
    expect(await matchStatus(u.alertId)).toBe("failed");
    vi.restoreAllMocks();

    const prefs = await json<{ email_suppressed: { reason: string; since: string } | null }>(await call("me/preferences", { token: u.token }));
    expect(prefs.email_suppressed).toMatchObject({ reason: "rejected" });
    expect(Date.parse(prefs.email_suppressed!.since)).not.toBeNaN();

    // No more alert or digest mail to it: a new match and the next digest write nothing.
    const tenderId = await insertTender({ title: "Now again", closing_date: closingIn(30) });
    await insertAlertMatch(u.alertId, tenderId, u.user.id);
    await matchAndQueue(tenderId);
    await tick("2026-12-10T00:00:00Z");
    await tick("2026-12-10T03:30:00Z"); // 09:00 in Asia/Kolkata (the default time zone)
    expect((await first<{ n: number }>("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template IN ('alert_match', 'daily_digest', 'weekly_digest')", u.user.id)).n).toBe(1);

    // Verifying the address again lifts it: a verified but suppressed address may ask for a link.
    const before = Date.now();
    expect((await call("auth/resend-verification", { body: { email: u.user.email } })).status).toBe(202);
    const link = tokenFromMail(await waitForMail(u.user.email, "verification", { after: before }));
    expect((await call("auth/verify-email", { body: { token: link } })).status).toBe(200);
    expect((await json<{ email_suppressed: unknown }>(await call("me/preferences", { token: u.token }))).email_suppressed).toBeNull();
  });

  it("Cloudflare send_email: a refused destination suppresses; a refused sender (our configuration) is retried", async () => {
    const refusing = (message: string) => ({ ...env, EMAIL_PROVIDER: "cloudflare", SEND_EMAIL: { send: async () => Promise.reject(new Error(message)) } }) as unknown as Env;
    const a = await userWithImmediateMatch();
    await matchAndQueue(a.tenderId);
    const sender = await deliver([(await alertMailOf(a.user.id))!.id], refusing("email from no-reply@keel.test not allowed"));
    expect(sender.retryMessages).toHaveLength(1);
    expect((await json<{ email_suppressed: unknown }>(await call("me/preferences", { token: a.token }))).email_suppressed).toBeNull();
    const dest = await deliver([(await alertMailOf(a.user.id))!.id], refusing(`email to ${a.user.email} not allowed`));
    expect(dest.retryMessages).toEqual([]);
    expect((await json<{ email_suppressed: unknown }>(await call("me/preferences", { token: a.token }))).email_suppressed).toMatchObject({ reason: "rejected" });
  });

  it("after the last transient failure the email is failed and its matches go back to pending for the next digest", async () => {
    const u = await userWithImmediateMatch();
    await matchAndQueue(u.tenderId);
    const mail = await alertMailOf(u.user.id);
    await deliver([mail!.id], httpProvider(503), 8);
    expect((await alertMailOf(u.user.id))?.status).toBe("failed");
    vi.restoreAllMocks();
    expect(await matchStatus(u.alertId)).toBe("pending");
    expect((await json<{ email_suppressed: unknown }>(await call("me/preferences", { token: u.token }))).email_suppressed).toBeNull();
    // The next digest carries it, and it is sent once that email is delivered.
    await tick("2026-12-11T00:00:00Z");
    await tick("2026-12-11T03:30:00Z");
    const digest = await first<{ id: string }>("SELECT id FROM email_outbox WHERE user_id = ? AND template = 'daily_digest'", u.user.id);
    expect(await matchStatus(u.alertId)).toBe("pending");
    await deliver([digest.id], env);
    expect(await matchStatus(u.alertId)).toBe("sent");
  });
});
