import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { insertFavorite, insertTender, setPreferences, setProfile } from "./helpers/fixtures";
import { call, eventually, expectProblem, json, mailbox, signedInUser } from "./helpers/harness";

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
    expect(first[0]!.message).toMatch(/Mar 11, 2027, 01:00/);
    expect(first[0]!.message).toContain("Asia/Kolkata");
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
      expect(mail?.text).toMatch(/Mar 11, 2027, 01:00.*Asia\/Kolkata/);
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
    expect(await remindersOf(quiet.user.id)).toHaveLength(0);
    expect(await reminderEmailsOf(quiet.user.id)).toHaveLength(0);
    expect(await remindersOf(custom.user.id)).toHaveLength(1);
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
