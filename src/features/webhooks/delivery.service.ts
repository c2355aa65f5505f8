import type { WebhookJob } from "../../env";
import { emails } from "../../email/templates";
import { enqueueEmails } from "../../email/queue";
import { outboxInsert } from "../../email/outbox.repo";
import type { ServiceContext } from "../../platform/context";
import { runBatch } from "../../platform/db";
import { open, UnopenableSecretError } from "../../platform/secrets";
import { DAY, MINUTE } from "../../platform/time";
import { retryDelaySeconds } from "./events";
import { signatureHeader } from "./signing";
import { enqueueDeliveries } from "./emit";
import { sealContext } from "./webhooks.service";
import { pendingOfEvents } from "./webhook-outbox.repo";
import { webhooksRepo, type DeliveryRow, type EndpointRow } from "./webhooks.repo";

/** Queues delay a message by at most 12 hours; a longer retry waits for the cron relay. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;
/** How long a claimed attempt may run before another worker may take it over (well above the 10 s timeout). */
const CLAIM_MS = 2 * MINUTE;
const TIMEOUT_MS = 10_000;
const MAX_LOGGED_BODY = 1024;

export interface AttemptOutcome {
  deliveryId: string;
  sent: boolean;
  status?: DeliveryRow["status"];
  responseStatus?: number | null;
}

/**
 * Deliveries in flight at once, across a whole queue batch. A Worker has at most 6 outgoing
 * connections open; starting thousands of fetches at once only queues them inside the runtime and
 * costs more CPU per delivery as the number grows (bench:webhooks: 4.8 ms at one message per batch,
 * 25.8 ms at 20 messages, before this cap).
 */
const MAX_PARALLEL_DELIVERIES = 6;

/** A limiter: `run(work)` starts `work` when fewer than `limit` are running (a slot passes straight to the next waiter). */
function pool(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * The `webhooks` queue consumer. `{eventId}` fans an event out to its pending deliveries (a batch
 * not yet committed is waited for a little); `{deliveryId, attempt}` makes that attempt, once.
 */
export async function consumeWebhookBatch(ctx: ServiceContext, batch: MessageBatch<WebhookJob>): Promise<void> {
  const repo = webhooksRepo(ctx.db);
  const run = pool(MAX_PARALLEL_DELIVERIES);
  await Promise.all(
    batch.messages.map(async (msg) => {
      try {
        const job = msg.body;
        if ("eventId" in job) {
          const deliveries = await repo.deliveryIdsOfEvent(job.eventId);
          if (deliveries.length === 0 && !(await repo.event(job.eventId)) && msg.attempts < 3) return msg.retry({ delaySeconds: 5 });
          await Promise.all(deliveries.map((d) => run(() => attemptDelivery(ctx, d.id, d.attempt))));
        } else if ("eventIds" in job) {
          // Sent right after a batch of matches; what it misses (not committed yet) the cron relay sends.
          const deliveries = await pendingOfEvents(ctx.db, job.eventIds);
          await Promise.all(deliveries.map((d) => run(() => attemptDelivery(ctx, d.id, d.attempt))));
        } else if ("deliveryId" in job) {
          await run(() => attemptDelivery(ctx, job.deliveryId, job.attempt));
        }
        msg.ack();
      } catch (err) {
        ctx.log.error("webhook delivery failed unexpectedly", { message_id: msg.id }, err);
        msg.retry({ delaySeconds: 30 });
      }
    }),
  );
}

/**
 * Attempt `attempt + 1` of a delivery. The claim is one guarded UPDATE, so a redelivered message
 * or a duplicate relay sends nothing. A disabled endpoint gets nothing: its delivery fails at once.
 */
export async function attemptDelivery(ctx: ServiceContext, deliveryId: string, attempt: number): Promise<AttemptOutcome> {
  const repo = webhooksRepo(ctx.db);
  const now = ctx.clock.now();
  const claimed = await repo.claim(deliveryId, attempt, now, CLAIM_MS);
  if (!claimed) return { deliveryId, sent: false };
  const [endpoint, event] = await Promise.all([repo.byId(claimed.endpointId), repo.event(claimed.eventId)]);
  if (!endpoint || !event || !endpoint.enabled) {
    await repo.failUndeliverable(deliveryId, now, endpoint?.enabled === false ? "endpoint disabled" : "endpoint or event gone");
    return { deliveryId, sent: false, status: "failed" };
  }

  const body = JSON.stringify({ id: event.id, type: event.type, timestamp: event.createdAt.toISOString(), data: event.data });
  const secrets = await signingSecrets(ctx, endpoint, now);
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "keel-webhooks/1",
    "webhook-id": event.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureHeader(secrets, event.id, timestamp, body),
  };
  const started = performance.now();
  let responseStatus: number | null = null;
  let responseBody: string;
  let ok = false;
  try {
    const res = await fetch(endpoint.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    responseStatus = res.status;
    responseBody = await readAtMost(res, MAX_LOGGED_BODY);
    ok = res.status >= 200 && res.status < 300; // a 3xx is not followed: it is a failure
  } catch (err) {
    responseBody = err instanceof Error && err.name === "TimeoutError" ? "timed out after 10 s" : `network error: ${err instanceof Error ? err.message : String(err)}`.slice(0, MAX_LOGGED_BODY);
  }
  const durationMs = Math.round(performance.now() - started);
  const after = ctx.clock.now();

  if (ok) {
    await runBatch(ctx, [repo.recordAttempt(deliveryId, { status: "delivered", responseStatus, durationMs, responseBody, nextAttemptAt: null }, after), repo.clearFailing(endpoint.id)]);
    return { deliveryId, sent: true, status: "delivered", responseStatus };
  }
  const delay = retryDelaySeconds(claimed.attempt, Math.random());
  const nextAttemptAt = delay === null ? null : new Date(after.getTime() + delay * 1000);
  await repo.recordAttempt(deliveryId, { status: delay === null ? "failed" : "pending", responseStatus, durationMs, responseBody, nextAttemptAt }, after);
  if (delay !== null && delay <= MAX_QUEUE_DELAY_SECONDS) await enqueueDeliveries(ctx, [{ deliveryId, attempt: claimed.attempt }], delay);
  await noteFailure(ctx, endpoint, after);
  return { deliveryId, sent: true, status: delay === null ? "failed" : "pending", responseStatus };
}

/** The current secret, and the previous one while its rotation overlap lasts. */
async function signingSecrets(ctx: ServiceContext, endpoint: EndpointRow, now: Date): Promise<string[]> {
  const sealed = [endpoint.secretSealed];
  if (endpoint.previousSecretSealed && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) sealed.push(endpoint.previousSecretSealed);
  const out: string[] = [];
  for (const s of sealed) {
    try {
      out.push(await open(ctx.env, ctx.config, s, sealContext(endpoint.id)));
    } catch (err) {
      if (!(err instanceof UnopenableSecretError) || out.length === 0) throw err;
    }
  }
  return out;
}

/** Reads at most `max` bytes of a response body as text (the rest is never downloaded). */
async function readAtMost(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all.subarray(0, max));
}

/** A failed attempt: starts the endpoint's failure run, and disables it (emailing its owners once) after WEBHOOK_DISABLE_AFTER_DAYS. */
async function noteFailure(ctx: ServiceContext, endpoint: EndpointRow, now: Date): Promise<void> {
  const repo = webhooksRepo(ctx.db);
  const current = await repo.markFailing(endpoint.id, now);
  const days = ctx.config.WEBHOOK_DISABLE_AFTER_DAYS;
  if (!current?.failingSince || now.getTime() - current.failingSince.getTime() < days * DAY) return;
  if (!(await repo.disableFailing(endpoint.id, new Date(now.getTime() - days * DAY + 1), now))) return;
  const recipients = await repo.ownersToEmail(endpoint, now);
  const where = endpoint.scope === "user" ? "your account" : endpoint.scope === "org" ? "your organization" : "the platform";
  const mails = await Promise.all(
    recipients.map((r) => outboxInsert({ ...ctx, now }, { to: r.email, userId: r.id, email: emails.webhookDisabled({ name: r.fullName, url: endpoint.url, days, where }) })),
  );
  await runBatch(ctx, mails.map((m) => m.statement));
  await enqueueEmails(ctx.env, mails.map((m) => m.id));
  ctx.log.warn("webhook endpoint disabled after failing", { endpoint_id: endpoint.id, days, emailed: mails.length });
}

/**
 * Cron relay: deliveries due for more than a minute (a retry longer than the queue can delay, a
 * lost message, a lapsed claim) are queued again with their attempt number; duplicates are harmless.
 */
export async function relayDueWebhooks(ctx: ServiceContext, limit = 500): Promise<number> {
  const due = await webhooksRepo(ctx.db).due(new Date(ctx.now.getTime() - MINUTE), limit);
  await enqueueDeliveries(ctx, due.map((d) => ({ deliveryId: d.id, attempt: d.attempt })));
  return due.length;
}

/** Days webhook events and their delivery log are kept: the log is for debugging, and event data names people. */
export const WEBHOOK_EVENT_RETENTION_DAYS = 30;

export async function purgeOldWebhookEvents(ctx: ServiceContext): Promise<number> {
  return webhooksRepo(ctx.db).purgeEventsBefore(new Date(ctx.now.getTime() - WEBHOOK_EVENT_RETENTION_DAYS * DAY));
}
