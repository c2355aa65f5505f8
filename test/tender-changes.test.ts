import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker from "../src/index";
import { insertAlert, insertAlertMatch, insertFavorite, setProfile } from "./helpers/fixtures";
import { call, eventually, mailbox, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";

const tick = (at = Date.now()) => worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), env);
const changesOf = async (userId: string) =>
  (await env.DB.prepare("SELECT title, message FROM notifications WHERE user_id = ? AND type = 'tender_changed'").bind(userId).all<{ title: string; message: string }>()).results;

describe("tender_changed", () => {
  it("a closing-date change reaches each follower once, old → new in their own zone; untracked or unchanged tenders send nothing", async () => {
    const admin = await tenderAdmin();
    const ext = unique("CHG-");
    const other = unique("CHG-");
    await ingest(admin.key, [
      { external_id: ext, title: "Flyover works", value: 1_000_000, closing_date: "2027-03-10T19:30:00Z" },
      { external_id: other, title: "Nobody follows this", closing_date: "2027-03-10T19:30:00Z" },
    ]);
    const id = await tenderId(ext);
    const kolkata = await signedInUser();
    await setProfile(kolkata.user.id, { timezone: "Asia/Kolkata" });
    await insertFavorite(kolkata.user.id, id);
    const ny = await signedInUser();
    await setProfile(ny.user.id, { timezone: "America/New_York", notification_preferences: JSON.stringify({ email: false }) });
    const alertId = await insertAlert(ny.user.id, { criteria: { keywords: ["flyover"] }, notification_methods: ["in_app"] });
    await insertAlertMatch(alertId, id, ny.user.id);
    // Both a favorite and a match: still one notice.
    await insertFavorite(ny.user.id, id);

    // Same values again (title only changes): no change notice.
    await ingest(admin.key, [{ external_id: ext, title: "Flyover works (corrigendum)", value: 1_000_000, closing_date: "2027-03-10T19:30:00Z" }]);
    await ingest(admin.key, [{ external_id: other, title: "Nobody follows this", closing_date: "2027-03-17T19:30:00Z" }]);
    await tick();
    expect(await changesOf(kolkata.user.id)).toHaveLength(0);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM tender_changes").first<{ n: number }>())!.n).toBe(0);

    await ingest(admin.key, [{ external_id: ext, title: "Flyover works (corrigendum)", value: 1_000_000, closing_date: "2027-03-17T19:30:00Z" }]);
    await tick();
    await tick();
    const [k, ...moreK] = await changesOf(kolkata.user.id);
    expect(moreK).toHaveLength(0);
    expect(k!.title).toContain("closing date");
    expect(k!.message).toBe("Closing date: 11 March 2027 at 01:00 am IST → 18 March 2027 at 01:00 am IST");
    const nyNotices = await changesOf(ny.user.id);
    expect(nyNotices).toHaveLength(1);
    expect(nyNotices[0]!.message).toBe("Closing date: 10 March 2027 at 02:30 pm GMT-5 (America/New_York) → 17 March 2027 at 03:30 pm GMT-4 (America/New_York)");
    const emails = (u: string) => env.DB.prepare("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template = 'tender_changed'").bind(u).first<{ n: number }>();
    expect((await emails(kolkata.user.id))!.n).toBe(1);
    expect((await emails(ny.user.id))!.n).toBe(0); // email off
    await eventually(async () => {
      const mail = (await mailbox(kolkata.user.email)).find((m) => m.template === "tender_changed");
      expect(mail?.text).toContain("Closing date: 11 March 2027 at 01:00 am IST → 18 March 2027 at 01:00 am IST");
      expect(mail?.text).toContain("Times are shown in Asia/Kolkata.");
    }, 15_000);

    // A value change: old → new amounts.
    await ingest(admin.key, [{ external_id: ext, title: "Flyover works (corrigendum)", value: 1_250_000, closing_date: "2027-03-17T19:30:00Z" }]);
    await tick();
    const notices = await changesOf(kolkata.user.id);
    expect(notices).toHaveLength(2);
    expect(notices.find((n) => n.title.includes("value"))!.message).toBe("Value: ₹10,00,000 → ₹12,50,000");
  });
});

describe("tender_changed in the follower's language", () => {
  it("a Hindi-language follower gets a Hindi notice and email, dates in their zone, once over three cron runs; with a notification.created webhook event", async () => {
    const admin = await tenderAdmin();
    const ext = unique("HI-");
    await ingest(admin.key, [{ external_id: ext, title: "Setu nirman", value: 500_000, closing_date: "2027-03-10T19:30:00Z" }]);
    const id = await tenderId(ext);
    const hindi = await signedInUser();
    await setProfile(hindi.user.id, { timezone: "Asia/Kolkata", language_preference: "hi" });
    await insertFavorite(hindi.user.id, id);
    const hook = await call("me/webhooks", { body: { url: `${inject("webhookReceiverUrl")}/hooks/${unique("chg")}`, events: ["notification.created"] }, token: hindi.token });
    expect(hook.status, await hook.clone().text()).toBe(201);
    await ingest(admin.key, [{ external_id: ext, title: "Setu nirman", value: 500_000, closing_date: "2027-03-17T19:30:00Z" }]);
    await tick();
    await Promise.all([tick(), tick()]);
    const notices = await changesOf(hindi.user.id);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.title).toBe("बदलाव (अंतिम तिथि): Setu nirman");
    expect(notices[0]!.message).toMatch(/^अंतिम तिथि: 11 मार्च 2027 .* → 18 मार्च 2027 /);
    await eventually(async () => {
      const mail = (await mailbox(hindi.user.email)).find((m) => m.template === "tender_changed");
      expect(mail?.subject).toBe("बदलाव (अंतिम तिथि): Setu nirman");
      expect(mail?.text).toMatch(/^नमस्ते /);
      expect(mail?.text).toContain("\"Setu nirman\" में अंतिम तिथि बदल गया है:");
      expect(mail?.text).toContain("समय Asia/Kolkata में दिखाए गए हैं।");
    }, 15_000);
    const events = (
      await env.DB.prepare("SELECT e.data, (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries FROM webhook_events e WHERE e.user_id = ? AND e.type = 'notification.created'")
        .bind(hindi.user.id)
        .all<{ data: string; deliveries: number }>()
    ).results;
    expect(events).toHaveLength(1);
    expect(events[0]!.deliveries).toBe(1);
    expect(JSON.parse(events[0]!.data).notification).toMatchObject({ type: "tender_changed", related_tender_id: id, title: "बदलाव (अंतिम तिथि): Setu nirman" });
  });
});

describe("tender_changed fan-out in pages", () => {
  it("a change with more followers than a page reaches every one of them once, over several ticks", async () => {
    const { fanOutTenderChanges } = await import("../src/features/reminders/tender-changes.service");
    const { serviceContext } = await import("../src/platform/context");
    const admin = await tenderAdmin();
    const ext = unique("PG-");
    await ingest(admin.key, [{ external_id: ext, title: "Paged", value: 10, closing_date: "2027-06-01T00:00:00Z" }]);
    const id = await tenderId(ext);
    const users = [];
    for (let i = 0; i < 5; i++) {
      const u = await signedInUser();
      await insertFavorite(u.user.id, id);
      users.push(u.user.id);
    }
    await ingest(admin.key, [{ external_id: ext, title: "Paged", value: 20, closing_date: "2027-06-01T00:00:00Z" }]);
    const ctx = serviceContext(env);
    const reports = [];
    for (let i = 0; i < 4; i++) reports.push(await fanOutTenderChanges(ctx, 2));
    expect(reports.map((r) => r.changes)).toEqual([1, 1, 1, 0]); // pages of 2, 2, 1; then done
    for (const u of users) expect(await changesOf(u)).toHaveLength(1);
    // Two concurrent runs on a fresh change: still one notice each.
    await ingest(admin.key, [{ external_id: ext, title: "Paged", value: 30, closing_date: "2027-06-01T00:00:00Z" }]);
    await Promise.all([fanOutTenderChanges(ctx, 2), fanOutTenderChanges(ctx, 2), fanOutTenderChanges(ctx, 2)]);
    for (let i = 0; i < 3; i++) await fanOutTenderChanges(ctx, 2);
    for (const u of users) expect(await changesOf(u)).toHaveLength(2);
  });
});
