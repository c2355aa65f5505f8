import { env } from "cloudflare:workers";
import { createMessageBatch } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import type { Env, WebhookJob } from "../src/env";
import { consumeWebhookBatch } from "../src/jobs/webhooks.consumer";
import { runScheduled } from "../src/jobs/cron";
import { serviceContext } from "../src/platform/context";
import { DAY, HOUR, MINUTE } from "../src/platform/time";
import { apiKeyFor, signedInWithRole } from "./helpers/admin";
import { orgWithMembers } from "./helpers/fixtures";
import { ingest, tenderAdmin } from "./helpers/tenders";
import { call, callWithConfig, eventually, expectProblem, json, mailbox, movableClock, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";

const receiver = () => inject("webhookReceiverUrl");
const hookUrl = (name: string) => `${receiver()}/hooks/${name}`;
async function configure(name: string, cfg: { status?: number; secrets?: string[]; body?: string }) {
  const res = await fetch(`${receiver()}/config`, { method: "POST", body: JSON.stringify({ name, ...cfg }) });
  expect(res.status).toBe(200);
}
interface Received { id: string; headers: Record<string, string>; body: string; verified: Record<string, boolean> }
async function received(name: string) {
  return json<{ deliveries: Received[]; unique_ids: string[] }>(await fetch(`${receiver()}/received/${name}`));
}

interface Created { id: string; url: string; events: string[]; enabled: boolean; secret: string; created_at: string }
async function createHook(token: string, name: string, body: Record<string, unknown> = {}, base = "me/webhooks"): Promise<Created> {
  const res = await call(base, { body: { url: hookUrl(name), events: ["alert.matched", "notification.created"], ...body }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Created>(res);
}

interface Delivery { id: string; event_id: string; event_type: string; attempt: number; status: string; response_status: number | null; duration_ms: number | null; next_attempt_at: string | null }
async function deliveries(token: string, path: string): Promise<Delivery[]> {
  const res = await call(`${path}/deliveries`, { token });
  expect(res.status).toBe(200);
  return (await json<{ items: Delivery[] }>(res)).items;
}

/** A queue that records what is sent to it, so the test drives the consumer itself (with its own clock). */
function fakeQueue() {
  const sent: { body: WebhookJob; delaySeconds?: number }[] = [];
  return {
    sent,
    async send(body: WebhookJob, opts?: { delaySeconds?: number }) {
      sent.push({ body, delaySeconds: opts?.delaySeconds });
    },
    async sendBatch(msgs: { body: WebhookJob; delaySeconds?: number }[]) {
      sent.push(...msgs.map((m) => ({ body: m.body, delaySeconds: m.delaySeconds })));
    },
  };
}

async function consume(queue: ReturnType<typeof fakeQueue>, clock: { now(): Date }, jobs: WebhookJob[]) {
  const testEnv = { ...env, WEBHOOK_QUEUE: queue } as unknown as Env;
  const batch = createMessageBatch("webhooks", jobs.map((body, i) => ({ id: `m${i}-${unique()}`, timestamp: new Date(), attempts: 1, body })));
  await consumeWebhookBatch(serviceContext(testEnv, { clock }), batch as MessageBatch<WebhookJob>);
}

/** POST …/test with the queue replaced: the message lands in `queue`, nothing is sent yet. */
async function testEventInto(queue: ReturnType<typeof fakeQueue>, token: string, path: string) {
  const res = await callWithConfig({ WEBHOOK_QUEUE: queue }, `${path}/test`, { method: "POST", token });
  expect(res.status).toBe(202);
  const job = queue.sent.at(-1)!.body;
  expect("deliveryId" in job).toBe(true);
  return job;
}

describe("webhook endpoints", () => {
  it("creates an endpoint, shows the secret only at creation, lists, reads, changes and deletes it", async () => {
    const { token } = await signedInUser();
    const hook = await createHook(token, unique("crud"), { description: "my hook" });
    expect(hook.id).toMatch(/^whe_/);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(hook.enabled).toBe(true);

    const got = await json<Record<string, unknown>>(await call(`me/webhooks/${hook.id}`, { token }));
    expect(got.secret).toBeUndefined();
    expect(JSON.stringify(got)).not.toContain(hook.secret.slice(6));
    const list = await json<{ items: { id: string; secret?: string }[]; next_cursor: null }>(await call("me/webhooks", { token }));
    expect(list.items.map((i) => i.id)).toEqual([hook.id]);
    expect(list.items[0]!.secret).toBeUndefined();

    const patched = await call(`me/webhooks/${hook.id}`, { method: "PATCH", body: { events: ["alert.matched"], enabled: false }, token });
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({ events: ["alert.matched"], enabled: false });

    expect((await call(`me/webhooks/${hook.id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call(`me/webhooks/${hook.id}`, { token }), 404, "not_found");
  });

  it("refuses events of another scope, unknown fields, and more endpoints than the limit", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("me/webhooks", { body: { url: hookUrl("x"), events: ["user.created"] }, token }), 422, "validation_failed");
    await expectProblem(await call("me/webhooks", { body: { url: hookUrl("x"), events: ["alert.matched"], secret: "mine" }, token }), 422, "validation_failed");
    for (let i = 0; i < 10; i++) await createHook(token, unique("lim"));
    await expectProblem(await call("me/webhooks", { body: { url: hookUrl("x"), events: ["alert.matched"] }, token }), 409, "limit_reached");
  });

  it.each([
    ["http://example.com/hook", "plain http"],
    ["ftp://example.com/hook", "another scheme"],
    ["https://user:pass@example.com/hook", "credentials"],
    ["https://10.0.0.5/hook", "private IPv4"],
    ["https://192.168.1.1/hook", "private IPv4"],
    ["https://172.20.0.1/hook", "private IPv4"],
    ["https://127.0.0.1/hook", "loopback"],
    ["https://2130706433/hook", "loopback as a decimal"],
    ["https://0x7f.1/hook", "loopback in hex"],
    ["https://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"],
    ["https://100.64.0.1/hook", "shared address space"],
    ["https://0.0.0.0/hook", "this network"],
    ["https://[::1]/hook", "IPv6 loopback"],
    ["https://[fe80::1]/hook", "IPv6 link-local"],
    ["https://[fd00::1]/hook", "IPv6 unique local"],
    ["https://[::ffff:10.0.0.1]/hook", "IPv4-mapped private"],
    ["https://[::ffff:7f00:1]/hook", "IPv4-mapped loopback"],
    ["https://localhost/hook", "localhost over https"],
    ["http://169.254.169.254/hook", "link-local over http"],
    ["not a url", "not a URL"],
  ])("refuses %s (%s) with 422 invalid_webhook_url, on create and on change", async (url) => {
    const { token } = await signedInUser();
    await expectProblem(await call("me/webhooks", { body: { url, events: ["alert.matched"] }, token }), 422, "invalid_webhook_url");
    const hook = await createHook(token, unique("url"));
    await expectProblem(await call(`me/webhooks/${hook.id}`, { method: "PATCH", body: { url }, token }), 422, "invalid_webhook_url");
  });

  it("accepts public https URLs and IP literals", async () => {
    const { token } = await signedInUser();
    for (const url of ["https://hooks.example.com/keel", "https://93.184.216.34/x", "https://[2606:4700::1111]/x"]) {
      expect((await call("me/webhooks", { body: { url, events: ["alert.matched"] }, token })).status).toBe(201);
    }
  });

  it("plain http to localhost only outside production", async () => {
    const { token } = await signedInUser();
    const res = await callWithConfig({ ENVIRONMENT: "production" }, "me/webhooks", { body: { url: hookUrl("prod"), events: ["alert.matched"] }, token });
    await expectProblem(res, 422, "invalid_webhook_url");
  });

  it("an API key with write:webhooks manages its owner's endpoints; another key is refused", async () => {
    const { user, token } = await signedInUser();
    const key = await apiKeyFor(token, ["write:webhooks"]);
    const res = await call("me/webhooks", { body: { url: hookUrl(unique("key")), events: ["alert.matched"] }, apiKey: key });
    expect(res.status).toBe(201);
    const hook = await json<Created>(res);
    const mine = await json<{ items: { id: string }[] }>(await call("me/webhooks", { token }));
    expect(mine.items.map((i) => i.id)).toContain(hook.id);
    const other = await apiKeyFor(token, ["read:profile"]);
    await expectProblem(await call("me/webhooks", { apiKey: other }), 403, "insufficient_scope");
    expect(user.id).toBeTruthy();
  });

  it("another user's endpoint answers 404 on every route, exactly like a missing one", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const hook = await createHook(a.token, unique("iso"));
    const paths: [string, string, unknown?][] = [
      ["GET", `me/webhooks/${hook.id}`],
      ["PATCH", `me/webhooks/${hook.id}`, { enabled: false }],
      ["DELETE", `me/webhooks/${hook.id}`],
      ["GET", `me/webhooks/${hook.id}/deliveries`],
      ["POST", `me/webhooks/${hook.id}/test`],
      ["POST", `me/webhooks/${hook.id}/rotate-secret`],
      ["POST", `me/webhooks/${hook.id}/deliveries/whd_x/replay`],
    ];
    for (const [method, path, body] of paths) await expectProblem(await call(path, { method, body, token: b.token }), 404, "not_found");
    expect((await json<{ items: unknown[] }>(await call("me/webhooks", { token: b.token }))).items).toEqual([]);
    expect((await call(`me/webhooks/${hook.id}`, { token: a.token })).status).toBe(200);
  });

  it("organization endpoints: admins manage them; a member gets 403, an outsider 404", async () => {
    const admin = await signedInUser();
    const member = await signedInUser();
    const outsider = await signedInUser();
    const orgId = await orgWithMembers([
      [admin.user.id, "admin"],
      [member.user.id, "member"],
    ]);
    const base = `orgs/${orgId}/webhooks`;
    await expectProblem(await call(base, { body: { url: hookUrl("org"), events: ["alert.matched"] }, token: admin.token }), 422, "validation_failed");
    const hook = await createHook(admin.token, unique("org"), { events: ["organization.member_added", "note.shared"] }, base);
    expect((await call(`${base}/${hook.id}`, { token: admin.token })).status).toBe(200);
    await expectProblem(await call(base, { token: member.token }), 403, "forbidden");
    await expectProblem(await call(`${base}/${hook.id}`, { token: member.token }), 403, "forbidden");
    await expectProblem(await call(base, { token: outsider.token }), 404, "not_found");
    await expectProblem(await call(`${base}/${hook.id}/rotate-secret`, { method: "POST", token: outsider.token }), 404, "not_found");
    // The organization's endpoint is not the admin's own.
    await expectProblem(await call(`me/webhooks/${hook.id}`, { token: admin.token }), 404, "not_found");
    // Another organization the admin also administers cannot reach it.
    const otherOrg = await orgWithMembers([[admin.user.id, "owner"]]);
    await expectProblem(await call(`orgs/${otherOrg}/webhooks/${hook.id}`, { token: admin.token }), 404, "not_found");
  });

  it("platform endpoints need admin:system", async () => {
    const plain = await signedInUser();
    await expectProblem(await call("admin/webhooks", { token: plain.token }), 403, "forbidden");
    const root = await signedInWithRole("superuser");
    const hook = await createHook(root.token, unique("plat"), { events: ["user.created", "tenders.ingested"] }, "admin/webhooks");
    expect((await call(`admin/webhooks/${hook.id}`, { token: root.token })).status).toBe(200);
    await expectProblem(await call(`admin/webhooks/${hook.id}`, { token: plain.token }), 403, "forbidden");
  });
});

describe("webhook delivery", () => {
  it("a test event reaches a real receiver through the queue, verified by the standardwebhooks package, and is logged", async () => {
    const { token } = await signedInUser();
    const name = unique("e2e");
    const hook = await createHook(token, name);
    await configure(name, { status: 200, secrets: [hook.secret], body: "x".repeat(5000) });
    const res = await call(`me/webhooks/${hook.id}/test`, { method: "POST", token });
    expect(res.status).toBe(202);
    const { id: eventId } = await json<{ id: string }>(res);
    await eventually(async () => expect((await received(name)).deliveries).toHaveLength(1), 10_000);
    const [got] = (await received(name)).deliveries;
    expect(got!.verified[hook.secret]).toBe(true);
    expect(got!.id).toBe(eventId);
    expect(got!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const body = JSON.parse(got!.body);
    expect(body).toEqual({ id: eventId, type: "webhook.test", timestamp: expect.any(String), data: { endpoint_id: hook.id } });
    await eventually(async () => {
      const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
      expect(d).toMatchObject({ event_id: eventId, event_type: "webhook.test", attempt: 1, status: "delivered", response_status: 200, next_attempt_at: null });
      expect(d!.duration_ms).toBeGreaterThanOrEqual(0);
      const row = await env.DB.prepare("SELECT response_body FROM webhook_deliveries WHERE id = ?").bind(d!.id).first<{ response_body: string }>();
      expect(row!.response_body.length).toBeLessThanOrEqual(1024);
    });
  });

  it("a failing endpoint is retried with growing delays until it answers; a redirect counts as a failure", async () => {
    const { token } = await signedInUser();
    const name = unique("fail");
    const hook = await createHook(token, name);
    await configure(name, { status: 302 });
    const queue = fakeQueue();
    const clock = movableClock();
    let job = await testEventInto(queue, token, `me/webhooks/${hook.id}`);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await consume(queue, clock, [job]);
      const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
      expect(d).toMatchObject({ attempt, status: "pending", response_status: 302 });
      const delay = Date.parse(d!.next_attempt_at!) - clock.now().getTime();
      delays.push(delay);
      job = queue.sent.at(-1)!.body;
      expect(job).toEqual({ deliveryId: d!.id, attempt });
      expect(queue.sent.at(-1)!.delaySeconds).toBe(Math.round(delay / 1000));
      clock.advance(delay);
    }
    expect(delays[0]).toBeLessThanOrEqual(5_000);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]! * 2);
    expect((await received(name)).deliveries).toHaveLength(4);
    // The same event id on every attempt: receivers de-duplicate by it.
    expect((await received(name)).unique_ids).toHaveLength(1);

    await configure(name, { status: 200 });
    await consume(queue, clock, [job]);
    const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
    expect(d).toMatchObject({ attempt: 5, status: "delivered", response_status: 200, next_attempt_at: null });
  });

  it("gives up after about 24 hours of retries (longer delays through the cron relay)", async () => {
    const { token } = await signedInUser();
    const name = unique("giveup");
    const hook = await createHook(token, name);
    await configure(name, { status: 500 });
    const queue = fakeQueue();
    const clock = movableClock();
    const start = clock.now().getTime();
    let job = await testEventInto(queue, token, `me/webhooks/${hook.id}`);
    for (;;) {
      await consume(queue, clock, [job]);
      const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
      if (d!.status === "failed") break;
      clock.advance(Date.parse(d!.next_attempt_at!) - clock.now().getTime() + 2 * MINUTE);
      // The cron relay queues what is due (a retry beyond the queue's 12-hour delay waits for it).
      const before = queue.sent.length;
      await runScheduled({ ...env, WEBHOOK_QUEUE: queue } as unknown as Env, clock.now().getTime(), { clock });
      job = queue.sent.slice(before).find((m) => "deliveryId" in m.body && m.body.deliveryId === d!.id)!.body;
      expect(job).toBeTruthy();
    }
    const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
    expect(d!.attempt).toBe(8);
    expect(clock.now().getTime() - start).toBeLessThanOrEqual(24 * HOUR + 20 * MINUTE);
    expect(clock.now().getTime() - start).toBeGreaterThan(18 * HOUR);
  });

  it("a redelivered queue message sends nothing twice", async () => {
    const { token } = await signedInUser();
    const name = unique("dup");
    const hook = await createHook(token, name);
    const queue = fakeQueue();
    const clock = movableClock();
    const job = await testEventInto(queue, token, `me/webhooks/${hook.id}`);
    await consume(queue, clock, [job, job]);
    await consume(queue, clock, [job]);
    expect((await received(name)).deliveries).toHaveLength(1);
    const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
    expect(d).toMatchObject({ attempt: 1, status: "delivered" });
  });

  it("a disabled endpoint gets nothing", async () => {
    const { token } = await signedInUser();
    const name = unique("off");
    const hook = await createHook(token, name);
    const queue = fakeQueue();
    const clock = movableClock();
    const job = await testEventInto(queue, token, `me/webhooks/${hook.id}`);
    expect((await call(`me/webhooks/${hook.id}`, { method: "PATCH", body: { enabled: false }, token })).status).toBe(200);
    await consume(queue, clock, [job]);
    expect((await received(name)).deliveries).toHaveLength(0);
    const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
    expect(d!.status).toBe("failed");
  });

  it("a rotated secret signs beside the new one for 24 hours, then only the new one signs", async () => {
    const { token } = await signedInUser();
    const name = unique("rot");
    const hook = await createHook(token, name);
    const res = await call(`me/webhooks/${hook.id}/rotate-secret`, { method: "POST", token });
    expect(res.status).toBe(200);
    const { secret } = await json<{ secret: string }>(res);
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.secret);
    await configure(name, { secrets: [hook.secret, secret] });
    const queue = fakeQueue();
    await consume(queue, movableClock(), [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    const [first] = (await received(name)).deliveries;
    expect(first!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(first!.verified).toEqual({ [hook.secret]: true, [secret]: true });

    // A day later: the old secret no longer signs (signatures checked without the timestamp window).
    const later = movableClock(Date.now() + DAY + MINUTE);
    await consume(queue, later, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    const second = (await received(name)).deliveries[1]!;
    expect(second.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  });

  it("an endpoint failing for 3 days is disabled and its owner emailed; then it gets nothing", async () => {
    const { user, token } = await signedInUser();
    const name = unique("dead");
    const hook = await createHook(token, name);
    await configure(name, { status: 503 });
    const queue = fakeQueue();
    const clock = movableClock();
    await consume(queue, clock, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    clock.advance(2 * DAY);
    await consume(queue, clock, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    expect(await json(await call(`me/webhooks/${hook.id}`, { token }))).toMatchObject({ enabled: true, disabled_reason: null });
    clock.advance(DAY + MINUTE);
    await consume(queue, clock, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    expect(await json(await call(`me/webhooks/${hook.id}`, { token }))).toMatchObject({ enabled: false, disabled_reason: "failing" });
    await eventually(async () => expect((await mailbox(user.email)).map((m) => m.template)).toContain("webhook_disabled"));
    const count = (await received(name)).deliveries.length;
    await consume(queue, clock, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    expect((await received(name)).deliveries).toHaveLength(count);
  });

  it("replays a delivery as a new delivery of the same event", async () => {
    const { token } = await signedInUser();
    const name = unique("replay");
    const hook = await createHook(token, name);
    const queue = fakeQueue();
    const clock = movableClock();
    await consume(queue, clock, [await testEventInto(queue, token, `me/webhooks/${hook.id}`)]);
    const [d] = await deliveries(token, `me/webhooks/${hook.id}`);
    const res = await callWithConfig({ WEBHOOK_QUEUE: queue }, `me/webhooks/${hook.id}/deliveries/${d!.id}/replay`, { method: "POST", token });
    expect(res.status).toBe(202);
    await consume(queue, clock, [queue.sent.at(-1)!.body]);
    const got = await received(name);
    expect(got.deliveries).toHaveLength(2);
    expect(got.unique_ids).toEqual([d!.event_id]);
    expect((await deliveries(token, `me/webhooks/${hook.id}`)).map((x) => x.status)).toEqual(["delivered", "delivered"]);
  });
});

describe("webhook events", () => {
  it("a new alert match sends alert.matched and notification.created to the user's endpoint, and nothing to another user's", async () => {
    const { token } = await signedInUser();
    const other = await signedInUser();
    const name = unique("match");
    const otherName = unique("nomatch");
    const hook = await createHook(token, name);
    const otherHook = await createHook(other.token, otherName);
    await configure(name, { secrets: [hook.secret] });
    const word = unique("kw").replace(/[^a-z]/g, "");
    const alert = await call("me/alerts", { body: { name: "bridges", criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] }, token });
    expect(alert.status, await alert.clone().text()).toBe(201);
    const admin = await tenderAdmin();
    await ingest(admin.key, [{ title: `A ${word} over the river` }]);
    await eventually(async () => {
      const got = await received(name);
      expect(got.deliveries.map((d) => JSON.parse(d.body).type).sort()).toEqual(["alert.matched", "notification.created"]);
      // Two queues in a row (matching, then webhooks), each waiting up to its batch timeout: under
      // a full suite on two cores this took over 15 s once (2026-12-06 CI).
    }, 40_000);
    const got = await received(name);
    for (const d of got.deliveries) expect(d.verified[hook.secret]).toBe(true);
    const matched = JSON.parse(got.deliveries.find((d) => JSON.parse(d.body).type === "alert.matched")!.body);
    expect(matched.data).toMatchObject({ alert: { name: "bridges" }, tender: { title: `A ${word} over the river` } });
    expect(JSON.stringify(got.deliveries.map((d) => d.body))).not.toMatch(/hash|secret|token/i);
    expect((await received(otherName)).deliveries).toHaveLength(0);
    expect(otherHook.id).toBeTruthy();
  });
});

describe("platform events", () => {
  it("an ingest sends tenders.ingested to platform endpoints", async () => {
    const root = await signedInWithRole("superuser");
    const name = unique("ingest");
    const hook = await createHook(root.token, name, { events: ["tenders.ingested"] }, "admin/webhooks");
    await configure(name, { secrets: [hook.secret] });
    const admin = await tenderAdmin();
    const { sent } = await ingest(admin.key, [{ title: "Road works" }, { title: "School repairs" }]);
    await eventually(async () => {
      const got = (await received(name)).deliveries.map((d) => JSON.parse(d.body));
      expect(got.find((b) => b.data.external_ids?.includes(sent[0]!.external_id))).toMatchObject({ type: "tenders.ingested", data: { submitted: 2 } });
    }, 15_000);
  });
});

describe("organization events", () => {
  it("an organization's endpoint gets its updates, role changes and removals, and nothing of another organization", async () => {
    const admin = await signedInUser();
    const member = await signedInUser();
    const orgId = await orgWithMembers([
      [admin.user.id, "owner"],
      [member.user.id, "member"],
    ]);
    const otherOrg = await orgWithMembers([[admin.user.id, "owner"]]);
    const name = unique("orgev");
    const hook = await createHook(admin.token, name, { events: ["organization.updated", "organization.member_role_changed", "organization.member_removed"] }, `orgs/${orgId}/webhooks`);
    await configure(name, { secrets: [hook.secret] });
    expect((await call(`orgs/${otherOrg}`, { method: "PATCH", body: { name: "Other" }, token: admin.token })).status).toBe(200);
    expect((await call(`orgs/${orgId}`, { method: "PATCH", body: { name: "Renamed" }, token: admin.token })).status).toBe(200);
    expect((await call(`orgs/${orgId}/members/${member.user.id}`, { method: "PATCH", body: { role: "viewer" }, token: admin.token })).status).toBe(200);
    expect((await call(`orgs/${orgId}/members/${member.user.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    await eventually(async () => expect((await received(name)).deliveries).toHaveLength(3), 15_000);
    const bodies = (await received(name)).deliveries.map((d) => JSON.parse(d.body));
    expect(bodies.map((b) => b.type).sort()).toEqual(["organization.member_removed", "organization.member_role_changed", "organization.updated"]);
    for (const b of bodies) expect(b.data.organization_id).toBe(orgId);
    expect(bodies.find((b) => b.type === "organization.member_role_changed").data).toMatchObject({ user_id: member.user.id, role: "viewer" });
    for (const d of (await received(name)).deliveries) expect(d.verified[hook.secret]).toBe(true);
  });
});

describe("invitation, membership and account events", () => {
  it("an invitation sends organization.invitation_created, its acceptance organization.member_added; a registration user.created to the platform", async () => {
    const owner = await signedInUser();
    const orgId = await orgWithMembers([[owner.user.id, "owner"]]);
    const name = unique("inv");
    const hook = await createHook(owner.token, name, { events: ["organization.invitation_created", "organization.member_added"] }, `orgs/${orgId}/webhooks`);
    await configure(name, { secrets: [hook.secret] });
    const root = await signedInWithRole("superuser");
    const platformName = unique("plat");
    await createHook(root.token, platformName, { events: ["user.created"] }, "admin/webhooks");

    const invitee = await signedInUser();
    const after = Date.now() - 1000;
    const res = await call(`orgs/${orgId}/invitations`, { body: { email: invitee.user.email, role: "member" }, token: owner.token });
    expect(res.status).toBe(201);
    const token = tokenFromMail(await waitForMail(invitee.user.email, "invitation", { after }));
    expect((await call("invitations/accept", { body: { token }, token: invitee.token })).status).toBe(200);
    await eventually(async () => expect((await received(name)).deliveries).toHaveLength(2), 15_000);
    const bodies = (await received(name)).deliveries.map((d) => JSON.parse(d.body));
    expect(bodies.find((b) => b.type === "organization.invitation_created").data).toMatchObject({ organization_id: orgId, email: invitee.user.email, role: "member" });
    expect(bodies.find((b) => b.type === "organization.member_added").data).toMatchObject({ organization_id: orgId, user_id: invitee.user.id, role: "member" });
    for (const b of bodies) expect(JSON.stringify(b)).not.toContain(token);

    await eventually(async () => {
      const created = (await received(platformName)).deliveries.map((d) => JSON.parse(d.body));
      expect(created.some((b) => b.type === "user.created" && b.data.user.id === invitee.user.id)).toBe(true);
    }, 15_000);
  });
});
