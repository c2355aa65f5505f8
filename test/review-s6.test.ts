import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { newId } from "../src/platform/ids";
import { signedInWithRole } from "./helpers/admin";
import { call, callWithConfig, enablingCode, createUser, eventually, json, randomIp, signedInUser, STRONG_PASSWORD, unique } from "./helpers/harness";

// Review of issue 20's session 6 changes: the email consumer that reads a queue batch's outbox
// rows in one statement and writes all new states in one batch after it.

const outboxRow = async (f: { userId?: string | null; to?: string; template?: string; status?: string; body?: string }) => {
  const id = newId("eml");
  await env.DB.prepare(
    "INSERT INTO email_outbox (id, user_id, to_address, subject, text_body, html_body, template, status, created_at) VALUES (?, ?, ?, 's', ?, '', ?, ?, ?)",
  )
    .bind(id, f.userId ?? null, f.to ?? `${unique("to")}@example.com`, f.body ?? "", f.template ?? "test", f.status ?? "pending", Date.now())
    .run();
  return id;
};
const statusOf = async (id: string) => env.DB.prepare("SELECT status, attempts FROM email_outbox WHERE id = ?").bind(id).first<{ status: string; attempts: number }>();

/** A Cloudflare send_email binding that records each destination and fails as `fail` says. */
function provider(fail: (to: string, n: number) => string | null) {
  const sent: string[] = [];
  const testEnv = {
    ...env,
    EMAIL_PROVIDER: "cloudflare",
    SEND_EMAIL: {
      send: async (m: { to: string }) => {
        sent.push(m.to);
        const err = fail(m.to, sent.filter((t) => t === m.to).length);
        if (err) throw new Error(err);
      },
    },
  } as unknown as Env;
  return { testEnv, sent };
}

async function deliver(testEnv: Env, messages: { id: string; outboxId: string }[]) {
  const batch = createMessageBatch(
    "email",
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: 1, body: { outboxId: m.outboxId } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as never, testEnv);
  return getQueueResult(batch, ctx);
}

describe("email consumer: one read, one write batch per queue batch", () => {
  it("a batch mixing pending, already-sent, missing, unopenable and duplicate rows and one transient provider failure: each message acked or retried once, the others delivered", async () => {
    const failing = `${unique("flaky")}@example.com`;
    const a = await outboxRow({});
    const b = await outboxRow({ status: "sent" });
    const c = newId("eml"); // no such row
    const d = await outboxRow({ to: failing });
    const e = await outboxRow({});
    const sealedElsewhere = await outboxRow({ body: "v9:not-a-sealed-body" });
    const { testEnv, sent } = provider((to) => (to === failing ? "upstream timeout" : null));
    const result = await deliver(testEnv, [
      { id: "a", outboxId: a },
      { id: "b", outboxId: b },
      { id: "c", outboxId: c },
      { id: "d", outboxId: d },
      { id: "a2", outboxId: a },
      { id: "e", outboxId: e },
      { id: "f", outboxId: sealedElsewhere },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["a", "a2", "b", "c", "e", "f"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["d"]);
    expect(result.retryBatch.retry).toBe(false);
    expect(sent.filter((t) => t !== failing)).toHaveLength(2);
    expect(await statusOf(a)).toEqual({ status: "sent", attempts: 1 });
    expect(await statusOf(e)).toEqual({ status: "sent", attempts: 1 });
    expect(await statusOf(d)).toEqual({ status: "pending", attempts: 1 });
    expect((await statusOf(b))?.status).toBe("sent");
    expect(await statusOf(sealedElsewhere)).toEqual({ status: "failed", attempts: 1 });
  });

  it("an address the provider refused for good is not sent a second alert email in the same batch", async () => {
    const user = await createUser();
    const first = await outboxRow({ userId: user.id, to: user.email, template: "alert_match" });
    const second = await outboxRow({ userId: user.id, to: user.email, template: "daily_digest" });
    const { testEnv, sent } = provider((to) => `email to ${to} not allowed`);
    const result = await deliver(testEnv, [
      { id: "first", outboxId: first },
      { id: "second", outboxId: second },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["first", "second"]);
    // Before the batched writes, the first message's suppression committed before the second was
    // looked at: the provider was asked once.
    expect(sent).toEqual([user.email]);
    expect((await statusOf(first))?.status).toBe("failed");
    expect((await statusOf(second))?.status).toBe("failed");
    expect(await env.DB.prepare("SELECT reason FROM email_suppressions WHERE user_id = ?").bind(user.id).first("reason")).toBe("rejected");
  });
});

describe("email consumer: a failed write batch", () => {
  it("acknowledges none of the messages it delivered: the batch throws (the queue retries them) and their rows stay pending", async () => {
    const a = await outboxRow({});
    const gone = newId("eml");
    const { testEnv, sent } = provider(() => null);
    const failingDb = new Proxy(env.DB, {
      get(t, p) {
        const v = Reflect.get(t, p);
        if (p === "batch") return async () => Promise.reject(new Error("D1_ERROR: simulated"));
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    const batch = createMessageBatch("email", [
      { id: "a", timestamp: new Date(), attempts: 1, body: { outboxId: a } },
      { id: "gone", timestamp: new Date(), attempts: 1, body: { outboxId: gone } },
    ]);
    const ctx = createExecutionContext();
    await expect(worker.queue(batch as never, { ...testEnv, DB: failingDb } as Env)).rejects.toThrow(/simulated/);
    const result = await getQueueResult(batch, ctx);
    expect(sent).toHaveLength(1);
    // Only the message with nothing to write was acknowledged.
    expect(result.explicitAcks).toEqual(["gone"]);
    expect(result.retryMessages).toEqual([]);
    expect(await statusOf(a)).toEqual({ status: "pending", attempts: 0 });
  });
});

// Sign-in: the email guard learns of a password success from the next sign-in's lookup.
describe("sign-in guard: `settled` and the other guards and limits", () => {
  const login = (overrides: Record<string, unknown>, body: Record<string, unknown>, ip = randomIp()) => callWithConfig(overrides, "auth/login", { body, ip });

  it("a success recorded for the email's guard does not forgive the failures of a device's guard", async () => {
    const user = await createUser();
    const first = await login({}, { email: user.email, password: user.password });
    expect(first.status).toBe(200);
    const { device_token } = (await first.json()) as { device_token: string };
    // The email's guard now holds that success; the device's guard counts 4 failures.
    for (let i = 0; i < 4; i++) expect((await login({}, { email: user.email, password: `wrong-${i}-pw`, device_token })).status).toBe(401);
    // A success without the device token settles the email's guard only.
    expect((await login({}, { email: user.email, password: user.password })).status).toBe(200);
    expect((await login({}, { email: user.email, password: "wrong-5-pw", device_token })).status).toBe(401);
    expect((await login({}, { email: user.email, password: user.password, device_token })).status).toBe(423);
  });

  it("after the right password as the lock-setting 5th attempt, a caller refused per IP is not told to wait for that lock", async () => {
    const user = await createUser();
    const ip = randomIp();
    const tight = { RATE_LOGIN_PER_IP: "5/900" };
    for (let i = 0; i < 4; i++) expect((await login(tight, { email: user.email, password: `wrong-${i}-pw` }, ip)).status).toBe(401);
    expect((await login(tight, { email: user.email, password: user.password }, ip)).status).toBe(200);
    const refused = await login(tight, { email: user.email, password: user.password }, ip);
    expect(refused.status).toBe(429);
    // The per-IP wait (one request per 180 s), not the 30-minute lock the success itself lifted.
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(180);
    // And from another address the right password passes at once.
    expect((await login(tight, { email: user.email, password: user.password })).status).toBe(200);
  });
});

// Sign-up: the user.created event is written inside the registration batch only if a platform endpoint listens.
describe("registration's user.created event written in the batch", () => {
  it("one delivery for every enabled endpoint that listens, none for a disabled or deaf one; a taken address writes no event", async () => {
    const root = await signedInWithRole("superuser");
    const make = async (body: Record<string, unknown>) => {
      const res = await call("admin/webhooks", { body, token: root.token });
      expect(res.status).toBe(201);
      return (await json<{ id: string }>(res)).id;
    };
    const a = await make({ url: "https://hooks.example.com/a", events: ["user.created"] });
    const b = await make({ url: "https://hooks.example.com/b", events: ["user.updated", "user.created"] });
    const off = await make({ url: "https://hooks.example.com/off", events: ["user.created"], enabled: false });
    const deaf = await make({ url: "https://hooks.example.com/deaf", events: ["user.deleted"] });
    try {
      const email = `${unique("s6reg")}@example.com`;
      const body = { email, password: STRONG_PASSWORD, full_name: "Review Six" };
      expect((await call("auth/register", { body, ip: randomIp() })).status).toBe(201);
      const events = async () =>
        (await env.DB.prepare("SELECT id FROM webhook_events WHERE type = 'user.created' AND json_extract(data, '$.user.email') = ?").bind(email).all<{ id: string }>()).results;
      const [event] = await events();
      expect(event).toBeDefined();
      const deliveries = await env.DB.prepare("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = ?").bind(event!.id).all<{ endpoint_id: string }>();
      expect(deliveries.results.map((d) => d.endpoint_id).sort()).toEqual([a, b].sort());
      expect(deliveries.results.map((d) => d.endpoint_id)).not.toContain(off);
      expect(deliveries.results.map((d) => d.endpoint_id)).not.toContain(deaf);

      const outbox = async () => (await env.DB.prepare("SELECT count(*) AS n FROM email_outbox WHERE to_address = ?").bind(email).first<{ n: number }>())!.n;
      const before = await outbox();
      expect((await call("auth/register", { body, ip: randomIp() })).status).toBe(409);
      expect(await events()).toHaveLength(1);
      expect(await outbox()).toBe(before);
    } finally {
      for (const id of [a, b, off, deaf]) await call(`admin/webhooks/${id}`, { method: "DELETE", token: root.token });
    }
  });
});

describe("sign-in guard: a password proven for a second step (no session opened)", () => {
  it("the right password as the lock-setting 5th attempt of a TOTP user: the lock is lifted (succeed() after the response), and 4 more wrong answers are still 401", async () => {
    const { user, token } = await signedInUser();
    const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token })).status).toBe(200);
    const attempt = (password: string) => callWithConfig({ RATE_LOGIN_PER_EMAIL: "100/900" }, "auth/login", { body: { email: user.email, password }, ip: randomIp() });
    for (let i = 0; i < 4; i++) expect((await attempt(`wrong-${i}-pw`)).status).toBe(401);
    const step = await attempt(user.password);
    expect(step.status).toBe(200);
    expect((await json<{ mfa_required: boolean }>(step)).mfa_required).toBe(true);
    await eventually(async () => expect((await attempt(user.password)).status).toBe(200));
    for (let i = 0; i < 4; i++) expect((await attempt(`wrong-again-${i}`)).status).toBe(401);
  });
});
