import { sql } from "drizzle-orm";
import type { notifications } from "../../../db/tables";
import { runBatch } from "../../../platform/db";
import { insertNotificationIf } from "../../notifications/notifications.repo";
import { newId } from "../../../platform/ids";
import { DAY } from "../../../platform/time";
import type { Channel } from "./channel";

/** In-app notifications expire (and the cron purges them) after this many days, like alert matches'. */
const IN_APP_TTL_DAYS = 90;

/** In-app: a notifications row (GET /me/notifications). */
export const inAppChannel: Channel = {
  name: "in_app",
  accepts: (r) => r.prefs.in_app,
  async prepare(ctx, r, message, guard) {
    const row = {
      id: newId("ntf", ctx.now.getTime()),
      userId: r.userId,
      type: message.type,
      title: message.inApp.title,
      message: message.inApp.message,
      actionUrl: message.inApp.actionUrl,
      relatedTenderId: message.tenderId,
      relatedAlertId: message.alertId,
      isRead: false,
      deliveryMethod: "in_app",
      createdAt: ctx.now,
      expiresAt: new Date(ctx.now.getTime() + IN_APP_TTL_DAYS * DAY),
    } satisfies typeof notifications.$inferInsert;
    return { statements: [insertNotificationIf(ctx.db, row, guard)], notificationIds: [row.id] };
  },
  async deliver(ctx, r, message) {
    const p = await this.prepare(ctx, r, message, sql`1`);
    const results = (await runBatch(ctx, p.statements)) as D1Result[];
    return (results[0]?.meta.changes ?? 0) > 0;
  },
};
