import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { emailOutbox, oneTimeTokens, users } from "../src/db/tables";
import worker from "../src/index";
import { outboxInsert } from "../src/email/outbox.repo";
import { emails } from "../src/email/templates";
import { buildMime } from "../src/email/sender";
import { retryDelaySeconds } from "../src/jobs/email.consumer";
import { getConfig } from "../src/platform/config";
import { createDb } from "../src/platform/db";
import { newId } from "../src/platform/ids";
import { setOutboxStatus } from "./helpers/fixtures";
import type { Env } from "../src/env";

const db = createDb(env.DB);

const outboxCtx = (now = new Date(), testEnv: Env = env) => ({ db, env: testEnv, config: getConfig(testEnv), now });

async function queueMail(to = `${newId("m")}@example.com`) {
  const mail = await outboxInsert(outboxCtx(), { to, userId: null, email: emails.passwordChanged({ name: "A", when: "now", ip: "1.2.3.4" }) });
  await mail.statement;
  return mail.id;
}

const outboxRow = (id: string) => db.select().from(emailOutbox).where(eq(emailOutbox.id, id)).get();

async function runEmailBatch(ids: string[], testEnv: Env = env, attempts = 1) {
  const batch = createMessageBatch("email", ids.map((outboxId, i) => ({ id: `msg-${i}-${outboxId}`, timestamp: new Date(), attempts, body: { outboxId } })));
  const ctx = createExecutionContext();
  await worker.queue(batch as never, testEnv);
  return getQueueResult(batch, ctx);
}

describe("email queue consumer", () => {
  it("delivers a batch through the configured sender and acknowledges every message", async () => {
    const ids = [await queueMail(), await queueMail()];
    const result = await runEmailBatch(ids);
    expect(result.explicitAcks.sort()).toEqual(ids.map((id, i) => `msg-${i}-${id}`).sort());
    expect(result.retryMessages).toEqual([]);
    for (const id of ids) expect(await outboxRow(id)).toMatchObject({ status: "sent", attempts: 1, providerMessageId: `outbox:${id}` });
  });

  it("is idempotent: a redelivered message is acknowledged without a second delivery", async () => {
    const id = await queueMail();
    await runEmailBatch([id]);
    const again = await runEmailBatch([id]);
    expect(again.explicitAcks).toHaveLength(1);
    expect((await outboxRow(id))?.attempts).toBe(1);
  });

  it("retries a failing delivery with backoff and records the error", async () => {
    const id = await queueMail();
    // An HTTP provider on a closed local port: delivery fails.
    const failing = { ...env, EMAIL_PROVIDER: "http", EMAIL_HTTP_ENDPOINT: "http://127.0.0.1:9/send", EMAIL_API_TOKEN: "t" } as Env;
    const result = await runEmailBatch([id], failing, 2);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([`msg-0-${id}`]);
    expect(retryDelaySeconds(2)).toBe(20);
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row?.lastError).toBeTruthy();
  });

  it("marks the row failed on the last attempt (the message then goes to the dead-letter queue)", async () => {
    const id = await queueMail();
    const failing = { ...env, EMAIL_PROVIDER: "http", EMAIL_HTTP_ENDPOINT: "http://127.0.0.1:9/send", EMAIL_API_TOKEN: "t" } as Env;
    await runEmailBatch([id], failing, 8);
    expect((await outboxRow(id))?.status).toBe("failed");
  });

  // Issue 10, point 5: once a real provider has the message, keel keeps no copy of its links.
  it("opens the sealed bodies for the provider and clears them once sent (the local outbox adapter keeps them)", async () => {
    const id = await queueMail();
    expect((await outboxRow(id))?.textBody).toMatch(/^v1\./);
    // Cloudflare's send_email binding stands in for the outside world (the port, not D1/KV/Queues).
    const sent: unknown[] = [];
    const provider = { ...env, EMAIL_PROVIDER: "cloudflare", SEND_EMAIL: { send: async (m: unknown) => void sent.push(m) } } as unknown as Env;
    const result = await runEmailBatch([id], provider);
    expect(result.explicitAcks).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(await outboxRow(id)).toMatchObject({ status: "sent", textBody: "", htmlBody: "" });
  });

  // Issue 14, point 22: one row that cannot be opened does not hold up the others, nor is it
  // retried: no later attempt can open it.
  it("a row sealed with another key is marked failed at once and acknowledged; the rest of the batch is delivered", async () => {
    const otherKey = { ...env, DATA_ENCRYPTION_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) } as Env;
    const stale = await outboxInsert(outboxCtx(new Date(), otherKey), { to: `${newId("m")}@example.com`, userId: null, email: emails.passwordChanged({ name: "A", when: "now", ip: "1.2.3.4" }) });
    await stale.statement;
    const good = await queueMail();
    const result = await runEmailBatch([stale.id, good]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual([`msg-0-${stale.id}`, `msg-1-${good}`].sort());
    expect(await outboxRow(stale.id)).toMatchObject({ status: "failed", attempts: 1, lastError: "cannot be opened: sealed with another key" });
    expect((await outboxRow(good))?.status).toBe("sent");
  });

  it("acknowledges malformed messages instead of retrying them forever", async () => {
    const batch = createMessageBatch("email", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { nope: true } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as never, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["bad"]);
  });

  it("builds a multipart MIME message with text and HTML parts for Cloudflare's send_email", () => {
    const mime = buildMime({ id: "eml_1", from: "keel <no-reply@keel.test>", to: "a@example.com", subject: "Grüße", text: "hello", html: "<p>hello</p>" });
    expect(mime).toContain("multipart/alternative");
    expect(mime).toContain("Subject: =?UTF-8?B?");
    expect(mime).toContain(btoa("hello"));
  });
});

describe("scheduled handler", () => {
  // Issue 10, point 5: failed rows (sealed bodies) do not stay forever.
  it("purges sent and failed outbox rows after the retention period, but not pending ones", async () => {
    const ids = { sent: await queueMail(), failed: await queueMail(), pending: await queueMail() };
    await setOutboxStatus(ids.sent, "sent");
    await setOutboxStatus(ids.failed, "failed");
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 29 * 86_400_000, cron: "*/15 * * * *" }), env);
    expect((await outboxRow(ids.failed))?.status).toBe("failed");
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 31 * 86_400_000, cron: "*/15 * * * *" }), env);
    expect(await outboxRow(ids.sent)).toBeUndefined();
    expect(await outboxRow(ids.failed)).toBeUndefined();
    expect((await outboxRow(ids.pending))?.status).toBe("pending");
  });

  it("purges expired one-time tokens and relays stale pending emails, idempotently", async () => {
    const userId = newId("usr");
    await db.insert(users).values({ id: userId, email: `${userId}@example.com`, passwordHash: "x", fullName: "Cron" });
    const expired = newId("ott");
    const live = newId("ott");
    await db.insert(oneTimeTokens).values([
      { id: expired, userId, purpose: "password_reset", tokenHash: newId("h"), expiresAt: new Date(Date.now() - 1000) },
      { id: live, userId, purpose: "password_reset", tokenHash: newId("h"), expiresAt: new Date(Date.now() + 60_000) },
    ]);
    const stale = await outboxInsert(outboxCtx(new Date(Date.now() - 10 * 60_000)), {
      to: "stale@example.com",
      userId: null,
      email: emails.passwordChanged({ name: "A", when: "x", ip: "y" }),
    });
    await stale.statement;

    const controller = createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" });
    await worker.scheduled(controller, env);
    const remaining = (await db.select({ id: oneTimeTokens.id }).from(oneTimeTokens).where(eq(oneTimeTokens.userId, userId))).map((r) => r.id);
    expect(remaining).toEqual([live]);

    // The relayed email reaches the consumer through the real local queue.
    for (let i = 0; i < 100 && (await outboxRow(stale.id))?.status !== "sent"; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await outboxRow(stale.id))?.status).toBe("sent");

    // A rerun of the same tick changes nothing more.
    await worker.scheduled(controller, env);
    expect((await outboxRow(stale.id))?.attempts).toBe(1);
  });
});
