/**
 * BOOTSTRAP_ADMIN_EMAIL (issue 19, point 7): a fresh deployment's first administrator. The account
 * with exactly that address holds `superuser` once its address is verified: at once when it is
 * verified through the emailed link, and at every cron tick (an account verified another way, or
 * already verified when the variable was set). Idempotent; an unverified account gets nothing;
 * while the variable is set, removing the role is undone at the next tick (unset it first).
 */
import type { ServiceContext } from "../platform/context";
import type { Db, Statement } from "../platform/db";
import { runBatch } from "../platform/db";
import { accountIdByEmail, bootstrapAdminStatements } from "./bootstrap-admin.repo";

/** The grant's statements for `userId` when its address is the bootstrap address; none otherwise. */
export function bootstrapAdminFor(ctx: Pick<ServiceContext, "config" | "now"> & { db: Db }, account: { userId: string; email: string }): Statement[] {
  const target = ctx.config.BOOTSTRAP_ADMIN_EMAIL;
  if (!target || account.email !== target) return [];
  return bootstrapAdminStatements(ctx.db, account, ctx.now);
}

/** The cron's check: grants the role when due; whether it granted now. */
export async function ensureBootstrapAdmin(ctx: Pick<ServiceContext, "db" | "config" | "now">): Promise<boolean> {
  const email = ctx.config.BOOTSTRAP_ADMIN_EMAIL;
  if (!email) return false;
  const userId = await accountIdByEmail(ctx.db, email);
  if (!userId) return false;
  const [audit] = (await runBatch(ctx, bootstrapAdminStatements(ctx.db, { userId, email }, ctx.now))) as unknown as D1Result[];
  return (audit?.meta.changes ?? 0) > 0;
}
