import { sql } from "drizzle-orm";
import { outboxInsertIf } from "../../../email/outbox.repo";
import { enqueueEmails } from "../../../email/queue";
import { runBatch } from "../../../platform/db";
import { emailAllowed } from "../notification-prefs";
import type { Channel } from "./channel";

/** Email through the transactional outbox: the row commits with the caller's batch, then goes to the email queue. */
export const emailChannel: Channel = {
  name: "email",
  accepts: (r, type) => !r.emailSuppressed && emailAllowed(r.prefs, type),
  async prepare(ctx, r, message, guard) {
    const mail = await outboxInsertIf(ctx, { to: r.email, userId: r.userId, email: message.email }, guard);
    return {
      statements: [mail.statement],
      after: async ([result]) => {
        if ((result?.meta.changes ?? 0) > 0) await enqueueEmails(ctx.env, [mail.id]);
      },
    };
  },
  async deliver(ctx, r, message) {
    const p = await this.prepare(ctx, r, message, sql`1`);
    const results = (await runBatch(ctx, p.statements)) as D1Result[];
    await p.after?.(results);
    return (results[0]?.meta.changes ?? 0) > 0;
  },
};
