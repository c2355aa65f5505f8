import type { ServiceContext } from "../platform/context";
import { outboxRepo } from "./outbox.repo";
import { enqueueEmails } from "./queue";

/** Outbox relay: emails still pending since before `before` (their queue send was lost) are queued again. Returns how many. */
export async function relayStaleEmails(ctx: Pick<ServiceContext, "db" | "env">, before: Date, limit = 500): Promise<number> {
  const stale = await outboxRepo(ctx.db).stalePending(before, limit);
  await enqueueEmails(
    ctx.env,
    stale.map((r) => r.id),
  );
  return stale.length;
}

/** Retention: deletes sent rows and rows that failed for good, finished before `before`. Returns how many. */
export async function purgeFinishedEmails(ctx: Pick<ServiceContext, "db">, before: Date): Promise<number> {
  return (await outboxRepo(ctx.db).purgeFinishedBefore(before)).meta.changes ?? 0;
}
