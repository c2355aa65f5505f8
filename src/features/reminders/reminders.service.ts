import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import type { ServiceContext } from "../../platform/context";
import { runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { DAY } from "../../platform/time";
import { tenderEmailUrl } from "../alert-delivery/tender-links";
import { MAX_REMINDER_DAY } from "../profile/profile.schemas";
import { parsePrefs, reminderEmail, reminderNotice, wants } from "./messages";
import { dueRemindersQuery, markWritten, notificationIf, recordMarkStatement, type DueReminderRow } from "./reminders.repo";

/** Reminders read per page, and pages per cron tick: bounded work, the rest waits for the next tick. */
export const REMINDERS_PER_PAGE = 100;
export const REMINDER_PAGES_PER_TICK = 10;
/** In-app reminders and change notices expire like alert notifications. */
export const NOTICE_TTL_DAYS = 90;

export type ReminderReport = { sent: number; emails: number; pages: number };

/**
 * The reminders due at this tick (issue 19, point 4): for each, in one batch, the mark (unique
 * per user, tender and mark) and, guarded by that insert, the in-app notification and the email
 * as the user's notification_preferences allow. A rerun, or a concurrent tick, finds the mark
 * taken and writes nothing more. Each page leaves out what was sent, so paging is re-reading.
 */
export async function sendDueReminders(ctx: ServiceContext): Promise<ReminderReport> {
  const report: ReminderReport = { sent: 0, emails: 0, pages: 0 };
  for (let page = 0; page < REMINDER_PAGES_PER_TICK; page++) {
    const due = await dueRemindersQuery(ctx.db, ctx.now, MAX_REMINDER_DAY, REMINDERS_PER_PAGE);
    report.pages++;
    if (due.length === 0) break;
    const parts = await Promise.all(due.map((row) => reminderStatements(ctx, row)));
    const results = (await runBatch(ctx, parts.flatMap((p) => p.statements) as unknown as Statement[])) as unknown as D1Result[];
    const written: string[] = [];
    let at = 0;
    for (const p of parts) {
      if ((results[at]?.meta.changes ?? 0) > 0) {
        report.sent++;
        if (p.outboxId) written.push(p.outboxId);
      }
      at += p.statements.length;
    }
    await enqueueEmails(ctx.env, written);
    report.emails += written.length;
    if (due.length < REMINDERS_PER_PAGE) break;
  }
  return report;
}

async function reminderStatements(ctx: ServiceContext, row: DueReminderRow): Promise<{ statements: Statement[]; outboxId?: string }> {
  const markId = newId("rmd", ctx.now.getTime());
  const prefs = parsePrefs(row.notification_preferences);
  const facts = { name: row.full_name, title: row.title, closingDate: row.closing_date, markDays: row.mark, timeZone: row.timezone, language: row.language_preference };
  const statements: Statement[] = [recordMarkStatement(ctx.db, { id: markId, userId: row.user_id, tenderId: row.tender_id, markDays: row.mark, sentAt: ctx.now })];
  if (wants(prefs, "in_app", "reminders")) {
    const notice = reminderNotice(facts);
    statements.push(
      notificationIf(
        ctx.db,
        {
          id: newId("ntf", ctx.now.getTime()),
          userId: row.user_id,
          type: "reminder",
          ...notice,
          actionUrl: `/tenders/${row.tender_id}`,
          tenderId: row.tender_id,
          createdAt: ctx.now,
          expiresAt: new Date(ctx.now.getTime() + NOTICE_TTL_DAYS * DAY),
        },
        markWritten(markId),
      ),
    );
  }
  if (!wants(prefs, "email", "reminders")) return { statements };
  const url = await tenderEmailUrl(ctx, { userId: row.user_id, tenderId: row.tender_id, source: "reminder" });
  const mail = await outboxInsertIf(ctx, { to: row.email, userId: row.user_id, email: reminderEmail(facts, url) }, markWritten(markId));
  statements.push(mail.statement);
  return { statements, outboxId: mail.id };
}
