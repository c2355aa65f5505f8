/**
 * Daily and weekly digests, from the cron tick. For each user whose digest is due in their own
 * time zone (isDigestDue) and who has pending matches: ONE email listing the tenders. The claim
 * (last_digest_sent_at, guarded by the value read), the outbox row (only if the claim changed a
 * row) and `sent` on the matches (only if that outbox row exists) are one batch, so a rerun or a
 * concurrent tick never sends twice, and a crash before the commit loses nothing.
 */
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails } from "../../email/templates";
import { pendingDigestMatches } from "../alerts/alert-matching.repo";
import { tenderLine, type MatchingContext } from "../alerts/alert-matching.service";
import { signUnsubscribeToken, unsubscribeParts } from "../alerts/unsubscribe-token";
import { isDigestDue } from "./schedule";
import { claimDigest, claimSucceeded, digestCandidates, markDigestMatchesSent } from "./digests.repo";

/** Users looked at per tick. */
export const DIGEST_USERS_PER_TICK = 500;
/** Tenders listed in one digest; older pending matches beyond it go into the next one. */
export const DIGEST_MAX_TENDERS = 50;

export async function sendDueDigests(ctx: MatchingContext): Promise<{ sent: number; skipped: number }> {
  const candidates = await digestCandidates(ctx.db, DIGEST_USERS_PER_TICK);
  let sent = 0;
  let skipped = 0;
  const outboxIds: string[] = [];
  for (const u of candidates) {
    const timeZone = u.timezone ?? "UTC";
    let due: boolean;
    try {
      due = isDigestDue({ now: ctx.now, timeZone, digestTime: u.digest_time, frequency: u.frequency, lastSentAt: u.last_sent_at === null ? null : new Date(u.last_sent_at) });
    } catch (err) {
      console.warn(JSON.stringify({ level: "warn", msg: "digest skipped: invalid schedule", user_id: u.user_id, error: String(err) }));
      skipped++;
      continue;
    }
    if (!due) continue;
    const matches = await pendingDigestMatches(ctx.db, u.user_id, DIGEST_MAX_TENDERS);
    const first = matches[0];
    if (!first) continue;
    const { url, headers } = unsubscribeParts(ctx.config, await signUnsubscribeToken(ctx.env, ctx.config, { userId: u.user_id, digest: true }, ctx.now));
    const email = emails.digest({
      name: first.full_name,
      frequency: u.frequency === "weekly" ? "weekly" : "daily",
      tenders: matches.map((m) => tenderLine(ctx.config.PUBLIC_BASE_URL, m)),
      unsubscribeUrl: url,
      headers,
    });
    const mail = await outboxInsertIf(ctx, { to: first.email, userId: u.user_id, email }, claimSucceeded);
    const [, written] = await ctx.db.batch([
      claimDigest(ctx.db, u.user_id, u.last_sent_at, ctx.now),
      mail.statement,
      markDigestMatchesSent(ctx.db, matches.map((m) => m.match_id), mail.id, ctx.now),
    ]);
    if ((written.meta.changes ?? 0) > 0) {
      outboxIds.push(mail.id);
      sent++;
    }
  }
  await enqueueEmails(ctx.env, outboxIds);
  return { sent, skipped };
}
