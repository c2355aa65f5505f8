import { sql } from "drizzle-orm";
import type { UserActor } from "../../identity/actor";
import { systemOwner } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { runBatch } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { auditInsertIf } from "../../audit/audit.repo";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails } from "../../email/templates";
import { mfaRepo } from "../auth/mfa.repo";
import { passkeySummary, removeAllPasskeysIf } from "../auth/passkeys.repo";
import { userViewChanged } from "../users/user-view-cache";
import { findUserById, setTwoFactorEnabledIf } from "../users/users.repo";
import { revokeSessionsOf } from "../sessions/sessions.repo";
import { isSuperuserActor, publishEndedSessions, targetGuard } from "./admin-lifecycle.service";

/**
 * The sign-in methods of a user, for the admin view: password set, passkeys (count, last use),
 * TOTP, and whether email codes may be used (PASSWORDLESS_EMAIL, true unless turned off).
 */
export function signInMethodsOf(
  ctx: RequestContext,
  user: { passwordSet: boolean; twoFactorEnabled: boolean },
  passkeys: { count: number; lastUsedAt: Date | number | null } | undefined,
) {
  const lastUsed = passkeys?.lastUsedAt ?? null;
  return {
    password: user.passwordSet,
    passkeys: { count: passkeys?.count ?? 0, last_used_at: lastUsed === null ? null : new Date(lastUsed).toISOString() },
    totp: user.twoFactorEnabled,
    // PASSWORDLESS_EMAIL belongs to the email-code sign-in; absent here means allowed.
    email_codes: (ctx.config as { PASSWORDLESS_EMAIL?: boolean }).PASSWORDLESS_EMAIL !== false,
  };
}

/**
 * POST /admin/users/{id}/reset-factors: for a user who lost their second factors. Removes TOTP
 * (secret and backup codes) and every passkey, and ends every session (a lost device may hold
 * one), in one batch with its audit row and the email to the user; every statement carries the superuser line (not the actor itself; a superuser's
 * factors only by a superuser), so a target that changed since the read is left alone.
 */
export async function resetFactors(ctx: RequestContext, actor: UserActor, userId: string): Promise<void> {
  const { db, now } = ctx;
  const user = await findUserById(db, userId, now);
  if (!user) throw new AppError("not_found", "User not found");
  if (userId === actor.userId) throw new AppError("forbidden", "Administrators cannot reset their own factors through /admin");
  const guard = targetGuard(ctx, actor)(sql`${userId}`);
  const summary = await passkeySummary(db, userId);
  const owner = systemOwner(userId, "admin");
  const mail = await outboxInsertIf(ctx, { to: user.email, userId, email: emails.factorsReset({ name: user.fullName, when: now.toISOString() }) }, guard);
  const [audit, ended] = await runBatch(ctx, [
    auditInsertIf(db, ctx, { userId, actorId: actor.userId, action: "admin.factors_reset", details: { totp: user.twoFactorEnabled, passkeys: summary?.count ?? 0 } }, guard),
    // A lost or stolen device may still hold a session: every session ends with the factors.
    revokeSessionsOf(db, JSON.stringify([userId]), "admin_factors_reset", now, () => guard),
    ...mfaRepo(db, owner).removeAllIf(guard),
    removeAllPasskeysIf(db, userId, guard),
    setTwoFactorEnabledIf(db, owner, false, now, guard),
    mail.statement,
  ]);
  if ((audit as D1Result).meta.changes === 0) {
    throw new AppError("forbidden", isSuperuserActor(actor) ? "This user cannot be changed through /admin" : "Only a superuser resets a superuser's factors");
  }
  await publishEndedSessions(ctx, ended);
  userViewChanged(userId);
  ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
}
