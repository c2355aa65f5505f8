/**
 * BOOTSTRAP_ADMIN_EMAIL (issue 19, point 7): a fresh deployment's first administrator. The account
 * with exactly that address gets `superuser` only when the person who reads that mailbox has just
 * proven it AND holds the account's only credential:
 * - completing a password reset (the emailed link; it ends every session, revokes API keys and
 *   replaces whatever password anyone set before), or
 * - verifying the address through the emailed link of an account with no password (nobody else
 *   holds a credential for it: an unverified account cannot sign in to add one).
 * Never by a cron tick and never by an administrator marking the address verified (they could
 * have chosen its password), never to a password chosen before the mailbox was proven (a stranger
 * registering the address first), and only while no account holds `superuser` at all.
 */
import type { ServiceContext } from "../platform/context";
import { runBatch } from "../platform/db";
import { accountIdByEmail, bootstrapAdminStatements } from "./bootstrap-admin.repo";

/** Grants the role when due (see above: call it only from the two proven paths); whether it granted now. */
export async function ensureBootstrapAdmin(ctx: Pick<ServiceContext, "db" | "config" | "now">): Promise<boolean> {
  const email = ctx.config.BOOTSTRAP_ADMIN_EMAIL;
  if (!email) return false;
  const userId = await accountIdByEmail(ctx.db, email);
  if (!userId) return false;
  const [audit] = (await runBatch(ctx, bootstrapAdminStatements(ctx.db, { userId, email }, ctx.now))) as unknown as D1Result[];
  return (audit?.meta.changes ?? 0) > 0;
}
