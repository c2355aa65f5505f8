import { and, asc, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { emailOutbox } from "../db/schema";
import { insertIf, type Db } from "../platform/db";
import { newId } from "../platform/ids";
import type { RenderedEmail } from "./templates";

export interface OutboxMessage {
  to: string;
  userId: string | null;
  email: RenderedEmail;
}

/**
 * An outbox insert for `db.batch()`: the email is recorded in the same transaction as the
 * change that causes it (transactional outbox), then `enqueueEmails` hands its id to the queue.
 */
export function outboxInsert(db: Db, message: OutboxMessage, now: Date) {
  const row = outboxRow(message, now);
  return { id: row.id, statement: db.insert(emailOutbox).values(row) };
}

function outboxRow(message: OutboxMessage, now: Date) {
  return {
    id: newId("eml", now.getTime()),
    userId: message.userId,
    toAddress: message.to,
    subject: message.email.subject,
    textBody: message.email.text,
    htmlBody: message.email.html,
    template: message.email.template,
    createdAt: now,
  } satisfies typeof emailOutbox.$inferInsert;
}

/**
 * Like `outboxInsert`, but the row is only written when `condition` holds at that point of the
 * batch (e.g. "this device is new"): lets one batch decide and record in the same transaction.
 * The batch result's `meta.changes` tells whether it was written.
 */
export function outboxInsertIf(db: Db, message: OutboxMessage, now: Date, condition: SQL) {
  const row = outboxRow(message, now);
  return { id: row.id, statement: insertIf(db, emailOutbox, row, condition) };
}

export const outboxRepo = (db: Db) => ({
  get: (id: string) => db.select().from(emailOutbox).where(eq(emailOutbox.id, id)).get(),
  markSent: (id: string, providerMessageId: string | null, now: Date) =>
    db
      .update(emailOutbox)
      .set({ status: "sent", sentAt: now, providerMessageId, attempts: sql`${emailOutbox.attempts} + 1`, lastError: null })
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
  purgeSentBefore: (before: Date) =>
    db.delete(emailOutbox).where(and(eq(emailOutbox.status, "sent"), lt(emailOutbox.createdAt, before))),
});
