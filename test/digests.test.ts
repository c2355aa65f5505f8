import { sendImmediateEmails } from "../src/features/alert-delivery/immediate.service";
import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { sendDueDigests } from "../src/features/alert-delivery/digests.service";
import { rollUpEngagementDaySql } from "../src/features/analytics/engagement.repo";
import { serviceContext } from "../src/platform/context";
import { createDb } from "../src/platform/db";
import { closingIn, insertAlert, insertAlertMatch, insertFavorite, insertInteraction, insertTender, setAlertFrequency, setPreferences, setProfile } from "./helpers/fixtures";
import { call, eventually, json, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin } from "./helpers/tenders";

const tick = (iso: string) => worker.scheduled(createScheduledController({ scheduledTime: Date.parse(iso), cron: "*/15 * * * *" }), env);

/** A user with a digest schedule, one immediate email+in_app alert and `n` pending matches. */
async function userWithPending(opts: { tz: string; frequency?: string; time?: string; n?: number; quiet?: [string, string]; max?: number }) {
  const { user } = await signedInUser();
  await setProfile(user.id, { timezone: opts.tz });
  await setPreferences(user.id, {
    email_digest_frequency: opts.frequency ?? "daily",
    email_digest_time: opts.time ?? "09:00",
    quiet_hours_start: opts.quiet?.[0] ?? null,
    quiet_hours_end: opts.quiet?.[1] ?? null,
    max_alerts_per_day: opts.max ?? 50,
  });
  const alertId = await insertAlert(user.id, { name: "Bridges", criteria: { keywords: ["bridge"] }, notification_methods: ["email", "in_app"] });
  await addPending(user.id, alertId, opts.n ?? 2);
  return { user, alertId };
}

async function addPending(userId: string, alertId: string, n: number) {
  for (let i = 0; i < n; i++) {
    const tenderId = `tnd_${unique("dg")}`;
    await insertTender({ id: tenderId, title: `Bridge ${tenderId}`, department: "Roads Dept", value: 2_500_000, closing_date: closingIn(20) });
    await insertAlertMatch(alertId, tenderId, userId);
  }
}

const digestsOf = async (userId: string) =>
  (await env.DB.prepare("SELECT id, template, headers, created_at FROM email_outbox WHERE user_id = ? AND template LIKE '%digest' ORDER BY created_at").bind(userId).all<{ id: string; template: string; headers: string }>()).results;
/** Matches still waiting for an email: pending, and no outbox email carries them (issue 14, point 18: `sent` comes with delivery). */
const pendingOf = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM alert_matches WHERE user_id = ? AND notification_status = 'pending' AND outbox_id IS NULL").bind(userId).first<{ n: number }>())!.n;
const alertEmailsOf = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template = 'alert_match'").bind(userId).first<{ n: number }>())!.n;
const sentOf = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM alert_matches WHERE user_id = ? AND notification_status = 'sent'").bind(userId).first<{ n: number }>())!.n;

describe("digests by cron", () => {
  it("sends at 09:00 local in Asia/Kolkata and America/New_York, once, with text+HTML and unsubscribe headers", async () => {
    const kolkata = await userWithPending({ tz: "Asia/Kolkata" });
    const ny = await userWithPending({ tz: "America/New_York" });
    await tick("2026-11-23T03:15:00Z"); // 08:45 IST
    expect(await digestsOf(kolkata.user.id)).toHaveLength(0);
    await tick("2026-11-23T03:30:00Z"); // 09:00 IST; 22:30 in New York
    expect(await digestsOf(kolkata.user.id)).toHaveLength(1);
    expect(await digestsOf(ny.user.id)).toHaveLength(0);
    expect(await pendingOf(kolkata.user.id)).toBe(0);
    // `sent` once the email queue delivered the digest.
    await eventually(async () => expect(await sentOf(kolkata.user.id)).toBe(2), 15_000);
    await tick("2026-11-23T03:30:00Z"); // rerun of the same tick
    await tick("2026-11-23T03:45:00Z");
    expect(await digestsOf(kolkata.user.id)).toHaveLength(1);

    await tick("2026-11-23T14:00:00Z"); // 09:00 EST
    const [mail] = await digestsOf(ny.user.id);
    expect(mail?.template).toBe("daily_digest");
    expect(JSON.parse(mail!.headers)).toMatchObject({ "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" });
    const res = await worker.fetch(new Request(`http://keel.test/dev/mailbox?to=${encodeURIComponent(ny.user.email)}`), env, {} as never);
    const body = (await res.json()) as { items: { template: string; text: string; html: string }[] };
    const digest = body.items.find((m) => m.template === "daily_digest")!;
    expect(digest.text).toMatch(/Roads Dept/);
    expect(digest.text).toMatch(/\/unsubscribe\?token=/); // the page (it acts only on its button)...
    expect(digest.text).not.toContain("/api/v1/unsubscribe");
    expect(JSON.parse(mail!.headers)["List-Unsubscribe"]).toMatch(/^<http:\/\/[^>]+\/api\/v1\/unsubscribe\?token=[^>]+>$/); // ...the header, the one-click API
    expect(digest.html).toMatch(/<li/);
  });

  it("two concurrent ticks send one digest (the claim is guarded by the value each read)", async () => {
    const u = await userWithPending({ tz: "Asia/Kolkata" });
    const ctx = serviceContext(env, { now: new Date("2026-11-25T03:30:00Z") });
    const results = await Promise.all([sendDueDigests(ctx), sendDueDigests(ctx)]);
    expect(await digestsOf(u.user.id)).toHaveLength(1);
    expect(results.map((r) => r.sent).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(await pendingOf(u.user.id)).toBe(0);
  });

  it("follows the DST change: 09:00 in New York is 14:00 UTC before and 13:00 UTC after", async () => {
    const ny = await userWithPending({ tz: "America/New_York" });
    await tick("2026-03-07T13:45:00Z"); // 08:45 EST
    expect(await digestsOf(ny.user.id)).toHaveLength(0);
    await tick("2026-03-07T14:00:00Z"); // 09:00 EST
    expect(await digestsOf(ny.user.id)).toHaveLength(1);
    await addPending(ny.user.id, ny.alertId, 1);
    await tick("2026-03-08T12:45:00Z"); // 08:45 EDT (after the change)
    expect(await digestsOf(ny.user.id)).toHaveLength(1);
    await tick("2026-03-08T13:00:00Z"); // 09:00 EDT
    expect(await digestsOf(ny.user.id)).toHaveLength(2);
  });

  it("weekly digests go out on Monday; never gets none", async () => {
    const weekly = await userWithPending({ tz: "Asia/Kolkata", frequency: "weekly" });
    const never = await userWithPending({ tz: "Asia/Kolkata", frequency: "never" });
    await tick("2026-11-22T03:30:00Z"); // Sunday 09:00 IST
    expect(await digestsOf(weekly.user.id)).toHaveLength(0);
    await tick("2026-11-23T03:30:00Z"); // Monday
    expect((await digestsOf(weekly.user.id)).map((m) => m.template)).toEqual(["weekly_digest"]);
    expect(await digestsOf(never.user.id)).toHaveLength(0);
    expect(await pendingOf(never.user.id)).toBe(2);
  });

  it("quiet hours across midnight defer immediate emails to their end; the daily cap defers them to the digest", async () => {
    const ctx = (iso: string) => serviceContext(env, { now: new Date(iso) });
    const quiet = await userWithPending({ tz: "Asia/Kolkata", quiet: ["22:00", "07:00"], n: 1 });
    await setAlertFrequency(quiet.alertId, "immediate");
    // 23:30 IST and 06:30 IST (next day) are inside; 07:30 is outside.
    expect(await sendImmediateEmails(ctx("2026-11-22T18:00:00Z"), { alertId: quiet.alertId })).toHaveLength(0);
    expect(await sendImmediateEmails(ctx("2026-11-23T01:00:00Z"), { alertId: quiet.alertId })).toHaveLength(0);
    expect(await pendingOf(quiet.user.id)).toBe(1);
    // Issue 19: the first tick after the quiet hours sends it as the immediate email it is (before the 09:00 digest).
    await tick("2026-11-23T01:45:00Z"); // 07:15 IST
    expect(await alertEmailsOf(quiet.user.id)).toBe(1);
    expect(await pendingOf(quiet.user.id)).toBe(0);
    await tick("2026-11-23T03:30:00Z");
    expect(await digestsOf(quiet.user.id)).toHaveLength(0);

    // Issue 19: immediate matches are coalesced (one email per user and run), so the cap counts emails.
    const capped = await userWithPending({ tz: "Asia/Kolkata", max: 1, n: 3 });
    const sent = await sendImmediateEmails(ctx("2026-11-24T06:00:00Z"), { alertId: capped.alertId });
    expect(sent).toHaveLength(1);
    expect(await pendingOf(capped.user.id)).toBe(0);
    await addPending(capped.user.id, capped.alertId, 1);
    // Later the same local day: capped, the match waits for the digest.
    expect(await sendImmediateEmails(ctx("2026-11-24T08:00:00Z"), { alertId: capped.alertId })).toHaveLength(0);
    expect(await pendingOf(capped.user.id)).toBe(1);
  });
});

describe("engagement roll-up", () => {
  it("rolls logins, views, favorites and alert matches into engagement_daily, idempotently per (user, day)", async () => {
    const u = await userWithPending({ tz: "Asia/Kolkata", n: 2, frequency: "never" });
    const day = new Date().toISOString().slice(0, 10);
    const tender = (await env.DB.prepare("SELECT tender_id FROM alert_matches WHERE user_id = ? LIMIT 1").bind(u.user.id).first<{ tender_id: string }>())!.tender_id;
    await insertInteraction(u.user.id, tender, { interaction_type: "view", source: "alert" });
    await insertFavorite(u.user.id, tender);
    const now = Date.now();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" }), env);
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" }), env);
    const rows = (await env.DB.prepare("SELECT * FROM engagement_daily WHERE user_id = ?").bind(u.user.id).all<Record<string, number | string>>()).results;
    expect(rows).toHaveLength(1);
    // signedInUser logged in once; two matches, one view, one favorite.
    expect(rows[0]).toMatchObject({ date: day, login_count: 1, tender_views: 1, favorites_added: 1, alerts_triggered: 2, engagement_score: 1 + 1 + 3 + 0.5 });
  });

  it("reads searches and views through indexes, not by scanning their tables", async () => {
    const plan = await createDb(env.DB).all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${rollUpEngagementDaySql("2026-11-23")}`);
    const lines = plan.map((r) => r.detail);
    expect(lines.filter((d) => /^SCAN (tender_searches|tender_interactions)\b(?!.*USING)/.test(d)), lines.join("\n")).toEqual([]);
    expect(lines.join("\n")).toContain("tender_searches_user_idx");
  });

  it("counts searches: GET /tenders with q and saved-search runs, first pages only", async () => {
    const { key } = await tenderAdmin();
    const { user, token } = await signedInUser();
    const word = unique("culvert");
    await ingest(key, [
      { title: `${word} repair north`, state: "Bihar" },
      { title: `${word} repair south`, state: "Bihar" },
    ]);
    // A search with q (first page), and its next page (the same search, not a new one).
    const first = await call(`tenders?${new URLSearchParams({ q: word, limit: "1" })}`, { token });
    expect(first.status).toBe(200);
    const { next_cursor } = await json<{ next_cursor: string | null }>(first);
    expect(next_cursor).not.toBeNull();
    expect((await call(`tenders?${new URLSearchParams({ q: word, limit: "1", cursor: next_cursor! })}`, { token })).status).toBe(200);
    // Browsing by filters only is not a search.
    expect((await call("tenders?states=Bihar", { token })).status).toBe(200);
    // A saved search run (first page) is a search; its next page is not.
    const saved = await json<{ id: string }>(await call("me/saved-searches", { body: { name: "culverts", query: { keywords: [word] } }, token }));
    const run = await call(`me/saved-searches/${saved.id}/run?limit=1`, { method: "POST", token });
    expect(run.status).toBe(200);
    const runCursor = (await json<{ next_cursor: string }>(run)).next_cursor;
    expect((await call(`me/saved-searches/${saved.id}/run?${new URLSearchParams({ limit: "1", cursor: runCursor })}`, { method: "POST", token })).status).toBe(200);

    const day = new Date().toISOString().slice(0, 10);
    // Searches are recorded after the response (waitUntil): roll up until they are in.
    await eventually(async () => {
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env);
      const row = await env.DB.prepare("SELECT date, login_count, search_count, tender_views, engagement_score FROM engagement_daily WHERE user_id = ?").bind(user.id).first();
      expect(row).toEqual({ date: day, login_count: 1, search_count: 2, tender_views: 0, engagement_score: 1 + 2 * 0.5 });
    });
  });
});
