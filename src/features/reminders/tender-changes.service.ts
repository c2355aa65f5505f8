import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import type { ServiceContext } from "../../platform/context";
import { runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { DAY } from "../../platform/time";
import { tenderEmailUrl } from "../alert-delivery/tender-links";
import { emailAllowed, readNotificationPrefs } from "../alert-delivery/notification-prefs";
import { afterNotificationsWritten, notificationFanoutStatements } from "../notifications/notification-fanout";
import { changeMessage, type ChangeSet } from "./messages";
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
 * notification_preferences allow, read as the channel dispatcher reads them), worded from the
 * message catalogue in the follower's language and zone, with the notification.created webhook
 * events of the notices; once committed, the emails are queued and the notices pushed live.
 * A rerun or concurrent tick finds it claimed. Not through `deliverNotification`: its claim is
 * per page of followers (one batch), which a per-recipient claim would turn into a batch per
 * follower; so quiet hours do not hold change emails (a held page could not be resumed).
 */
export async function fanOutTenderChanges(ctx: ServiceContext, followersPerChange = FOLLOWERS_PER_CHANGE): Promise<ChangeReport> {
  const report: ChangeReport = { changes: 0, notices: 0, emails: 0 };
  const pending = await pendingChangesQuery(ctx.db, CHANGES_PER_TICK);
  if (pending.length === 0) return report;
  // Loaded on first use: the catalogue and the renderer stay out of the worker's startup modules.
  const [{ readerFormat }, { renderComposed }] = await Promise.all([import("../alert-delivery/alert-emails"), import("../alert-delivery/channels/dispatcher")]);
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
    const notificationIds: string[] = [];
    for (const f of followers) {
      const prefs = readNotificationPrefs(f.notification_preferences);
      const inApp = prefs.in_app;
      const email = emailAllowed(prefs, "tender_changed");
      if (!inApp && !email) continue;
      const format = readerFormat({ timeZone: f.timezone, language: f.language_preference });
      // The in-app notice links to /tenders/{id}; only the email carries the signed, per-user link.
      const link = email ? await tenderEmailUrl(ctx, { userId: f.user_id, tenderId: change.tender_id, source: "change" }) : "";
      const composed = changeMessage(format, { title: change.title, currency: change.currency, changes: set }, { id: change.tender_id, emailUrl: link });
      const rendered = renderComposed(format, f.full_name, "tender_changed", composed);
      if (inApp) {
        const id = newId("ntf", ctx.now.getTime());
        statements.push(
          notificationIf(
            ctx.db,
            {
              id,
              userId: f.user_id,
              type: "tender_changed",
              title: rendered.inApp.title,
              message: rendered.inApp.message,
              actionUrl: rendered.inApp.actionUrl ?? `/tenders/${change.tender_id}`,
              tenderId: change.tender_id,
              createdAt: ctx.now,
              expiresAt: new Date(ctx.now.getTime() + NOTICE_TTL_DAYS * DAY),
            },
            guard,
          ),
        );
        notificationIds.push(id);
        report.notices++;
      }
      if (email) {
        const mail = await outboxInsertIf(ctx, { to: f.email, userId: f.user_id, email: rendered.email }, guard);
        statements.push(mail.statement);
        outboxIds.push(mail.id);
      }
    }
    const fanoutAt = statements.length;
    statements.push(...notificationFanoutStatements(ctx, notificationIds));
    const results = (await runBatch(ctx, statements as unknown as Statement[])) as unknown as D1Result[];
    if ((results[0]?.meta.changes ?? 0) === 0) continue; // another tick had it
    report.changes++;
    await enqueueEmails(ctx.env, outboxIds);
    report.emails += outboxIds.length;
    await afterNotificationsWritten(ctx, notificationIds, results.slice(fanoutAt));
  }
  return report;
}
