import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newApp } from "../src/app";
import type { Env } from "../src/env";
import worker from "../src/index";
import { signedInWithRole } from "./helpers/admin";
import { call, json, randomIp, STRONG_PASSWORD, unique } from "./helpers/harness";

// Issue 20, point 2: the write plan of a registration and of the email consumer that delivers its
// verification email, counted in D1 round trips (a batch is one; a statement run on its own is
// one) and queue sends, through bindings that record what the code asks of them.

interface Trace {
  d1: string[];
  queues: string[];
}

/** `env` with D1 (and its sessions) and the email and webhook queues wrapped to record each round trip. */
function traced(): { env: Env; trace: Trace } {
  const trace: Trace = { d1: [], queues: [] };
  const statement = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement =>
    new Proxy(stmt, {
      get(t, p) {
        const v = Reflect.get(t, p);
        if (typeof v !== "function") return v;
        if (p === "bind") return (...a: unknown[]) => statement(v.apply(t, a), sql);
        if (p === "run" || p === "all" || p === "first" || p === "raw") {
          return (...a: unknown[]) => {
            trace.d1.push(sql.replace(/\s+/g, " "));
            return v.apply(t, a);
          };
        }
        return v.bind(t);
      },
    });
  const database = <D extends object>(d1: D): D =>
    new Proxy(d1, {
      get(t, p) {
        const v = Reflect.get(t, p);
        if (typeof v !== "function") return v;
        if (p === "prepare") return (sql: string) => statement(v.call(t, sql), sql);
        if (p === "batch") {
          return (stmts: D1PreparedStatement[]) => {
            trace.d1.push(`batch of ${stmts.length}`);
            return v.call(t, stmts);
          };
        }
        if (p === "withSession") return (...a: unknown[]) => database(v.apply(t, a));
        return v.bind(t);
      },
    });
  const queue = (name: string, q: Queue) =>
    new Proxy(q, {
      get(t, p) {
        const v = Reflect.get(t, p);
        if (typeof v !== "function") return v;
        return (...a: unknown[]) => {
          trace.queues.push(`${name}.${String(p)}`);
          return v.apply(t, a);
        };
      },
    });
  const wrapped = { ...env, DB: database(env.DB), EMAIL_QUEUE: queue("email", env.EMAIL_QUEUE), WEBHOOK_QUEUE: queue("webhooks", env.WEBHOOK_QUEUE) } as Env;
  return { env: wrapped, trace };
}

const app = newApp();
async function register(testEnv: Env, email = `cost-${unique()}@example.com`) {
  const res = await app.request(
    "http://keel.test/api/v1/auth/register",
    {
      method: "POST",
      headers: { "content-type": "application/json", "CF-Connecting-IP": randomIp(), "User-Agent": "keel-tests/1.0" },
      body: JSON.stringify({ email, password: STRONG_PASSWORD, full_name: "Cost Check" }),
    },
    testEnv,
  );
  return { res, email };
}
const settle = () => new Promise((r) => setTimeout(r, 50));

describe("registration's write plan", () => {
  it("is one D1 batch and one email queue send when no webhook endpoint listens: no read before the batch", async () => {
    const { env: testEnv, trace } = traced();
    const { res } = await register(testEnv);
    expect(res.status).toBe(201);
    await settle();
    expect(trace.d1).toHaveLength(1);
    expect(trace.d1[0]).toMatch(/^batch of \d+$/);
    expect(trace.queues).toEqual(["email.sendBatch"]);
  });

  it("a taken address: the same single batch (refused there by the unique index), 409, and nothing queued", async () => {
    const { email } = await register(env);
    const { env: testEnv, trace } = traced();
    const { res } = await register(testEnv, email);
    expect(res.status).toBe(409);
    await settle();
    expect(trace.d1).toHaveLength(1);
    expect(trace.d1[0]).toMatch(/^batch of \d+$/);
    expect(trace.queues).toEqual([]);
  });

  it("with a platform endpoint listening to user.created: still one batch, which writes the event and its delivery; the webhook queue gets the event", async () => {
    const root = await signedInWithRole("superuser");
    const hook = await call("admin/webhooks", { body: { url: "https://hooks.example.com/created", events: ["user.created"] }, token: root.token });
    expect(hook.status).toBe(201);
    const { id: endpointId } = await json<{ id: string }>(hook);
    try {
      const { env: testEnv, trace } = traced();
      const { res } = await register(testEnv);
      expect(res.status).toBe(201);
      const { user } = await json<{ user: { id: string } }>(res);
      await settle();
      expect(trace.d1).toHaveLength(1);
      expect(trace.d1[0]).toMatch(/^batch of \d+$/);
      expect(trace.queues.sort()).toEqual(["email.sendBatch", "webhooks.sendBatch"]);
      const event = await env.DB.prepare("SELECT id FROM webhook_events WHERE type = 'user.created' AND json_extract(data, '$.user.id') = ?").bind(user.id).first<{ id: string }>();
      expect(event).not.toBeNull();
      const delivery = await env.DB.prepare("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = ?").bind(event!.id).all<{ endpoint_id: string }>();
      expect(delivery.results).toEqual([{ endpoint_id: endpointId }]);
    } finally {
      expect((await call(`admin/webhooks/${endpointId}`, { method: "DELETE", token: root.token })).status).toBe(204);
    }
  });
});

describe("the email consumer's write plan", () => {
  it("delivers a batch of verification emails with one read and one write batch, however many messages", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { res, email } = await register(env);
      expect(res.status).toBe(201);
      const row = await env.DB.prepare("SELECT id FROM email_outbox WHERE to_address = ?").bind(email).first<{ id: string }>();
      ids.push(row!.id);
    }
    const { env: testEnv, trace } = traced();
    const batch = createMessageBatch("email", ids.map((outboxId, i) => ({ id: `cost-${i}`, timestamp: new Date(), attempts: 1, body: { outboxId } })));
    const ctx = createExecutionContext();
    await worker.queue(batch as never, testEnv);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(ids.map((_, i) => `cost-${i}`).sort());
    expect(trace.d1).toHaveLength(2);
    expect(trace.d1[0]).toMatch(/^select .* from "email_outbox"/);
    expect(trace.d1[1]).toBe("batch of 5");
    for (const id of ids) {
      expect(await env.DB.prepare("SELECT status FROM email_outbox WHERE id = ?").bind(id).first("status")).toBe("sent");
    }
  });

  it("the same outbox id twice in one batch is delivered once", async () => {
    const { email } = await register(env);
    const row = await env.DB.prepare("SELECT id FROM email_outbox WHERE to_address = ?").bind(email).first<{ id: string }>();
    const sent: unknown[] = [];
    const provider = { ...env, EMAIL_PROVIDER: "cloudflare", SEND_EMAIL: { send: async (m: unknown) => void sent.push(m) } } as unknown as Env;
    const batch = createMessageBatch("email", [0, 1].map((i) => ({ id: `dup-${i}`, timestamp: new Date(), attempts: 1, body: { outboxId: row!.id } })));
    const ctx = createExecutionContext();
    await worker.queue(batch as never, provider);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["dup-0", "dup-1"]);
    expect(sent).toHaveLength(1);
    expect(await env.DB.prepare("SELECT status, attempts FROM email_outbox WHERE id = ?").bind(row!.id).first()).toEqual({ status: "sent", attempts: 1 });
  });
});
