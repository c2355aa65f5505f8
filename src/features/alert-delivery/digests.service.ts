/**
 * Daily and weekly digests, from the cron tick. Users are read in the order their digest slot
 * comes (`next_digest_at <= now ORDER BY next_digest_at`, in batches of DIGEST_BATCH_SIZE, as many
 * batches as DIGEST_TICK_BUDGET_MS allows), so no user waits behind others however many there are.
 * For each: if the digest is due in their own time zone (isDigestDue) and matches are pending, ONE
 * email listing the tenders; either way next_digest_at moves to the next slot. The claim
 * (last_digest_sent_at and next_digest_at, guarded by the values read), the outbox row (only if the
 * claim changed a row) and the matches handed to that email (only if the row exists) are written
 * together, so a rerun or a concurrent tick never sends twice, and a crash before the commit loses
 * nothing. The matches become `sent` when the email consumer delivered the email.
 */
import { systemOwner } from "../../identity/owner";
import { tenderLine } from "./immediate.service";
import { claimMatchesForEmail, pendingDigestMatchesOf, type PendingMatchRow } from "./delivery.repo";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails } from "../../email/templates";
import { chunk, runBatch } from "../../platform/db";
import type { DeliveryContext } from "./delivery.context";
import { signUnsubscribeToken, unsubscribeParts } from "./unsubscribe-token";
import { isDigestDue, nextDigestAt } from "./schedule";
import { advanceDigests, claimDigest, claimSucceeded, dueDigestUsers, type DueDigestRow } from "./digests.repo";
import { DAY } from "../../platform/time";
import { log } from "../../platform/log";

/** Tenders listed in one digest; older pending matches beyond it go into the next one. */
export const DIGEST_MAX_TENDERS = 50;
/** Digests written per D1 batch (three statements each). */
const DIGESTS_PER_WRITE = 50;

export interface DigestReport {
  sent: number;
  skipped: number;
  /** Users looked at (sent, moved to their next slot, or skipped). */
  looked: number;
  batches: number;
}

/**
 * Sends the digests due at `ctx.now`. Batches continue while the tick's budget (real elapsed time,
 * not the injected clock) lasts and a full batch came back; what is left stays due for the next tick.
 */
export async function sendDueDigests(ctx: DeliveryContext, opts: { batchSize?: number; budgetMs?: number } = {}): Promise<DigestReport> {
  const batchSize = opts.batchSize ?? ctx.config.DIGEST_BATCH_SIZE;
  const budgetMs = opts.budgetMs ?? ctx.config.DIGEST_TICK_BUDGET_MS;
  const started = Date.now();
  const report: DigestReport = { sent: 0, skipped: 0, looked: 0, batches: 0 };
  for (;;) {
    const due = await dueDigestUsers(ctx.db, ctx.now, batchSize);
    if (due.length === 0) break;
    report.batches++;
    report.looked += due.length;
    const { sent, skipped } = await digestBatch(ctx, due);
    report.sent += sent;
    report.skipped += skipped;
    if (due.length < batchSize || Date.now() - started >= budgetMs) break;
  }
  return report;
}

async function digestBatch(ctx: DeliveryContext, due: readonly DueDigestRow[]): Promise<{ sent: number; skipped: number }> {
  let skipped = 0;
  const advance: [string, number, number | null][] = [];
  const toSend: { u: DueDigestRow; next: number | null }[] = [];
  for (const u of due) {
    const timeZone = u.timezone ?? "UTC";
    try {
      const next = nextDigestAt({ after: ctx.now, timeZone, digestTime: u.digest_time, frequency: u.frequency })?.getTime() ?? null;
      const sendNow =
        u.frequency !== "never" &&
        u.has_pending === 1 &&
        isDigestDue({ now: ctx.now, timeZone, digestTime: u.digest_time, frequency: u.frequency, lastSentAt: u.last_sent_at === null ? null : new Date(u.last_sent_at) });
      if (sendNow) toSend.push({ u, next });
      else advance.push([u.user_id, u.next_at, next]);
    } catch (err) {
      // An invalid stored time zone or time (validated on write; old rows): looked at again in a day.
      log.warn("digest skipped: invalid schedule", { user_id: u.user_id }, err);
      skipped++;
      advance.push([u.user_id, u.next_at, ctx.now.getTime() + DAY]);
    }
  }

  const byUser = new Map<string, PendingMatchRow[]>();
  if (toSend.length > 0) {
    for (const m of await pendingDigestMatchesOf(ctx.db, toSend.map((s) => systemOwner(s.u.user_id, "cron")), DIGEST_MAX_TENDERS)) {
      const list = byUser.get(m.user_id);
      if (list) list.push(m);
      else byUser.set(m.user_id, [m]);
    }
  }
  const writes = await Promise.all(
    toSend.map(async ({ u, next }) => {
      const matches = byUser.get(u.user_id);
      const head = matches?.[0];
      // Nothing to send after all (inactive account, suppressed address): next slot.
      if (!matches || !head) {
        advance.push([u.user_id, u.next_at, next]);
        return null;
      }
      const { url, headers } = unsubscribeParts(ctx.config, await signUnsubscribeToken(ctx.env, ctx.config, { userId: u.user_id, digest: true }, ctx.now));
      const email = emails.digest({
        name: head.full_name,
        frequency: u.frequency === "weekly" ? "weekly" : "daily",
        tenders: await Promise.all(matches.map((m) => tenderLine(ctx, m, "digest"))),
        unsubscribeUrl: url,
        headers,
      });
      const mail = await outboxInsertIf(ctx, { to: head.email, userId: u.user_id, email }, claimSucceeded);
      return {
        id: mail.id,
        statements: [
          claimDigest(ctx.db, u, ctx.now, next),
          mail.statement,
          claimMatchesForEmail(
            ctx.db,
            matches.map((m) => m.match_id),
            mail.id,
          ),
        ],
      };
    }),
  );

  const outboxIds: string[] = [];
  const groups = writes.filter((w) => w !== null);
  for (const part of chunk(groups, DIGESTS_PER_WRITE)) {
    const results = (await runBatch(ctx, part.flatMap((p) => p.statements))) as D1Result[];
    part.forEach((p, i) => {
      if ((results[i * 3 + 1]?.meta.changes ?? 0) > 0) outboxIds.push(p.id);
    });
  }
  if (advance.length > 0) await advanceDigests(ctx.db, advance);
  await enqueueEmails(ctx.env, outboxIds);
  return { sent: outboxIds.length, skipped };
}
