import { and, asc, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { emailOutbox } from "../db/tables";
import type { ServiceContext } from "../platform/context";
import { inJsonArray, insertIf, type Db } from "../platform/db";
import { open, seal, UnopenableSecretError } from "../platform/secrets";
import { newId } from "../platform/ids";
import type { RenderedEmail } from "./templates";

export interface OutboxMessage {
  to: string;
  userId: string | null;
  email: RenderedEmail;
}

/** What sealing an outbox body needs: the secrets (env, config), the db and the clock. */
export type OutboxContext = Pick<ServiceContext, "db" | "env" | "config" | "now">;

/** AES-GCM associated data: a body only opens under its own row id and part. */
const sealContext = (id: string, part: "text" | "html") => `outbox:${id}:${part}`;

/**
 * An outbox insert for `db.batch()`: the email is recorded in the same transaction as the
 * change that causes it (transactional outbox), then `enqueueEmails` hands its id to the queue.
 * Bodies carry live links (verification, reset, invitation), so they are stored sealed
 * (AES-256-GCM under DATA_ENCRYPTION_KEY, bound to the row id): a D1 backup or Time Travel copy
 * holds no usable token. Subject and address stay readable for operations.
 */
export async function outboxInsert(ctx: OutboxContext, message: OutboxMessage) {
  const row = await outboxRow(ctx, message);
  return { id: row.id, statement: ctx.db.insert(emailOutbox).values(row) };
}

async function outboxRow(ctx: OutboxContext, message: OutboxMessage) {
  const id = newId("eml", ctx.now.getTime());
  const [textBody, htmlBody] = await Promise.all([
    seal(ctx.env, ctx.config, message.email.text, sealContext(id, "text")),
    seal(ctx.env, ctx.config, message.email.html, sealContext(id, "html")),
  ]);
  return {
    id,
    userId: message.userId,
    toAddress: message.to,
    subject: message.email.subject,
    textBody,
    htmlBody,
    template: message.email.template,
    headers: message.email.headers ?? null,
    createdAt: ctx.now,
  } satisfies typeof emailOutbox.$inferInsert;
}

/**
 * Like `outboxInsert`, but the row is only written when `condition` holds at that point of the
 * batch (e.g. "this device is new"): lets one batch decide and record in the same transaction.
 * The batch result's `meta.changes` tells whether it was written.
 */
export async function outboxInsertIf(ctx: OutboxContext, message: OutboxMessage, condition: SQL) {
  const row = await outboxRow(ctx, message);
  return { id: row.id, statement: insertIf(ctx.db, emailOutbox, row, condition) };
}

/**
 * The plain bodies of a stored row (empty once a provider delivered it and they were cleared).
 * A row this key cannot open (sealed with an earlier key) comes back `opened: false` with the
 * reason in place of both bodies, so a list of rows still loads; a missing key still throws.
 */
export async function openOutboxBodies(
  ctx: Pick<OutboxContext, "env" | "config">,
  row: { id: string; textBody: string; htmlBody: string },
): Promise<{ text: string; html: string; opened: true } | { text: string; html: string; opened: false; reason: string }> {
  const openPart = (value: string, part: "text" | "html") => (value === "" ? Promise.resolve("") : open(ctx.env, ctx.config, value, sealContext(row.id, part)));
  try {
    const [text, html] = await Promise.all([openPart(row.textBody, "text"), openPart(row.htmlBody, "html")]);
    return { text, html, opened: true };
  } catch (err) {
    if (!(err instanceof UnopenableSecretError)) throw err;
    const shown = `(${err.message})`;
    return { text: shown, html: shown, opened: false, reason: err.message };
  }
}

export const outboxRepo = (db: Db) => ({
  get: (id: string) => db.select().from(emailOutbox).where(eq(emailOutbox.id, id)).get(),
  /** The rows of these ids (one statement, one bound parameter however many ids); missing ones are left out. */
  getMany: (ids: readonly string[]) => db.select().from(emailOutbox).where(inJsonArray(emailOutbox.id, JSON.stringify(ids))),
  /**
   * Marks a row sent. With `clearBody`, the (sealed) bodies are dropped as well: once a provider
   * has the message, keel keeps no copy of its links. The local outbox adapter keeps them,
   * since there the row is the delivered message (/dev/mailbox).
   */
  markSent: (id: string, providerMessageId: string | null, now: Date, clearBody: boolean) =>
    db
      .update(emailOutbox)
      .set({
        status: "sent",
        sentAt: now,
        providerMessageId,
        attempts: sql`${emailOutbox.attempts} + 1`,
        lastError: null,
        ...(clearBody ? { textBody: "", htmlBody: "" } : {}),
      })
      .where(and(eq(emailOutbox.id, id), eq(emailOutbox.status, "pending"))),
  markAttemptFailed: (id: string, error: string, final: boolean) =>
    db
      .update(emailOutbox)
      .set({ attempts: sql`${emailOutbox.attempts} + 1`, lastError: error.slice(0, 1000), ...(final ? { status: "failed" as const } : {}) })
      .where(eq(emailOutbox.id, id)),
  /** Pending rows older than `before`: enqueued again by the cron relay in case a send to the queue was lost. */
  stalePending: (before: Date, limit: number) =>
    db
      .select({ id: emailOutbox.id })
      .from(emailOutbox)
      .where(and(eq(emailOutbox.status, "pending"), lt(emailOutbox.createdAt, before)))
      .orderBy(asc(emailOutbox.createdAt))
      .limit(limit),
  /** The local mailbox, newest first. */
  latest: (limit: number, to?: string) =>
    db
      .select()
      .from(emailOutbox)
      .where(to ? eq(emailOutbox.toAddress, to) : undefined)
      .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
      .limit(limit),
  /** Retention: sent and failed rows created before `before` are deleted. */
  purgeFinishedBefore: (before: Date) =>
    db.delete(emailOutbox).where(and(inArray(emailOutbox.status, ["sent", "failed"]), lt(emailOutbox.createdAt, before))),
});
