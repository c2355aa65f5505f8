import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker from "../src/index";
import { insertFavorite, insertTender, setPreferences, setProfile } from "./helpers/fixtures";
import { call, eventually, expectProblem, json, mailbox, signedInUser, unique } from "./helpers/harness";

const DAY = 86_400_000;
const tick = (at: number) => worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), env);

async function bidder(opts: { tz?: string; status?: string; closing: number; prefs?: Record<string, boolean> }) {
  const { user, token } = await signedInUser();
  await setProfile(user.id, { timezone: opts.tz ?? "Asia/Kolkata", ...(opts.prefs ? { notification_preferences: JSON.stringify(opts.prefs) } : {}) });
  const tenderId = await insertTender({ title: `Bridge repair ${user.id}`, closing_date: opts.closing });
  await insertFavorite(user.id, tenderId);
  await env.DB.prepare("UPDATE favorites SET bid_status = ? WHERE user_id = ?").bind(opts.status ?? "planning", user.id).run();
  return { user, token, tenderId };
}

const remindersOf = async (userId: string) =>
  (await env.DB.prepare("SELECT title, message, related_tender_id FROM notifications WHERE user_id = ? AND type = 'reminder' ORDER BY created_at").bind(userId).all<{ title: string; message: string }>()).results;
const reminderEmailsOf = async (userId: string) =>
  (await env.DB.prepare("SELECT id FROM email_outbox WHERE user_id = ? AND template = 'reminder'").bind(userId).all()).results;

describe("reminders (cron)", () => {
  it("sends each day-mark exactly once, even when the cron runs three times, in the user's zone", async () => {
    // 01:00 in Kolkata on 11 March is 19:30 UTC on 10 March.
    const closes = Date.parse("2027-03-10T19:30:00Z");
    const b = await bidder({ closing: closes });
    await tick(closes - 8 * DAY);
    expect(await remindersOf(b.user.id)).toHaveLength(0);
    const at7 = closes - 7 * DAY + 60_000;
    await tick(at7);
    await tick(at7);
    await Promise.all([tick(at7 + 15 * 60_000), tick(at7 + 15 * 60_000)]);
    const first = await remindersOf(b.user.id);
    expect(first).toHaveLength(1);
    expect(first[0]!.title).toContain("7 days");
    // The catalogue's date format (email/format.ts), in the user's zone, named.
    expect(first[0]!.message).toContain("11 March 2027 at 01:00 am IST");
    expect(await reminderEmailsOf(b.user.id)).toHaveLength(1);

    for (const at of [closes - 3 * DAY, closes - 3 * DAY, closes - 3 * DAY + 30 * 60_000]) await tick(at);
    expect(await remindersOf(b.user.id)).toHaveLength(2);
    for (const at of [closes - DAY, closes - DAY + 1, closes - 1000]) await tick(at);
    expect((await remindersOf(b.user.id)).map((r) => r.title.match(/within (\d+ days?)/)?.[1])).toEqual(["7 days", "3 days", "1 day"]);
    await tick(closes + 1000); // closed: nothing more
    expect(await remindersOf(b.user.id)).toHaveLength(3);
    expect(await reminderEmailsOf(b.user.id)).toHaveLength(3);
    await eventually(async () => {
      const mail = (await mailbox(b.user.email)).find((m) => m.template === "reminder");
      expect(mail?.text).toContain("closes on 11 March 2027 at 01:00 am IST");
      expect(mail?.text).toContain("Times are shown in Asia/Kolkata.");
      expect(mail?.text).toMatch(new RegExp(`Open the tender: http\\S*/l/\\S*${b.tenderId}`));
      // The tender link is a signed /l/ link (tender-links.ts) that lands on this tender.
      const path = mail?.text.match(/\/l\/[^\s)>\]]+/)?.[0];
      expect(path).toBeDefined();
      const res = await call(path!, { redirect: "manual" });
      expect(res.headers.get("location")).toMatch(new RegExp(`/tenders/${b.tenderId}$`));
    }, 15_000);
  });

  it("when several marks are reached at once, only the nearest is sent", async () => {
    const closes = Date.parse("2027-04-20T10:00:00Z");
    const b = await bidder({ closing: closes, status: "preparing" });
    await tick(closes - 2 * DAY); // 7 and 3 reached together: only 3
    expect((await remindersOf(b.user.id)).map((r) => r.title)).toEqual([expect.stringContaining("3 days")]);
    await tick(closes - 2 * DAY + 15 * 60_000);
    await tick(closes - 12 * 3_600_000); // 1 reached
    expect((await remindersOf(b.user.id)).map((r) => r.title.match(/within (\d+ days?)/)?.[1])).toEqual(["3 days", "1 day"]);
  });

  it("only bids in planning or preparing; reminder_days and notification_preferences are honoured", async () => {
    const closes = Date.parse("2027-05-20T10:00:00Z");
    const submitted = await bidder({ closing: closes, status: "submitted" });
    const custom = await bidder({ closing: closes, prefs: { email: false } });
    await setPreferences(custom.user.id, { reminder_days: "[5]" });
    const quiet = await bidder({ closing: closes, prefs: { reminders: false } });
    await tick(closes - 6 * DAY);
    expect(await remindersOf(custom.user.id)).toHaveLength(0);
    await tick(closes - 5 * DAY);
    expect(await remindersOf(submitted.user.id)).toHaveLength(0);
    expect((await remindersOf(custom.user.id)).map((r) => r.title)).toEqual([expect.stringContaining("5 days")]);
    expect(await reminderEmailsOf(custom.user.id)).toHaveLength(0); // email off: in-app only
    await tick(closes - DAY);
    // `reminders: false` turns off the reminder email (notification-prefs.ts: the type flags govern
    // email); the in-app notice follows `in_app`, as for every notification the dispatcher sends.
    expect((await remindersOf(quiet.user.id)).map((r) => r.title.match(/within (\d+ days?)/)?.[1])).toEqual(["7 days", "1 day"]);
    expect(await reminderEmailsOf(quiet.user.id)).toHaveLength(0);
    expect(await remindersOf(custom.user.id)).toHaveLength(1);
  });
});

describe("reminders through the one catalogue and dispatcher", () => {
  it("a Hindi-language user gets a Hindi reminder, the date in their zone, exactly once over three cron runs", async () => {
    const closes = Date.parse("2027-03-10T19:30:00Z"); // 11 March, 01:00 in Kolkata
    const b = await bidder({ closing: closes });
    await setProfile(b.user.id, { language_preference: "hi" });
    const at3 = closes - 3 * DAY + 60_000;
    await tick(at3);
    await tick(at3);
    await Promise.all([tick(at3 + 15 * 60_000), tick(at3 + 15 * 60_000)]);
    const got = await remindersOf(b.user.id);
    expect(got).toHaveLength(1);
    expect(got[0]!.title).toContain("अनुस्मारक");
    expect(got[0]!.title).toContain("3 दिनों के भीतर बंद होगी");
    expect(got[0]!.message).toContain("11 मार्च 2027");
    expect(await reminderEmailsOf(b.user.id)).toHaveLength(1);
    await eventually(async () => {
      const mail = (await mailbox(b.user.email)).find((m) => m.template === "reminder");
      expect(mail?.subject).toContain("अनुस्मारक");
      expect(mail?.text).toMatch(/^नमस्ते /);
      expect(mail?.text).toContain("11 मार्च 2027");
      expect(mail?.text).toContain("समय Asia/Kolkata में दिखाए गए हैं।");
    }, 15_000);
  });

  it("a reminder held by quiet hours is sent once they end", async () => {
    const closes = Date.parse("2027-07-10T12:00:00Z");
    const b = await bidder({ closing: closes });
    await setPreferences(b.user.id, { quiet_hours_start: "00:00", quiet_hours_end: "09:00" });
    const at = Date.parse("2027-07-09T20:00:00Z"); // 01:30 in Kolkata: quiet
    await tick(at);
    expect(await remindersOf(b.user.id)).toHaveLength(0);
    await tick(Date.parse("2027-07-10T04:00:00Z")); // 09:30 in Kolkata
    await tick(Date.parse("2027-07-10T04:15:00Z"));
    expect((await remindersOf(b.user.id)).map((r) => r.title)).toEqual([expect.stringContaining("1 day")]);
    expect(await reminderEmailsOf(b.user.id)).toHaveLength(1);
  });

  it("a reminder's notification enqueues a notification.created webhook event, once", async () => {
    const closes = Date.parse("2027-08-10T12:00:00Z");
    const b = await bidder({ closing: closes });
    const res = await call("me/webhooks", { body: { url: `${inject("webhookReceiverUrl")}/hooks/${unique("rmd")}`, events: ["notification.created"] }, token: b.token });
    expect(res.status, await res.clone().text()).toBe(201);
    const at = closes - 7 * DAY + 60_000;
    for (const t of [at, at, at + 15 * 60_000]) await tick(t);
    const [notice] = await env.DB.prepare("SELECT id FROM notifications WHERE user_id = ? AND type = 'reminder'").bind(b.user.id).all<{ id: string }>().then((r) => r.results);
    const events = (
      await env.DB.prepare("SELECT e.id, e.data, (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries FROM webhook_events e WHERE e.user_id = ? AND e.type = 'notification.created'")
        .bind(b.user.id)
        .all<{ id: string; data: string; deliveries: number }>()
    ).results;
    expect(events).toHaveLength(1);
    expect(events[0]!.deliveries).toBe(1);
    expect(JSON.parse(events[0]!.data).notification).toMatchObject({ id: notice!.id, type: "reminder", related_tender_id: b.tenderId });
  });
});

describe("reminder_days preference", () => {
  it("defaults to [7, 3, 1], is validated, and is stored nearest last", async () => {
    const { token } = await signedInUser();
    const got = await json<{ reminder_days: number[] }>(await call("me/preferences", { token }));
    expect(got.reminder_days).toEqual([7, 3, 1]);
    const res = await call("me/preferences", { method: "PATCH", token, body: { reminder_days: [1, 14, 2, 14] } });
    expect(res.status).toBe(200);
    expect((await json<{ reminder_days: number[] }>(res)).reminder_days).toEqual([14, 2, 1]);
    for (const bad of [[0], [1.5], Array.from({ length: 11 }, (_, i) => i + 1), ["3"], [91]]) {
      await expectProblem(await call("me/preferences", { method: "PATCH", token, body: { reminder_days: bad } }), 422, "validation_failed");
    }
  });
});
