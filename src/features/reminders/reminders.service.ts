import type { ServiceContext } from "../../platform/context";
import { newId } from "../../platform/ids";
import { MAX_REMINDER_DAY } from "../profile/profile.schemas";
import { reminderMessage } from "./messages";
import { dueRemindersQuery, markWritten, recordMarkStatement, type DueReminderRow } from "./reminders.repo";

/** Reminders read per page, and pages per cron tick: bounded work, the rest waits for the next tick. */
export const REMINDERS_PER_PAGE = 100;
export const REMINDER_PAGES_PER_TICK = 10;
/** Reminders delivered at once (each is one recipient read and one batch). */
const PARALLEL_REMINDERS = 10;
/** In-app change notices expire like alert notifications. */
export const NOTICE_TTL_DAYS = 90;

export type ReminderReport = { sent: number; emails: number; pages: number };

/**
 * The reminders due at this tick (issue 19, point 4), each through the channel dispatcher
 * (`deliverNotification`: preferences, quiet hours, catalogue in the user's language and zone,
 * live push and notification.created webhook) with the mark as its claim: the mark (unique per
 * user, tender and mark, fresh id) goes first in the batch and every delivery is written only if
 * that insert took effect, so a rerun or a concurrent tick writes nothing more. A reminder held by
 * quiet hours writes nothing (not even the mark) and is sent by a tick after they end; this tick
 * leaves it out of its later pages. Each page leaves out what was sent, so paging is re-reading.
 */
export async function sendDueReminders(ctx: ServiceContext): Promise<ReminderReport> {
  const report: ReminderReport = { sent: 0, emails: 0, pages: 0 };
  const held: string[] = [];
  // Loaded on first use: the dispatcher and the catalogue stay out of the worker's startup modules.
  const { deliverNotification } = await import("../alert-delivery/channels/dispatcher");
  const sendReminder = (row: DueReminderRow) => {
    const markId = newId("rmd", ctx.now.getTime());
    return deliverNotification(ctx, {
      userId: row.user_id,
      type: "reminder",
      tenderId: row.tender_id,
      claim: { statement: recordMarkStatement(ctx.db, { id: markId, userId: row.user_id, tenderId: row.tender_id, markDays: row.mark, sentAt: ctx.now }), won: markWritten(markId) },
      compose: async (f) =>
        reminderMessage(f, { title: row.title, closingDate: row.closing_date, markDays: row.mark }, { id: row.tender_id, emailUrl: await f.tenderUrl(row.tender_id, "reminder") }),
    });
  };
  for (let page = 0; page < REMINDER_PAGES_PER_TICK; page++) {
    const due = await dueRemindersQuery(ctx.db, ctx.now, MAX_REMINDER_DAY, REMINDERS_PER_PAGE, held);
    report.pages++;
    if (due.length === 0) break;
    for (let i = 0; i < due.length; i += PARALLEL_REMINDERS) {
      const outcomes = await Promise.all(due.slice(i, i + PARALLEL_REMINDERS).map((row) => sendReminder(row)));
      for (const [j, outcome] of outcomes.entries()) {
        const row = due[i + j]!;
        if (outcome.status === "delivered") {
          report.sent++;
          if (outcome.channels.includes("email")) report.emails++;
        } else if (outcome.status === "deferred" || outcome.status === "skipped") {
          held.push(`${row.user_id} ${row.tender_id}`);
        }
      }
    }
    if (due.length < REMINDERS_PER_PAGE) break;
  }
  return report;
}
