// Issue 19 (points 1–3, 8): delivery in the reader's zone and language, cadence as chosen,
// digests that explain, preferences honoured, through the cron and queue handlers.
import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { closingIn, insertAlert, insertAlertMatch, insertTender, setPreferences, setProfile } from "./helpers/fixtures";
import { call, expectProblem, json, mailbox, signedInUser, unique } from "./helpers/harness";

const tick = (iso: string) => worker.scheduled(createScheduledController({ scheduledTime: Date.parse(iso), cron: "*/15 * * * *" }), env);

async function runMatching(tenderIds: string[]) {
  const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch as never, env);
  return getQueueResult(batch, ctx);
}

type Mail = { template: string; subject: string; text: string; html: string };
const mailsOf = async (email: string, template: RegExp) => ((await mailbox(email)) as unknown as Mail[]).filter((m) => template.test(m.template));
const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;
const pendingOf = (userId: string) => count("SELECT count(*) AS n FROM alert_matches WHERE user_id = ? AND notification_status = 'pending' AND outbox_id IS NULL", userId);

async function reader(opts: { tz: string; lang?: string; frequency?: string; time?: string; quiet?: [string, string]; prefs?: Record<string, boolean> }) {
  const u = await signedInUser();
  await setProfile(u.user.id, {
    timezone: opts.tz,
    language_preference: opts.lang ?? "en",
    ...(opts.prefs ? { notification_preferences: JSON.stringify(opts.prefs) } : {}),
  });
  await setPreferences(u.user.id, {
    email_digest_frequency: opts.frequency ?? "daily",
    email_digest_time: opts.time ?? "09:00",
    quiet_hours_start: opts.quiet?.[0] ?? null,
    quiet_hours_end: opts.quiet?.[1] ?? null,
  });
  return u;
}

async function pendingTender(userId: string, alertId: string, fields: { title?: string; state?: string; value?: number; closing_date?: number | null } = {}) {
  const id = `tnd_${unique("dl")}`;
  await insertTender({ id, title: fields.title ?? `Bridge ${id}`, department: "Roads Dept", value: fields.value ?? 2_500_000, closing_date: fields.closing_date === undefined ? closingIn(20) : fields.closing_date, ...(fields.state ? { state: fields.state } : {}) });
  await insertAlertMatch(alertId, id, userId);
  return id;
}

describe("weekly digests in each reader's zone, across a DST change", () => {
  it("a Kolkata user and a New York user each get theirs on their own Monday at 09:00, before and after New York leaves DST", async () => {
    const kol = await reader({ tz: "Asia/Kolkata", frequency: "weekly" });
    const ny = await reader({ tz: "America/New_York", frequency: "weekly" });
    const kAlert = await insertAlert(kol.user.id, { name: "K", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "weekly_digest" });
    const nAlert = await insertAlert(ny.user.id, { name: "N", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "weekly_digest" });
    await pendingTender(kol.user.id, kAlert);
    await pendingTender(ny.user.id, nAlert);
    const weekly = async (email: string) => (await mailsOf(email, /weekly_digest/)).length;

    await tick("2026-10-25T13:00:00Z"); // Sunday
    expect([await weekly(kol.user.email), await weekly(ny.user.email)]).toEqual([0, 0]);
    await tick("2026-10-26T03:30:00Z"); // Monday 09:00 IST; Sunday 23:30 EDT in New York
    expect([await weekly(kol.user.email), await weekly(ny.user.email)]).toEqual([1, 0]);
    await tick("2026-10-26T12:45:00Z"); // 08:45 EDT
    expect(await weekly(ny.user.email)).toBe(0);
    await tick("2026-10-26T13:00:00Z"); // 09:00 EDT (UTC-4)
    expect(await weekly(ny.user.email)).toBe(1);

    await pendingTender(kol.user.id, kAlert);
    await pendingTender(ny.user.id, nAlert);
    await tick("2026-11-02T03:15:00Z");
    expect(await weekly(kol.user.email)).toBe(1);
    await tick("2026-11-02T03:30:00Z"); // Monday 09:00 IST
    expect(await weekly(kol.user.email)).toBe(2);
    await tick("2026-11-02T13:00:00Z"); // 08:00 EST: the summer slot's UTC time is no longer 09:00
    await tick("2026-11-02T13:45:00Z");
    expect(await weekly(ny.user.email)).toBe(1);
    await tick("2026-11-02T14:00:00Z"); // 09:00 EST (UTC-5)
    await tick("2026-11-02T14:00:00Z"); // a rerun sends nothing twice
    expect(await weekly(ny.user.email)).toBe(2);
  });

  it("email_digest_weekday moves the weekly digest (PATCH /me/preferences validates it)", async () => {
    const u = await reader({ tz: "Asia/Kolkata", frequency: "weekly" });
    await expectProblem(await call("me/preferences", { method: "PATCH", token: u.token, body: { email_digest_weekday: "funday" } }), 422, "validation_failed");
    const res = await call("me/preferences", { method: "PATCH", token: u.token, body: { email_digest_weekday: "wednesday" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ email_digest_weekday: "wednesday" });
    const alertId = await insertAlert(u.user.id, { criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "weekly_digest" });
    await pendingTender(u.user.id, alertId);
    await tick("2026-11-23T03:30:00Z"); // Monday
    expect(await mailsOf(u.user.email, /digest/)).toHaveLength(0);
    await tick("2026-11-25T03:30:00Z"); // Wednesday
    expect((await mailsOf(u.user.email, /digest/)).map((m) => m.template)).toEqual(["weekly_digest"]);
  });

  it("a weekly-digest alert's matches skip the daily digest until the weekly day", async () => {
    const u = await reader({ tz: "Asia/Kolkata", frequency: "daily" });
    const daily = await insertAlert(u.user.id, { name: "Daily one", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "daily_digest" });
    const weekly = await insertAlert(u.user.id, { name: "Weekly one", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "weekly_digest" });
    const d = await pendingTender(u.user.id, daily, { title: "Daily bridge" });
    const w = await pendingTender(u.user.id, weekly, { title: "Weekly bridge" });
    await tick("2026-11-24T03:30:00Z"); // Tuesday
    const [tuesday] = await mailsOf(u.user.email, /digest/);
    expect(tuesday?.text).toContain("Daily bridge");
    expect(tuesday?.text).not.toContain("Weekly bridge");
    expect(await pendingOf(u.user.id)).toBe(1);
    await tick("2026-11-30T03:30:00Z"); // Monday
    const mails = await mailsOf(u.user.email, /digest/);
    expect(mails).toHaveLength(2);
    expect(mails.find((m) => m !== tuesday && m.text.includes("Weekly bridge"))).toBeDefined();
    expect([d, w]).toHaveLength(2);
  });
});

describe("immediate alerts", () => {
  it("are coalesced: one email per user per consumer batch, grouped by alert, with reasons", async () => {
    const u = await reader({ tz: "Asia/Kolkata" });
    const word = unique("zq").replace(/[^a-z]/g, "");
    const a = await call("me/alerts", { token: u.token, body: { name: "Bridges", criteria: { keywords: [word] }, notification_frequency: "immediate" } });
    expect(a.status, await a.clone().text()).toBe(201);
    const b = await call("me/alerts", { token: u.token, body: { name: "Canals", criteria: { keywords: [`${word}canal`] }, notification_frequency: "immediate" } });
    expect(b.status).toBe(201);
    const ids: string[] = [];
    for (const title of [`${word} one`, `${word} two`, `${word} three`, `${word}canal works`]) ids.push(await insertTender({ title, closing_date: closingIn(10) }));
    await runMatching(ids);
    const mails = await mailsOf(u.user.email, /^alert_match$/);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe("4 new tenders match your alerts");
    for (const title of [`${word} one`, `${word} two`, `${word} three`, `${word}canal works`]) expect(mail.text).toContain(title);
    expect(mail.text).toContain('Alert "Bridges": 3 tenders');
    expect(mail.text).toContain('Alert "Canals": 1 tender');
    expect(mail.text).toContain(`Why it matched: keyword "${word}"`);
    expect(await count("SELECT count(*) AS n FROM alert_matches WHERE user_id = ? AND outbox_id IS NOT NULL", u.user.id)).toBe(4);
    await runMatching(ids); // a redelivery writes nothing more
    expect(await mailsOf(u.user.email, /^alert_match$/)).toHaveLength(1);
  });

  it("held back by quiet hours, they go out when the quiet hours end, with the digest set to never", async () => {
    const u = await reader({ tz: "Asia/Kolkata", frequency: "never", quiet: ["22:00", "07:00"] });
    const alertId = await insertAlert(u.user.id, { name: "Night", criteria: { keywords: ["bridge"] }, notification_methods: ["email"] });
    await pendingTender(u.user.id, alertId, { title: "Night bridge one" });
    await pendingTender(u.user.id, alertId, { title: "Night bridge two" });
    await tick("2026-11-23T01:00:00Z"); // 06:30 IST: still quiet
    expect(await mailsOf(u.user.email, /alert_match/)).toHaveLength(0);
    await tick("2026-11-23T01:30:00Z"); // 07:00 IST
    await tick("2026-11-23T01:30:00Z");
    const mails = await mailsOf(u.user.email, /alert_match/);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain("Night bridge one");
    expect(mails[0]!.text).toContain("Night bridge two");
    expect(await pendingOf(u.user.id)).toBe(0);
  });
});

describe("notification_preferences", () => {
  it("in_app off: no in-app rows; alerts off: no immediate email, the digest still carries the match; email off: nothing", async () => {
    const word = unique("pf").replace(/[^a-z]/g, "");
    const quietInbox = await reader({ tz: "Asia/Kolkata", prefs: { email: true, in_app: false, alerts: false, digests: true, sms: false } });
    const noEmail = await reader({ tz: "Asia/Kolkata", prefs: { email: false, in_app: true } });
    for (const u of [quietInbox, noEmail]) {
      const res = await call("me/alerts", { token: u.token, body: { name: "P", criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] } });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const t = await insertTender({ title: `${word} tender`, closing_date: closingIn(15) });
    await runMatching([t]);
    const notes = (userId: string) => count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", userId);
    expect(await notes(quietInbox.user.id)).toBe(0);
    expect(await notes(noEmail.user.id)).toBe(1);
    expect(await mailsOf(quietInbox.user.email, /alert_match/)).toHaveLength(0);
    expect(await mailsOf(noEmail.user.email, /alert_match/)).toHaveLength(0);
    await tick("2026-11-23T03:30:00Z");
    expect(await mailsOf(quietInbox.user.email, /digest/)).toHaveLength(1);
    expect(await mailsOf(noEmail.user.email, /digest/)).toHaveLength(0);
  });
});

describe("digests that explain, in the reader's language and zone", () => {
  it("groups by alert, gives reasons, lists open tenders only, soonest closing first, in the reader's time zone", async () => {
    const u = await reader({ tz: "America/New_York" });
    const roads = await insertAlert(u.user.id, {
      name: "Bihar bridges",
      criteria: { keywords: ["bridge", "flyover"], states: ["bihar"], min_value: 1_000_000, max_value: 5_000_000 },
      notification_methods: ["email"],
      notification_frequency: "daily_digest",
    });
    const canals = await insertAlert(u.user.id, { name: "Canals", criteria: { keywords: ["canal"] }, notification_methods: ["email"], notification_frequency: "daily_digest" });
    const now = Date.parse("2026-11-23T14:00:00Z");
    await pendingTender(u.user.id, roads, { title: "Late bridge", state: "Bihar", closing_date: now + 20 * 86_400_000 });
    await pendingTender(u.user.id, roads, { title: "Soon bridge", state: "Bihar", closing_date: Date.parse("2026-11-30T19:30:00Z") });
    await pendingTender(u.user.id, roads, { title: "Closed bridge", state: "Bihar", closing_date: now - 86_400_000 });
    await pendingTender(u.user.id, canals, { title: "Middle canal", closing_date: now + 10 * 86_400_000 });
    await tick("2026-11-23T14:00:00Z"); // 09:00 EST
    const [mail] = await mailsOf(u.user.email, /daily_digest/);
    expect(mail?.subject).toBe("Your daily keel digest: 3 open tenders");
    const text = mail!.text;
    expect(text).not.toContain("Closed bridge");
    const at = (s: string) => text.indexOf(s);
    expect(at("Bihar bridges")).toBeLessThan(at("Soon bridge"));
    expect(at("Soon bridge")).toBeLessThan(at("Late bridge"));
    expect(at("Late bridge")).toBeLessThan(at("Canals"));
    expect(at("Canals")).toBeLessThan(at("Middle canal"));
    expect(text).toContain('Why it matched: keyword "bridge"; state Bihar; value between ₹10,00,000 and ₹50,00,000');
    // 2026-11-30T19:30Z is 14:30 in New York, named.
    expect(text).toContain("30 November 2026 at 02:30 pm GMT-5 (America/New_York)");
    expect(text).toContain("See all your matches:");
    expect(mail!.html).toContain("<h2");
    // The closed one stays pending (never emailed), the open ones are carried.
    expect(await pendingOf(u.user.id)).toBe(1);
  });

  it("counts what it leaves out", async () => {
    const u = await reader({ tz: "Asia/Kolkata" });
    const alertId = await insertAlert(u.user.id, { name: "Many", criteria: { keywords: ["bridge"] }, notification_methods: ["email"] });
    for (let i = 0; i < 52; i++) await pendingTender(u.user.id, alertId, { closing_date: closingIn(5 + i) });
    await tick("2026-11-23T03:30:00Z");
    const [mail] = await mailsOf(u.user.email, /daily_digest/);
    expect(mail?.text).toContain("2 more matches are not listed here.");
    expect(await pendingOf(u.user.id)).toBe(2);
  });

  it("a Hindi reader gets Hindi, with the closing date in Kolkata (01:00 on 1 December, not 30 November)", async () => {
    const u = await reader({ tz: "Asia/Kolkata", lang: "hi" });
    const alertId = await insertAlert(u.user.id, { name: "पुल", criteria: { keywords: ["bridge"] }, notification_methods: ["email"] });
    await pendingTender(u.user.id, alertId, { title: "Bridge over the Ganga", closing_date: Date.parse("2026-11-30T19:30:00Z") });
    await tick("2026-11-23T03:30:00Z");
    const [mail] = await mailsOf(u.user.email, /daily_digest/);
    expect(mail?.subject).toBe("आपका दैनिक keel सारांश: 1 खुली निविदा");
    expect(mail?.text).toContain("नमस्ते");
    expect(mail?.text).toContain("1 दिसंबर 2026");
    expect(mail?.text).toContain("IST");
    expect(mail?.text).toContain('मेल खाने का कारण: कीवर्ड "bridge"');
    expect(mail?.text).not.toContain("Hello");
    expect(mail?.html).toContain('lang="hi-IN"');
  });
});
