import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sendImmediateEmails } from "../src/features/alert-delivery/immediate.service";
import { sendDueDigests } from "../src/features/alert-delivery/digests.service";
import { signTenderLink, tenderEmailUrl, verifyTenderLink } from "../src/features/alert-delivery/tender-links";
import { getConfig } from "../src/platform/config";
import { serviceContext } from "../src/platform/context";
import { DAY } from "../src/platform/time";
import { closingIn, insertAlert, insertAlertMatch, insertTender, setPreferences, setProfile } from "./helpers/fixtures";
import { call, callAt, callWithConfig, movableClock, randomIp, signedInUser, unique, waitForMail } from "./helpers/harness";

const ctxAt = (now: Date) => serviceContext(env, { now });
const PUBLIC = getConfig(env).PUBLIC_BASE_URL;

const linkPath = (text: string) => {
  const m = /https?:\/\/[^\s"<>]+\/l\/([A-Za-z0-9_.-]+)/.exec(text);
  if (!m) throw new Error(`no /l/ link in: ${text}`);
  return `/l/${m[1]}`;
};

const clicks = async (userId: string, tenderId: string) =>
  (await env.DB.prepare("SELECT interaction_type, source FROM tender_interactions WHERE user_id = ? AND tender_id = ? ORDER BY created_at").bind(userId, tenderId).all<{ interaction_type: string; source: string }>()).results;

async function tenderFor(_userId: string) {
  const tenderId = `tnd_${unique("tl")}`;
  await insertTender({ id: tenderId, title: `Bridge ${tenderId}`, department: "Roads Dept", value: 2_500_000, closing_date: closingIn(20) });
  return tenderId;
}

/** A link signed for `userId` as an email would carry it (the path only). */
const signedPath = async (userId: string, tenderId: string, now = new Date()) =>
  new URL(await tenderEmailUrl(ctxAt(now), { userId, tenderId, source: "digest" })).pathname;

describe("emailed tender links (/l/{signed})", () => {
  it("an immediate alert email links through /l/; opening it records one click per open and redirects to the console's tender view", async () => {
    const { user } = await signedInUser();
    await setPreferences(user.id, { quiet_hours_start: null, quiet_hours_end: null, max_alerts_per_day: 50 });
    const alertId = await insertAlert(user.id, { name: "Bridges", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "immediate" });
    const tenderId = await tenderFor(user.id);
    await insertAlertMatch(alertId, tenderId, user.id);
    expect(await sendImmediateEmails(ctxAt(new Date()), { alertId })).toHaveLength(1);
    const mail = await waitForMail(user.email, "alert_match", { timeoutMs: 15_000 });
    const path = linkPath(mail.text);
    expect(mail.html).toContain(path);
    expect(mail.text).not.toContain(`/api/v1/tenders/${tenderId}`);

    const first = await call(path, { redirect: "manual" });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe(`${PUBLIC}/console/tenders/${tenderId}`);
    expect(await clicks(user.id, tenderId)).toEqual([{ interaction_type: "email_click", source: "email_alert" }]);
    expect((await call(path, { redirect: "manual" })).status).toBe(302);
    expect(await clicks(user.id, tenderId)).toHaveLength(2);
  });

  it("a digest links each tender through /l/ with source digest", async () => {
    const { user } = await signedInUser();
    await setProfile(user.id, { timezone: "UTC" });
    const now = new Date();
    // The digest slot is this minute (UTC), so the job sends it now.
    await setPreferences(user.id, { email_digest_frequency: "daily", email_digest_time: now.toISOString().slice(11, 16) });
    const alertId = await insertAlert(user.id, { name: "Bridges", criteria: { keywords: ["bridge"] }, notification_methods: ["email"], notification_frequency: "daily_digest" });
    const tenderId = await tenderFor(user.id);
    await insertAlertMatch(alertId, tenderId, user.id);
    await env.DB.prepare("UPDATE user_preferences SET next_digest_at = 0 WHERE user_id = ?").bind(user.id).run();
    await sendDueDigests(ctxAt(now));
    const mail = await waitForMail(user.email, "daily_digest", { timeoutMs: 15_000 });
    const res = await call(linkPath(mail.text), { redirect: "manual" });
    expect(res.headers.get("location")).toBe(`${PUBLIC}/console/tenders/${tenderId}`);
    expect(await clicks(user.id, tenderId)).toEqual([{ interaction_type: "email_click", source: "email_digest" }]);
  });

  it("with EMAIL_LINK_BASE_URL the link goes to the front end's /tenders/{id}", async () => {
    const { user } = await signedInUser();
    const tenderId = await tenderFor(user.id);
    const res = await callWithConfig({ EMAIL_LINK_BASE_URL: "https://app.example.com/portal" }, await signedPath(user.id, tenderId));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`https://app.example.com/portal/tenders/${tenderId}`);
  });

  it("a forged, altered or expired link gets an HTML page (400), never problem+json, and records nothing", async () => {
    const { user } = await signedInUser();
    const other = await signedInUser();
    const tenderId = await tenderFor(user.id);
    const good = await signedPath(user.id, tenderId);
    const [, , u, t, s, exp, mac] = good.split(/[/.]/);
    const variants = [
      `/l/${u}.${t}.${s}.${exp}.${"A".repeat(mac!.length)}`, // forged MAC
      `/l/${other.user.id}.${t}.${s}.${exp}.${mac}`, // someone else's click
      `/l/${u}.${t}.${s}.${(parseInt(exp!, 36) + 86_400 * 365).toString(36)}.${mac}`, // longer life
      `/l/${u}.${t}.a.${exp}.${mac}`, // another source
      "/l/nonsense",
      `/l/${"x".repeat(900)}`,
    ];
    for (const path of variants) {
      const res = await call(path, { redirect: "manual" });
      expect(res.status, path).toBe(400);
      expect(res.headers.get("content-type"), path).toContain("text/html");
      expect(await res.text(), path).toContain("not valid");
    }
    // Expired: 91 days after it was issued (TENDER_LINK_TTL_DAYS = 90), the same link is refused.
    const clock = movableClock();
    const issued = await signedPath(user.id, tenderId, clock.now());
    expect((await callAt(clock, issued, { redirect: "manual" })).status).toBe(302);
    clock.advance(91 * DAY);
    const expired = await callAt(clock, issued, { redirect: "manual" });
    expect(expired.status).toBe(400);
    expect(expired.headers.get("content-type")).toContain("text/html");
    expect(await clicks(user.id, tenderId)).toHaveLength(1);
    expect(await clicks(other.user.id, tenderId)).toHaveLength(0);
  });

  it("a link to a deleted tender gets an HTML page (404) and records nothing", async () => {
    const { user } = await signedInUser();
    const tenderId = await tenderFor(user.id);
    const path = await signedPath(user.id, tenderId);
    await env.DB.prepare("DELETE FROM tenders WHERE id = ?").bind(tenderId).run();
    const res = await call(path, { redirect: "manual" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("no longer available");
  });

  it("is rate-limited per IP with an HTML page (429 and Retry-After)", async () => {
    const { user } = await signedInUser();
    const tenderId = await tenderFor(user.id);
    const path = await signedPath(user.id, tenderId);
    const ip = randomIp();
    const limited = { RATE_TENDER_LINK_PER_IP: "2/600" };
    expect((await callWithConfig(limited, path, { ip })).status).toBe(302);
    expect((await callWithConfig(limited, path, { ip })).status).toBe(302);
    const third = await callWithConfig(limited, path, { ip });
    expect(third.status).toBe(429);
    expect(third.headers.get("content-type")).toContain("text/html");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await clicks(user.id, tenderId)).toHaveLength(2);
  });

  it("signing round-trips and any one-character change is refused", () => {
    const config = getConfig(env);
    const now = new Date();
    const link = { userId: "usr_01abc", tenderId: "tnd_01xyz", source: "reminder" as const, expiresAt: now.getTime() + DAY };
    const signed = signTenderLink(env, config, link);
    expect(verifyTenderLink(env, config, signed, now)).toEqual({ ...link, expiresAt: Math.ceil(link.expiresAt / 1000) * 1000 });
    for (let i = 0; i < signed.length; i++) {
      const c = signed[i] === "a" ? "b" : "a";
      expect(verifyTenderLink(env, config, signed.slice(0, i) + c + signed.slice(i + 1), now), `position ${i}`).toBeNull();
    }
  });
});
