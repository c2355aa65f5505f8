import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64 } from "../src/platform/encoding";
import { closingIn, insertTender } from "./helpers/fixtures";
import { auditRows } from "./helpers/admin";
import { call, callWithConfig, expectProblem, json, signedInUser, unique } from "./helpers/harness";

// Issue 14, points 10 and 11: cheap requests do not force expensive work (the alerts version
// stamp, the first match of a new alert), and one-click unsubscribe is safe against scanners and
// replays.

const DAY = 86_400_000;

interface Alert {
  id: string;
  notification_methods: string[];
  is_active: boolean;
  total_matches: number;
}

const version = async () => (await env.DB.prepare("SELECT version FROM alerts_version WHERE id = 1").first<{ version: number }>())?.version ?? 0;
const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;
const createAlert = (token: string, body: Record<string, unknown>) => call("me/alerts", { body: { name: "a", ...body }, token });

async function aTender(title: string, updatedAt = Date.now()): Promise<string> {
  return insertTender({
    id: `tnd_${unique("tr")}`,
    title,
    department: "Public Works",
    state: "Bihar",
    value: 1_000_000,
    closing_date: closingIn(30),
    created_at: updatedAt,
    updated_at: updatedAt,
  });
}

/** A user with an alert that emailed a match, and the one-click token from that email's header. */
async function alertWithToken() {
  const a = await signedInUser();
  const word = unique("unsub");
  await aTender(`${word} bridge`);
  const alert = await json<Alert>(await createAlert(a.token, { criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] }));
  const mail = await env.DB.prepare("SELECT headers FROM email_outbox WHERE user_id = ? AND template = 'alert_match'").bind(a.user.id).first<{ headers: string }>();
  const header = (JSON.parse(mail!.headers) as Record<string, string>)["List-Unsubscribe"]!;
  const token = new URL(/^<(.+)>$/.exec(header)![1]!).searchParams.get("token")!;
  return { a, alert, token };
}

describe("alerts_version moves only when a write changed what the matching index reads", () => {
  it("a PATCH or DELETE of a missing or foreign alert, and a rename, leave it; a criteria change or deactivation moves it", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const alert = await json<Alert>(await createAlert(a.token, { criteria: { keywords: [unique("v")] }, notification_frequency: "daily_digest" }));

    const before = await version();
    await expectProblem(await call("me/alerts/alr_missing", { method: "PATCH", body: { criteria: { keywords: ["x"] } }, token: a.token }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { criteria: { keywords: ["x"] } }, token: b.token }), 404, "not_found");
    await expectProblem(await call(`me/alerts/${alert.id}`, { method: "DELETE", token: b.token }), 404, "not_found");
    await expectProblem(await call("me/alerts/alr_missing", { method: "DELETE", token: a.token }), 404, "not_found");
    expect(await version()).toBe(before);
    // The index reads criteria and is_active only: a rename or a change of how to notify leaves it.
    expect((await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { name: "renamed", notification_methods: ["in_app"] }, token: a.token })).status).toBe(200);
    expect((await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { is_active: true }, token: a.token })).status).toBe(200);
    expect(await version()).toBe(before);

    expect((await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { criteria: { keywords: [unique("w")] } }, token: a.token })).status).toBe(200);
    expect(await version()).toBe(before + 1);
    expect((await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { is_active: false }, token: a.token })).status).toBe(200);
    expect(await version()).toBe(before + 2);
    expect((await call(`me/alerts/${alert.id}`, { method: "DELETE", token: a.token })).status).toBe(204);
    expect(await version()).toBe(before + 3);
  });
});

describe("the first match of a new alert is bounded", () => {
  it("matches only the newest ALERT_BACKFILL_MAX recent tenders", async () => {
    const a = await signedInUser();
    const word = unique("bounded");
    // Newer than anything else in the table, so they are the newest tenders.
    const t = Date.now() + 60_000;
    const oldest = await aTender(`${word} one`, t + 1);
    const middle = await aTender(`${word} two`, t + 2);
    const newest = await aTender(`${word} three`, t + 3);
    const res = await callWithConfig({ ALERT_BACKFILL_MAX: "2" }, "me/alerts", {
      body: { name: "bounded", criteria: { keywords: [word] }, notification_methods: ["in_app"] },
      token: a.token,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const alert = await json<Alert>(res);
    expect(alert.total_matches).toBe(2);
    const ids = (await env.DB.prepare("SELECT tender_id FROM alert_matches WHERE alert_id = ?").bind(alert.id).all<{ tender_id: string }>()).results.map((r) => r.tender_id);
    expect(ids.sort()).toEqual([middle, newest].sort());
    expect(ids).not.toContain(oldest);
  });

  it("still finds a keyword that only the description holds", async () => {
    const a = await signedInUser();
    const word = unique("indesc");
    const now = Date.now();
    const id = await insertTender({ id: `tnd_${unique("tr")}`, title: "Road works", description: `Includes a ${word} survey`, state: "Bihar", closing_date: now + 30 * DAY, created_at: now, updated_at: now });
    const alert = await json<Alert>(await createAlert(a.token, { criteria: { keywords: [word] }, notification_methods: ["in_app"] }));
    expect(alert.total_matches).toBe(1);
    // ...and an exclude that only the description holds still excludes.
    const plain = await aTender("Road works");
    const otherRes = await createAlert(a.token, { criteria: { states: ["Bihar"], exclude_keywords: [word] }, notification_methods: ["in_app"] });
    expect(otherRes.status, await otherRes.clone().text()).toBe(201);
    const other = await json<Alert>(otherRes);
    const matched = (await env.DB.prepare("SELECT tender_id FROM alert_matches WHERE alert_id = ?").bind(other.id).all<{ tender_id: string }>()).results.map((r) => r.tender_id);
    expect(matched).toContain(plain);
    expect(matched).not.toContain(id);
  });
});

describe("one-click unsubscribe: safe against scanners and replays", () => {
  it("GET on the List-Unsubscribe URL changes nothing and answers what the token would turn off", async () => {
    const { a, alert, token } = await alertWithToken();
    const v = await version();
    const res = await call(`unsubscribe?token=${token}`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json(res)).toMatchObject({ target: "alert", alert_id: alert.id, email_on: true });
    expect((await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).notification_methods).toEqual(["email", "in_app"]);
    expect(await auditRows(a.user.id, "alert.email_unsubscribed")).toHaveLength(0);
    expect(await version()).toBe(v);

    // POST acts; GET then reports it off.
    expect((await call(`unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    expect(await json(await call(`unsubscribe?token=${token}`))).toMatchObject({ target: "alert", alert_id: alert.id, email_on: false });
  });

  it("an unsubscribe of something already off writes nothing: no audit row, no version bump", async () => {
    const { a, alert, token } = await alertWithToken();
    expect((await call(`unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    expect(await auditRows(a.user.id, "alert.email_unsubscribed")).toHaveLength(1);
    const v = await version();
    const updatedAt = await count("SELECT updated_at AS n FROM alerts WHERE id = ?", alert.id);
    const again = await call(`unsubscribe?token=${token}`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual({ unsubscribed: "alert", alert_id: alert.id });
    expect(await auditRows(a.user.id, "alert.email_unsubscribed")).toHaveLength(1);
    expect(await version()).toBe(v);
    expect(await count("SELECT updated_at AS n FROM alerts WHERE id = ?", alert.id)).toBe(updatedAt);
  });

  it("a token stops working for an alert the user turned back on after it was issued", async () => {
    const { a, alert, token } = await alertWithToken();
    expect((await call(`unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    // The user turns the email back on: the old token (e.g. a scanner replaying it) is refused.
    expect((await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { notification_methods: ["email", "in_app"] }, token: a.token })).status).toBe(200);
    await expectProblem(await call(`unsubscribe?token=${token}`, { method: "POST" }), 400, "validation_failed");
    await expectProblem(await call(`unsubscribe?token=${token}`), 400, "validation_failed");
    expect((await json<Alert>(await call(`me/alerts/${alert.id}`, { token: a.token }))).notification_methods).toEqual(["email", "in_app"]);
    expect(await auditRows(a.user.id, "alert.email_unsubscribed")).toHaveLength(1);
  });

  it("a token carries no readable user id", async () => {
    const { a, alert, token } = await alertWithToken();
    expect(token).not.toContain(a.user.id);
    expect(token).not.toContain(alert.id);
    for (const part of token.split(".")) {
      let decoded = "";
      try {
        decoded = new TextDecoder().decode(fromBase64(part));
      } catch {
        continue;
      }
      expect(decoded).not.toContain(a.user.id);
      expect(decoded).not.toContain(a.user.id.slice(4));
    }
  });

  it("the digest token: already off writes nothing", async () => {
    const a = await signedInUser();
    const { signUnsubscribeToken } = await import("../src/features/alert-delivery/unsubscribe-token");
    const { getConfig } = await import("../src/platform/config");
    const token = await signUnsubscribeToken(env, getConfig(env), { userId: a.user.id, digest: true }, new Date());
    expect(await json(await call(`unsubscribe?token=${token}`))).toMatchObject({ target: "digest", alert_id: null });
    expect((await call(`unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    expect((await call(`unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    expect(await auditRows(a.user.id, "alert.digest_unsubscribed")).toHaveLength(1);
    expect(await json(await call(`unsubscribe?token=${token}`))).toMatchObject({ target: "digest", email_on: false });
  });
});
