import { webhookEvent } from "../webhooks/emit";
import { systemOwner } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { isUniqueViolation, runBatch } from "../../platform/db";
import { rateLimit } from "../../platform/rate-limit";
import { outboxInsert, outboxInsertIf } from "../../email/outbox.repo";
import { emails, tokenLink } from "../../email/templates";
import { enqueueEmails } from "../../email/queue";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { toUserOut } from "../users/user.schema";
import { userViewChanged } from "../users/user-view-cache";
import { changeEmail, findUserByEmail, findUserById, userHasEmail } from "../users/users.repo";
import { issueOneTimeToken, revokeOneTimeTokens } from "./one-time-tokens.repo";
import { dropEmailCode } from "./email-codes.repo";
import { verifyPassword } from "./password-hash";
import { requireRecentAuth } from "../../identity/recent-auth";
import { HOUR } from "../../platform/time";

/** Each attempt costs a password hash: bounded per user, before hashing. */
const EMAIL_CHANGE_RATE = { limit: 10, windowSeconds: 3600 };

const taken = () => new AppError("conflict", "An account with this email already exists");

/** `ada@example.com` → `a**@example.com`: enough for the owner to recognise, little for anyone else. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  return `${local.slice(0, 1)}${"*".repeat(Math.max(2, local.length - 1))}${email.slice(at)}`;
}

/**
 * POST /me/email: the password proves it is the account holder (checked before anything about
 * the new address is revealed), then a single-use link goes to the new address. Nothing changes
 * until that link is used (`applyEmailChange`); a newer request replaces the older link.
 */
export async function requestEmailChange(ctx: RequestContext, actor: UserActor, input: { new_email: string; password?: string | undefined }): Promise<void> {
  const { db, now, config, env } = ctx;
  // Without a password in the body, a recent sign-in or step-up is the proof.
  if (input.password === undefined) requireRecentAuth(ctx, actor);
  await rateLimit(env, `email-change:user:${actor.userId}`, EMAIL_CHANGE_RATE);
  const user = await findUserById(db, actor.userId, now);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  if (input.password !== undefined && !(await verifyPassword(input.password, user.passwordHash)).ok) {
    throw new AppError("invalid_credentials", "The password is not correct");
  }
  if (input.new_email === user.email) {
    throw new AppError("validation_failed", "This is already your email address", { errors: [{ path: "new_email", message: "Same as the current address" }] });
  }
  if (await findUserByEmail(db, input.new_email, now)) throw taken();

  const hours = config.EMAIL_VERIFICATION_TTL_HOURS;
  const issued = issueOneTimeToken(db, { userId: user.id, purpose: "email_change", ttlMs: hours * HOUR, data: { new_email: input.new_email } }, now);
  const mail = await outboxInsert(ctx, {
    to: input.new_email,
    userId: user.id,
    email: emails.emailChange({ name: user.fullName, url: tokenLink(config, "verify-email", issued.token), hours }),
  });
  await runBatch(ctx, [
    ...issued.statements,
    mail.statement,
    auditInsert(db, ctx, { userId: user.id, action: "user.email_change_requested", details: { new_email: input.new_email } }),
  ]);
  ctx.waitUntil(enqueueEmails(env, [mail.id]));
}

/**
 * Applies a spent `email_change` token (POST /auth/verify-email): one guarded UPDATE moves the
 * address; the notice to the old address and the audit row are written in the same batch, only
 * if the address moved. A taken address (checked by the statement, and by the unique index
 * against a registration racing it) → 409 `conflict`.
 */
export async function applyEmailChange(ctx: RequestContext, spent: { userId: string; data: Record<string, unknown> }, invalid: () => AppError) {
  const { db, now } = ctx;
  const newEmail = spent.data.new_email;
  if (typeof newEmail !== "string") throw invalid();
  const user = await findUserById(db, spent.userId, now);
  if (!user || user.status !== "active") throw invalid();
  const moved = userHasEmail(user.id, newEmail);
  const notice = await outboxInsertIf(
    ctx,
    { to: user.email, userId: user.id, email: emails.emailChanged({ name: user.fullName, newEmail: maskEmail(newEmail), when: now.toISOString() }) },
    moved,
  );
  let changed: { id: string }[];
  try {
    const results = await runBatch(ctx, [
      changeEmail(db, systemOwner(user.id, "token-link"), newEmail, now),
      notice.statement,
      auditInsertIf(db, ctx, { userId: user.id, action: "user.email_changed", details: { old_email: user.email, new_email: newEmail } }, moved),
      // Whatever was mailed to the old address stops working with it: sign-in codes and links,
      // password-reset and verification links.
      dropEmailCode(db, user.id, moved),
      revokeOneTimeTokens(db, user.id, "password_reset", moved),
      revokeOneTimeTokens(db, user.id, "email_verification", moved),
      ...(await webhookEvent(ctx, { type: "user.updated", scope: "platform", data: { id: user.id, fields: ["email"], email: newEmail } }, moved)),
    ]);
    changed = results[0];
  } catch (err) {
    if (isUniqueViolation(err, "users.email")) throw taken();
    throw err;
  }
  if (changed.length === 0) {
    const holder = await findUserByEmail(db, newEmail, now);
    if (holder && holder.id !== user.id) throw taken();
    throw invalid();
  }
  userViewChanged(user.id);
  ctx.waitUntil(enqueueEmails(ctx.env, [notice.id]));
  const updated = await findUserById(db, user.id, now);
  return { user: toUserOut(updated!) };
}
