import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callAt, expectProblem, json, movableClock, signedInUser } from "./helpers/harness";
import { signedInWithRole } from "./helpers/admin";
import { customRole, grantRole, insertAlert, insertTender } from "./helpers/fixtures";
import { DAY, HOUR } from "../src/platform/time";

interface Window {
  emails: { queued: number; sent: number; failed: number; pending: number; suppressed: number };
  matches_by_frequency: { immediate: number; daily_digest: number; weekly_digest: number };
  digests_sent: { daily: number; weekly: number };
  reminders_sent: number;
  change_notices: number;
}
interface Delivery {
  generated_at: string;
  last_24h: Window;
  last_7d: Window;
  digests_due: number;
  oldest_pending_tender: { id: string; title: string; pending_since: string; attempts: number } | null;
  pending_tenders: number;
  parked_tenders: number;
}

let seq = 0;
const id = (p: string) => `${p}_del${++seq}`;
const run = (sqlText: string, ...args: unknown[]) => env.DB.prepare(sqlText).bind(...args).run();
const outbox = (at: number, status: string, template = "alert_match") =>
  run("INSERT INTO email_outbox (id, to_address, subject, text_body, html_body, template, status, created_at) VALUES (?, 'x@example.com', 's', '', '', ?, ?, ?)", id("eml"), template, status, at);

describe("GET /admin/delivery", () => {
  it("counts emails, matches, digests, reminders and change notices over 24 h and 7 days", async () => {
    const now = Date.now();
    const clock = movableClock(now);
    const admin = await signedInWithRole("admin");
    const get = async () => {
      const res = await callAt(clock, "admin/delivery", { token: admin.token });
      expect(res.status).toBe(200);
      return json<Delivery>(res);
    };
    const before = await get();

    // Emails: two in the last 24 h (sent, failed), two a few days ago (pending, sent daily digest),
    // one weekly digest today, one 8 days old (outside both windows).
    await outbox(now - 1 * HOUR, "sent");
    await outbox(now - 23 * HOUR, "failed");
    await outbox(now - 3 * DAY, "pending");
    await outbox(now - 2 * DAY, "sent", "daily_digest");
    await outbox(now - 2 * HOUR, "sent", "weekly_digest");
    await outbox(now - 8 * DAY, "sent", "daily_digest");
    // Suppressions: one today, one 5 days ago.
    const u1 = (await signedInUser()).user.id;
    const u2 = (await signedInUser()).user.id;
    await run("INSERT INTO email_suppressions (user_id, address, reason, created_at) VALUES (?, 'a@example.com', 'rejected', ?)", u1, now - HOUR);
    await run("INSERT INTO email_suppressions (user_id, address, reason, created_at) VALUES (?, 'b@example.com', 'rejected', ?)", u2, now - 5 * DAY);

    // Matches per alert frequency.
    const immediate = await insertAlert(u1, { criteria: {}, notification_methods: ["email"], notification_frequency: "immediate" });
    const weekly = await insertAlert(u1, { criteria: {}, notification_methods: ["email"], notification_frequency: "weekly_digest" });
    const tenders = await Promise.all([1, 2, 3, 4].map(() => insertTender()));
    const match = (alertId: string, tenderId: string, at: number) =>
      run("INSERT INTO alert_matches (id, alert_id, tender_id, user_id, matched_at) VALUES (?, ?, ?, ?, ?)", id("amt"), alertId, tenderId, u1, at);
    await match(immediate, tenders[0]!, now - HOUR);
    await match(immediate, tenders[1]!, now - 4 * DAY);
    await match(weekly, tenders[0]!, now - 6 * DAY);
    await match(weekly, tenders[1]!, now - 9 * DAY);

    // Reminders: one mark today, one 2 days ago; change notices: one today, one 10 days ago.
    await run("INSERT INTO reminder_marks (id, user_id, tender_id, mark_days, sent_at) VALUES (?, ?, ?, 7, ?)", id("rmk"), u1, tenders[2]!, now - 2 * HOUR);
    await run("INSERT INTO reminder_marks (id, user_id, tender_id, mark_days, sent_at) VALUES (?, ?, ?, 3, ?)", id("rmk"), u1, tenders[2]!, now - 2 * DAY);
    const notice = (at: number, type = "tender_changed") =>
      run("INSERT INTO notifications (id, user_id, type, title, message, created_at) VALUES (?, ?, ?, 't', 'm', ?)", id("ntf"), u2, type, at);
    await notice(now - 3 * HOUR);
    await notice(now - 10 * DAY);
    await notice(now - HOUR, "system");

    // Digests due: one user due an hour ago, one not yet.
    await run("UPDATE user_preferences SET next_digest_at = ? WHERE user_id = ?", now - HOUR, u1);
    await run("UPDATE user_preferences SET next_digest_at = ? WHERE user_id = ?", now + HOUR, u2);

    // Tenders pending matching: the oldest since 2 hours; one parked.
    const oldest = await insertTender({ title: "Slow tender", match_pending_since: now - 2 * HOUR - 7 });
    await insertTender({ match_pending_since: now - HOUR });
    await run("UPDATE tenders SET match_parked_at = ? WHERE id = ?", now - DAY, tenders[3]!);

    const after = await get();
    const diff = (w: "last_24h" | "last_7d") => ({
      emails: Object.fromEntries(Object.entries(after[w].emails).map(([k, v]) => [k, v - before[w].emails[k as keyof Window["emails"]]])),
      matches_by_frequency: Object.fromEntries(Object.entries(after[w].matches_by_frequency).map(([k, v]) => [k, v - before[w].matches_by_frequency[k as keyof Window["matches_by_frequency"]]])),
      digests_sent: { daily: after[w].digests_sent.daily - before[w].digests_sent.daily, weekly: after[w].digests_sent.weekly - before[w].digests_sent.weekly },
      reminders_sent: after[w].reminders_sent - before[w].reminders_sent,
      change_notices: after[w].change_notices - before[w].change_notices,
    });
    expect(diff("last_24h")).toEqual({
      emails: { queued: 3, sent: 2, failed: 1, pending: 0, suppressed: 1 },
      matches_by_frequency: { immediate: 1, daily_digest: 0, weekly_digest: 0 },
      digests_sent: { daily: 0, weekly: 1 },
      reminders_sent: 1,
      change_notices: 1,
    });
    expect(diff("last_7d")).toEqual({
      emails: { queued: 5, sent: 3, failed: 1, pending: 1, suppressed: 2 },
      matches_by_frequency: { immediate: 2, daily_digest: 0, weekly_digest: 1 },
      digests_sent: { daily: 1, weekly: 1 },
      reminders_sent: 2,
      change_notices: 1,
    });
    expect(after.digests_due - before.digests_due).toBe(1);
    expect(after.oldest_pending_tender).toMatchObject({ id: oldest, title: "Slow tender", pending_since: new Date(now - 2 * HOUR - 7).toISOString(), attempts: 0 });
    expect(after.pending_tenders - before.pending_tenders).toBe(2);
    expect(after.parked_tenders - before.parked_tenders).toBe(1);
    expect(after.generated_at).toBe(new Date(now).toISOString());

    // An hour later the 23-hour-old failure leaves the 24-hour window.
    clock.advance(2 * HOUR);
    const later = await get();
    expect(later.last_24h.emails.failed).toBe(after.last_24h.emails.failed - 1);
    expect(later.last_7d.emails.failed).toBe(after.last_7d.emails.failed);
  });

  it("is for administrators with admin:system only", async () => {
    const clock = movableClock();
    const { token } = await signedInUser();
    await expectProblem(await callAt(clock, "admin/delivery", { token }), 403, "forbidden");
    await expectProblem(await callAt(clock, "admin/delivery"), 401, "unauthenticated");
    // A weaker administrator (user and audit administration, no admin:system) is refused too.
    const weaker = await signedInUser();
    await grantRole(weaker.user.id, await customRole(["perm_admin_users", "perm_admin_audit"]));
    await expectProblem(await callAt(clock, "admin/delivery", { token: weaker.token }), 403, "forbidden");
  });
});
