import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import type { ServiceContext } from "../../platform/context";
import { runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { DAY } from "../../platform/time";
import { tenderEmailUrl } from "../alert-delivery/tender-links";
import { changeEmail, changeNotice, parsePrefs, wants, type ChangeSet } from "./messages";
import { notificationIf } from "./reminders.repo";
import { NOTICE_TTL_DAYS } from "./reminders.service";
import { changeClaimed, claimChangeStatement, followersQuery, FOLLOW_WINDOW_MS, pendingChangesQuery } from "./tender-changes.repo";

/** Changes fanned out per cron tick, and followers notified per change (bounded batches). */
export const CHANGES_PER_TICK = 20;
/** Followers per change per tick; more wait for the next tick (the change keeps a cursor). */
export const FOLLOWERS_PER_CHANGE = 200;

export type ChangeReport = { changes: number; notices: number; emails: number };

/**
 * Fans the change outbox out to followers (issue 19, point 4): per change, one batch that claims
 * it and, under that claim, writes each follower's `tender_changed` notice (in-app and email as
 * notification_preferences allow, type `changes`). A rerun or concurrent tick finds it claimed.
 */
export async function fanOutTenderChanges(ctx: ServiceContext, followersPerChange = FOLLOWERS_PER_CHANGE): Promise<ChangeReport> {
  const report: ChangeReport = { changes: 0, notices: 0, emails: 0 };
  const pending = await pendingChangesQuery(ctx.db, CHANGES_PER_TICK);
  for (const change of pending) {
    const changes = JSON.parse(change.changes) as Record<string, [number | null, number | null] | null>;
    const set: ChangeSet = {};
    if (changes.closing_date) set.closing_date = changes.closing_date.map((v) => (v === null ? null : Number(v))) as [number | null, number | null];
    if (changes.value) set.value = changes.value.map((v) => (v === null ? null : Number(v))) as [number | null, number | null];
    const followers = await followersQuery(ctx.db, change.tender_id, new Date(ctx.now.getTime() - FOLLOW_WINDOW_MS), change.followers_after, followersPerChange);
    const claimId = newId("clm", ctx.now.getTime());
    const guard = changeClaimed(change.id, claimId);
    // A full page may have more after it: the next tick goes on from its last user id.
    const last = followers.length < followersPerChange;
    const next = followers.at(-1)?.user_id ?? change.followers_after;
    const statements: Statement[] = [claimChangeStatement(ctx.db, { changeId: change.id, claimId, after: change.followers_after, next, last, now: ctx.now })];
    const outboxIds: string[] = [];
    const url = await tenderEmailUrl(ctx, { userId: "", tenderId: change.tender_id, source: "change" });
    for (const f of followers) {
      const prefs = parsePrefs(f.notification_preferences);
      const facts = { name: f.full_name, title: change.title, currency: change.currency, changes: set, timeZone: f.timezone, language: f.language_preference };
      if (wants(prefs, "in_app", "changes")) {
        statements.push(
          notificationIf(
            ctx.db,
            {
              id: newId("ntf", ctx.now.getTime()),
              userId: f.user_id,
              type: "tender_changed",
              ...changeNotice(facts),
              actionUrl: `/tenders/${change.tender_id}`,
              tenderId: change.tender_id,
              createdAt: ctx.now,
              expiresAt: new Date(ctx.now.getTime() + NOTICE_TTL_DAYS * DAY),
            },
            guard,
          ),
        );
        report.notices++;
      }
      if (wants(prefs, "email", "changes")) {
        const link = await tenderEmailUrl(ctx, { userId: f.user_id, tenderId: change.tender_id, source: "change" }).catch(() => url);
        const mail = await outboxInsertIf(ctx, { to: f.email, userId: f.user_id, email: changeEmail(facts, link) }, guard);
        statements.push(mail.statement);
        outboxIds.push(mail.id);
      }
    }
    const [claim] = (await runBatch(ctx, statements as unknown as Statement[])) as unknown as D1Result[];
    if ((claim?.meta.changes ?? 0) === 0) continue; // another tick had it
    report.changes++;
    await enqueueEmails(ctx.env, outboxIds);
    report.emails += outboxIds.length;
  }
  return report;
}
