import { describe, expect, it } from "vitest";
import { insertTender } from "./helpers/fixtures";
import { call, callWithConfig, expectProblem, json, signedInUser, unique } from "./helpers/harness";

const DAY = 86_400_000;

interface Preview {
  matches_last_30_days: number;
  scanned: number;
  scan_capped: boolean;
  sample: { tender: { id: string; title: string }; reasons: string[] }[];
  expected_emails_per_week: number;
}

describe("POST /me/alerts/preview", () => {
  it("counts the last 30 days' matches, samples 10 newest with reasons, and estimates emails per week", async () => {
    const word = unique("pv").replace(/[^a-z0-9]/g, "");
    const now = Date.now();
    // 12 matches on 6 different days of the last 30; one older match and one non-match are left out.
    for (let i = 0; i < 12; i++) {
      const at = now - Math.floor(i / 2) * 4 * DAY - i * 1000;
      await insertTender({ title: `Bridge over ${word} river ${i}`, state: "Bihar", value: 2_000_000, closing_date: now + 20 * DAY, created_at: at, updated_at: at });
    }
    await insertTender({ title: `Old ${word} bridge`, state: "Bihar", value: 2_000_000, created_at: now - 40 * DAY, updated_at: now - 40 * DAY });
    await insertTender({ title: `School ${word}`, state: "Goa", value: 2_000_000, updated_at: now });
    const { token } = await signedInUser();
    const criteria = { keywords: [word], states: ["bihar"], min_value: 1_000_000 };

    const res = await call("me/alerts/preview", { body: { criteria }, token });
    expect(res.status, await res.clone().text()).toBe(200);
    const p = await json<Preview>(res);
    expect(p.matches_last_30_days).toBe(12);
    expect(p.scan_capped).toBe(false);
    expect(p.sample).toHaveLength(10);
    expect(p.sample[0]!.tender.title).toBe(`Bridge over ${word} river 0`);
    expect(p.sample[0]!.reasons).toEqual([`keyword "${word}"`, "state Bihar", "value 20,00,000, at least 10,00,000"]);
    expect(p.expected_emails_per_week).toBeCloseTo(12 / (30 / 7), 1);

    const daily = await json<Preview>(await call("me/alerts/preview", { body: { criteria, notification_frequency: "daily_digest" }, token }));
    expect(daily.expected_emails_per_week).toBeCloseTo(6 / (30 / 7), 1);
    const weekly = await json<Preview>(await call("me/alerts/preview", { body: { criteria, notification_frequency: "weekly_digest" }, token }));
    expect(weekly.expected_emails_per_week).toBeLessThanOrEqual(1);
    expect(weekly.expected_emails_per_week).toBeGreaterThan(0.5);

    // Nothing is written: no alert exists afterwards.
    expect((await json<{ items: unknown[] }>(await call("me/alerts", { token }))).items).toHaveLength(0);
  });

  it("validates, needs read:alerts, and is rate limited per user", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("me/alerts/preview", { body: { criteria: {} }, token }), 422, "validation_failed");
    await expectProblem(await call("me/alerts/preview", { body: { criteria: { keywords: ["x"] }, extra: 1 }, token }), 422, "validation_failed");
    await expectProblem(await call("me/alerts/preview", { body: { criteria: { keywords: ["x"] } } }), 401, "unauthenticated");
    const key = await json<{ key: string }>(await call("me/api-keys", { body: { name: "tenders", scopes: ["read:tenders"] }, token }));
    expect((await call("me/alerts/preview", { body: { criteria: { keywords: ["x"] } }, apiKey: key.key })).status).toBe(403);
    const reader = await json<{ key: string }>(await call("me/api-keys", { body: { name: "alerts", scopes: ["read:alerts"] }, token }));
    expect((await call("me/alerts/preview", { body: { criteria: { keywords: ["x"] } }, apiKey: reader.key })).status).toBe(200);

    const other = await signedInUser();
    const limited = { RATE_ALERT_PREVIEW_PER_USER: "2/3600" };
    for (let i = 0; i < 2; i++) expect((await callWithConfig(limited, "me/alerts/preview", { body: { criteria: { keywords: ["x"] } }, token: other.token })).status).toBe(200);
    await expectProblem(await callWithConfig(limited, "me/alerts/preview", { body: { criteria: { keywords: ["x"] } }, token: other.token }), 429, "rate_limited");
  });
});
