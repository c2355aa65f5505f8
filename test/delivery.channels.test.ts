// Issue 19, point 8: the channel interface and the one function reminders and change notices go through.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { CHANNELS, deliverNotification, type NotificationRequest } from "../src/features/alert-delivery/channels/dispatcher";
import { serviceContext } from "../src/platform/context";
import { closingIn, insertTender, setPreferences, setProfile } from "./helpers/fixtures";
import { mailbox, signedInUser, unique } from "./helpers/harness";
import { rawStatement } from "../src/platform/db";

const count = async (q: string, ...binds: unknown[]) => (await env.DB.prepare(q).bind(...binds).first<{ n: number }>())!.n;

// A caller's ledger (the reminders job has its own table): one row per (user, tender), claimed with a fresh id.
beforeAll(async () => {
  await env.DB.exec("CREATE TABLE IF NOT EXISTS test_ledger (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, tender_id TEXT NOT NULL, UNIQUE (user_id, tender_id))");
});

function reminder(userId: string, tenderId: string, closing: Date): NotificationRequest {
  const id = unique("led");
  const db = serviceContext(env).db;
  return {
    userId,
    type: "reminder",
    tenderId,
    claim: {
      statement: rawStatement(db, sql`INSERT INTO test_ledger (id, user_id, tender_id) VALUES (${id}, ${userId}, ${tenderId}) ON CONFLICT DO NOTHING`),
      won: sql`EXISTS (SELECT 1 FROM test_ledger WHERE id = ${id})`,
    },
    compose: async ({ date, tenderUrl, m }) => ({
      title: `Closes ${date(closing)}`,
      lines: [`Your favorite closes ${date(closing)}.`],
      action: { label: m.seeAll, url: await tenderUrl(tenderId, "reminder") },
    }),
  };
}

describe("deliverNotification", () => {
  it("delivers in-app and email in the recipient's zone and language, once under the caller's guard", async () => {
    const u = await signedInUser();
    await setProfile(u.user.id, { timezone: "Asia/Kolkata", language_preference: "hi" });
    const tenderId = await insertTender({ title: "Bridge", closing_date: closingIn(3) });
    const closing = new Date("2026-11-30T19:30:00Z");
    const ctx = serviceContext(env, { now: new Date("2026-11-27T06:00:00Z") });
    expect(await deliverNotification(ctx, reminder(u.user.id, tenderId, closing))).toEqual({ status: "delivered", channels: ["in_app", "email"] });
    expect(await deliverNotification(ctx, reminder(u.user.id, tenderId, closing))).toEqual({ status: "already_delivered" });
    expect(await count("SELECT count(*) AS n FROM notifications WHERE user_id = ? AND type = 'reminder'", u.user.id)).toBe(1);
    const mails = (await mailbox(u.user.email)).filter((m) => m.template === "reminder");
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain("नमस्ते");
    expect(mails[0]!.text).toContain("1 दिसंबर 2026");
    expect(mails[0]!.text).toMatch(new RegExp(`/l/\\S*${tenderId}`)); // the signed tender link (tender-links.ts)
  });

  it("honours preferences: reminders off → in-app only; in_app and email off → nothing; quiet hours → deferred", async () => {
    const tenderId = await insertTender({ title: "Canal", closing_date: closingIn(3) });
    const closing = new Date("2026-11-30T19:30:00Z");
    const ctx = serviceContext(env, { now: new Date("2026-11-27T18:00:00Z") }); // 23:30 IST

    const a = await signedInUser();
    await setProfile(a.user.id, { timezone: "Asia/Kolkata", notification_preferences: JSON.stringify({ email: true, reminders: false }) });
    expect(await deliverNotification(ctx, reminder(a.user.id, tenderId, closing))).toEqual({ status: "delivered", channels: ["in_app"] });

    const b = await signedInUser();
    await setProfile(b.user.id, { notification_preferences: JSON.stringify({ email: false, in_app: false }) });
    expect(await deliverNotification(ctx, reminder(b.user.id, tenderId, closing))).toEqual({ status: "skipped", reason: "preferences" });
    expect(await count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", b.user.id)).toBe(0);

    const c = await signedInUser();
    await setProfile(c.user.id, { timezone: "Asia/Kolkata" });
    await setPreferences(c.user.id, { quiet_hours_start: "22:00", quiet_hours_end: "07:00" });
    expect(await deliverNotification(ctx, reminder(c.user.id, tenderId, closing))).toEqual({ status: "deferred", reason: "quiet_hours" });
    expect(await count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", c.user.id)).toBe(0);
    const morning = serviceContext(env, { now: new Date("2026-11-28T02:00:00Z") }); // 07:30 IST
    expect(await deliverNotification(morning, reminder(c.user.id, tenderId, closing))).toMatchObject({ status: "delivered" });
  });

  it("the channels that exist are in-app and email", () => {
    expect(CHANNELS.map((c) => c.name)).toEqual(["in_app", "email"]);
  });
});
