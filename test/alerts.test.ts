import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { matchPairs, recordMatches, activeAlertIndex, indexStats } from "../src/features/alerts/alert-matching.service";
import { tendersByIds } from "../src/features/alerts/alert-matching.repo";
import { getConfig } from "../src/platform/config";
import { createDb } from "../src/platform/db";
import { closingIn, insertTender } from "./helpers/fixtures";
import { call, eventually, expectProblem, json, signedInUser, unique } from "./helpers/harness";

const DAY = 86_400_000;
const db = createDb(env.DB);
const ctxAt = (now = new Date()) => ({ db, env, config: getConfig(env), now });

interface Alert {
  id: string;
  name: string;
  criteria: Record<string, unknown>;
  notification_methods: string[];
  notification_frequency: string;
  is_active: boolean;
  total_matches: number;
  total_notifications_sent: number;
  last_matched_at: string | null;
}

/** A tender straight into D1 (the consumer is driven by hand here, not by the ingest route). */
async function aTender(title: string, extra: { state?: string; value?: number; updatedAt?: number } = {}): Promise<string> {
  const updated = extra.updatedAt ?? Date.now();
  return insertTender({
    id: `tnd_${unique("al")}`,
    title,
    department: "Public Works",
    state: extra.state ?? "Bihar",
    value: extra.value ?? 1_000_000,
    closing_date: closingIn(30),
    created_at: updated,
    updated_at: updated,
  });
}

const createAlert = (token: string, body: Record<string, unknown>) => call("me/alerts", { body: { name: "a", ...body }, token });

async function runMatching(tenderIds: string[]) {
  const batch = createMessageBatch("alert-matching", [{ id: `m-${unique()}`, timestamp: new Date(), attempts: 1, body: { tenderIds } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch as never, env);
  return getQueueResult(batch, ctx);
}

const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;

describe("alerts CRUD", () => {
  it("creates, lists, reads, replaces criteria whole, deletes; validates; 404 for another user's alert", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const res = await createAlert(a.token, { criteria: { keywords: ["bridge"], states: ["Bihar"] }, notification_frequency: "daily_digest", allow_unknown_values: true });
    expect(res.status, await res.clone().text()).toBe(201);
    const alert = await json<Alert>(res);
    expect(alert).toMatchObject({ notification_methods: ["email"], notification_frequency: "daily_digest", is_active: true, total_matches: 0 });

    const list = await json<{ items: Alert[] }>(await call("me/alerts", { token: a.token }));
    expect(list.items.map((x) => x.id)).toEqual([alert.id]);

    const patched = await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { criteria: { departments: ["Railways"] }, is_active: false, allow_unknown_values: true }, token: a.token });
    expect(patched.status).toBe(200);
    expect(await json<Alert>(patched)).toMatchObject({ criteria: { departments: ["Railways"] }, is_active: false });
    expect((await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).criteria).toEqual({ departments: ["Railways"] });

    await expectProblem(await createAlert(a.token, { criteria: {} }), 422, "validation_failed");
    await expectProblem(await createAlert(a.token, { criteria: { keywords: ["x"], min_value: 10, max_value: 1 } }), 422, "validation_failed");
    await expectProblem(await createAlert(a.token, { criteria: { keywords: ["x"] }, extra: 1 }), 422, "validation_failed");
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { criteria: {} }, token: a.token }), 422, "validation_failed");

    await expectProblem(await call(`me/alerts/${alert.id}`, { token: b.token }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}/matches`, { token: b.token }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "DELETE", token: b.token }), 404, "not_found");
    expect((await call(`me/alerts/${alert.id}`, { method: "DELETE", token: a.token })).status).toBe(204);
    await expectProblem(await call(`me/alerts/${alert.id}`, { token: a.token }), 404, "not_found");
  });

  it("stops at the plan limit with 409 limit_reached (free plan: 10)", async () => {
    const a = await signedInUser();
    for (let i = 0; i < 10; i++) expect((await createAlert(a.token, { criteria: { keywords: [`k${i}`] }, notification_frequency: "daily_digest" })).status).toBe(201);
    await expectProblem(await createAlert(a.token, { criteria: { keywords: ["one more"] } }), 409, "limit_reached");
    expect(await count("SELECT count(*) AS n FROM alerts WHERE user_id = ?", a.user.id)).toBe(10);
  });

  it("matches a new immediate alert at once against the last 7 days of tenders, newest match first", async () => {
    const a = await signedInUser();
    const word = unique("fresh");
    const old = await aTender(`${word} bridge repair`, { updatedAt: Date.now() - 8 * DAY });
    const recent1 = await aTender(`${word} bridge repair`, { updatedAt: Date.now() - 2 * DAY });
    const recent2 = await aTender(`${word} road works`, { updatedAt: Date.now() - DAY });
    const res = await createAlert(a.token, { criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] });
    expect(res.status, await res.clone().text()).toBe(201);
    const alert = await json<Alert>(res);
    expect(alert.total_matches).toBe(2);
    const listMatches = async () =>
      json<{ items: { tender: { id: string }; matched_at: string; notification_status: string }[] }>(await call(`me/alerts/${alert.id}/matches`, { token: a.token }));
    const matches = await listMatches();
    expect(matches.items.map((m) => m.tender.id).sort()).toEqual([recent1, recent2].sort());
    expect(matches.items.map((m) => m.tender.id)).not.toContain(old);
    // `sent` once the email queue delivered them to the provider (issue 14, point 18), not at enqueue.
    await eventually(async () => expect((await listMatches()).items.every((m) => m.notification_status === "sent")).toBe(true), 15_000);
    // One email listing both (issue 19: immediate matches are coalesced per user and run).
    expect(await count("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template = 'alert_match'", a.user.id)).toBe(1);
  });
});

describe("alert-matching consumer", () => {
  it("records a redelivered batch once: one match, one notification, one email", async () => {
    const a = await signedInUser();
    const word = unique("redeliver");
    const alert = await json<Alert>(await createAlert(a.token, { criteria: { keywords: [`${word} bridge`] }, notification_methods: ["email", "in_app"] }));
    const hit = await aTender(`Construction of ${word} bridge`);
    const miss = await aTender(`${word} road only`);

    const first = await runMatching([hit, miss]);
    expect(first, JSON.stringify(first)).toMatchObject({ ackAll: true, retryBatch: { retry: false } });
    await runMatching([hit, miss]);

    expect(await count("SELECT count(*) AS n FROM alert_matches WHERE alert_id = ?", alert.id)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM notifications WHERE related_alert_id = ?", alert.id)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM email_outbox WHERE user_id = ? AND template = 'alert_match'", a.user.id)).toBe(1);
    // Counted as sent once the email consumer delivered it (issue 14, point 18).
    await eventually(async () => expect(await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).toMatchObject({ total_matches: 1, total_notifications_sent: 1 }), 15_000);
    const after = await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }));
    expect(after.last_matched_at).not.toBeNull();
    const mail = await env.DB.prepare("SELECT headers FROM email_outbox WHERE user_id = ? AND template = 'alert_match'").bind(a.user.id).first<{ headers: string }>();
    expect(JSON.parse(mail!.headers)).toMatchObject({ "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" });
  });

  it("rebuilds the compiled index only when alerts changed (version stamp)", async () => {
    const a = await signedInUser();
    await activeAlertIndex(ctxAt());
    const builds = indexStats.builds;
    await activeAlertIndex(ctxAt());
    expect(indexStats.builds).toBe(builds);
    await createAlert(a.token, { criteria: { keywords: [unique("v")] }, notification_frequency: "daily_digest" });
    await activeAlertIndex(ctxAt());
    expect(indexStats.builds).toBe(builds + 1);
  });

  it("a batch that fails halfway, then retried, creates nothing twice", async () => {
    const a = await signedInUser();
    const word = unique("crash");
    const alert = await json<Alert>(
      await createAlert(a.token, { criteria: { keywords: [word] }, notification_methods: ["in_app"], notification_frequency: "daily_digest" }),
    );
    const t1 = await aTender(`${word} one`);
    const t2 = await aTender(`${word} two`);
    const now = new Date();
    const index = await activeAlertIndex(ctxAt(now));
    const tenders = await tendersByIds(db, [t1, t2]);
    const pairs = matchPairs(index, tenders, now).filter((p) => p.alertId === alert.id);
    expect(pairs).toHaveLength(2);
    // The second chunk reuses the first chunk's match id: its batch fails (primary key), after the first committed.
    const broken = [pairs[0]!, { ...pairs[1]!, id: pairs[0]!.id }];
    await expect(recordMatches(ctxAt(now), broken, 1)).rejects.toThrow();
    expect(await count("SELECT count(*) AS n FROM alert_matches WHERE alert_id = ?", alert.id)).toBe(1);

    // The retry (fresh ids, as a redelivery computes them) records only what is missing.
    await runMatching([t1, t2]);
    await runMatching([t1, t2]);
    expect(await count("SELECT count(*) AS n FROM alert_matches WHERE alert_id = ?", alert.id)).toBe(2);
    expect(await count("SELECT count(*) AS n FROM notifications WHERE related_alert_id = ?", alert.id)).toBe(2);
    expect((await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).total_matches).toBe(2);
  });
});

describe("one-click unsubscribe", () => {
  it("the link in an alert email turns that alert's email off (GET and POST), without signing in; a bad token → 400", async () => {
    const a = await signedInUser();
    const word = unique("unsub");
    await aTender(`${word} bridge`);
    const alert = await json<Alert>(await createAlert(a.token, { criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] }));
    const mail = await env.DB.prepare("SELECT id, headers FROM email_outbox WHERE user_id = ? AND template = 'alert_match'").bind(a.user.id).first<{ id: string; headers: string }>();
    const headers = JSON.parse(mail!.headers) as Record<string, string>;
    const url = /^<(.+)>$/.exec(headers["List-Unsubscribe"]!)![1]!;
    const token = new URL(url).searchParams.get("token")!;
    expect(new URL(url).pathname).toBe("/api/v1/unsubscribe");
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    // The text part carries the same token, in a link to the /unsubscribe page (which acts only on its button).
    const text = (await json<{ items: { text: string; template: string }[] }>(await call(`/dev/mailbox?to=${encodeURIComponent(a.user.email)}`))).items.find((m) => m.template === "alert_match")!.text;
    const page = new URL(/(\S+\/unsubscribe\?token=\S+)/.exec(text)![1]!);
    expect(page.pathname).toBe("/unsubscribe");
    expect(page.searchParams.get("token")).toBe(token);

    const res = await call(`unsubscribe?token=${token}`, { method: "POST" });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json(res)).toEqual({ unsubscribed: "alert", alert_id: alert.id });
    expect((await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).notification_methods).toEqual(["in_app"]);
    expect((await call(`unsubscribe?token=${token}`)).status).toBe(200);

    await expectProblem(await call(`unsubscribe?token=${token.slice(0, -2)}xx`), 400, "validation_failed");
    await expectProblem(await call("unsubscribe?token=garbage"), 400, "validation_failed");
  });
});
