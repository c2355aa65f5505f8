import { ownerOf, systemOwner, type Owner } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import { publishRevokedKeys } from "../../identity/api-key-credentials";
import { runBatch, type Statement } from "../../platform/db";
import type { Config } from "../../platform/config";
import type { RequestContext } from "../../platform/context";
import { sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { signInGuard } from "../../platform/sign-in-guard-client";
import { outboxInsert } from "../../email/outbox.repo";
import { emails, tokenLink } from "../../email/templates";
import { enqueueEmails } from "../../email/queue";
import { auditInsert } from "../../audit/audit.repo";
import { apiKeysRepo } from "../api-keys/api-keys.repo";
import { userViewChanged } from "../users/user-view-cache";
import { findUserByEmail, findUserById, markEmailVerified, recentPasswordHashes, setPasswordStatements, type UserWithRoles } from "../users/users.repo";
import { loginGuardKey, signInProven } from "./login.service";
import { hasPassword } from "../../identity/sign-in-methods";
import { consumeOneTimeToken, issueOneTimeToken, peekOneTimeToken, revokeOneTimeTokens } from "./one-time-tokens.repo";
import { hashPassword, verifyPassword } from "./password-hash";
import { checkPassword, loadCommonPasswords } from "./password-policy";
import { MINUTE } from "../../platform/time";
import { endSessions } from "../sessions/sessions.service";

/** Throws 422 `weak_password` listing every rule the password breaks. */
export async function assertPasswordAcceptable(config: Config, password: string, context: { email: string; fullName: string }): Promise<void> {
  await loadCommonPasswords();
  const problems = checkPassword(password, context, {
    minLength: config.PASSWORD_MIN_LENGTH,
    maxLength: config.PASSWORD_MAX_LENGTH,
    requireClasses: config.PASSWORD_REQUIRE_CLASSES,
  });
  if (problems.length > 0) {
    throw new AppError("weak_password", problems.map((p) => p.message).join(" "), {
      errors: problems.map((p) => ({ path: "password", message: p.message, rule: p.rule })) as { path: string; message: string }[],
    });
  }
}

/**
 * Throws 422 `password_reused` when `password` matches one of the last N hashes (current
 * included). Costs one password verification per remembered hash: acceptable on this rare path.
 */
async function assertNotReused(ctx: RequestContext, userId: Owner, password: string): Promise<void> {
  const count = ctx.config.PASSWORD_HISTORY_COUNT;
  if (count === 0) return;
  const hashes = await recentPasswordHashes(ctx.db, userId, count);
  for (const { hash } of hashes) {
    if ((await verifyPassword(password, hash)).ok) {
      throw new AppError("password_reused", `Choose a password you have not used for your last ${count} passwords`, {
        errors: [{ path: "new_password", message: "Password was used recently" }],
      });
    }
  }
}

/** Policy, history, then the hash of an acceptable new password. */
async function newPasswordHash(ctx: RequestContext, owner: Owner, user: UserWithRoles, newPassword: string): Promise<string> {
  await assertPasswordAcceptable(ctx.config, newPassword, { email: user.email, fullName: user.fullName });
  await assertNotReused(ctx, owner, newPassword);
  return hashPassword(newPassword);
}

/**
 * New hash + history + lockout cleared, sessions ended, every API key revoked, "password changed"
 * email, audit: one batch. The keys go too (a choice, README "Passwords and API keys"): whoever
 * knew the old password could have made a key, and a key would outlive the password it came
 * from; integrators get new keys after a change, and the email says so. The revoked keys are
 * tombstoned in this isolate and in KV, so they fail on the next request, everywhere.
 */
async function replacePassword(
  ctx: RequestContext,
  owner: Owner,
  user: UserWithRoles,
  hash: string,
  opts: { keepSession: string | null; action: "auth.password_changed" | "auth.password_reset"; extra?: Statement[] },
): Promise<void> {
  const { db, now, config } = ctx;
  const mail = await outboxInsert(ctx, {
    to: user.email,
    userId: user.id,
    email: emails.passwordChanged({ name: user.fullName, when: now.toISOString(), ip: ctx.ip }),
  });
  let revokedKeys: { keyHash: string }[] = [];
  await endSessions(
    ctx,
    owner,
    opts.keepSession ? { allExcept: opts.keepSession } : {},
    opts.action === "auth.password_changed" ? "password_changed" : "password_reset",
    { userId: user.id, action: opts.action },
    [
      apiKeysRepo(db, owner).revokeAll(now),
      ...(opts.extra ?? []),
      ...setPasswordStatements(db, owner, hash, Math.max(config.PASSWORD_HISTORY_COUNT, 1), now),
      // A pending second step was opened with the old password: it must not outlive it.
      revokeOneTimeTokens(db, user.id, "mfa_login"),
      mail.statement,
    ],
    (results) => {
      revokedKeys = results[0] as { keyHash: string }[];
    },
  );
  await publishRevokedKeys(ctx, revokedKeys.map((k) => k.keyHash));
  // The new password is proven: the email's failure count and lock start again.
  await signInGuard(ctx.env, loginGuardKey(user.email)).succeed();
  ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
}

/** POST /auth/password/change: current password required; every other session ends. */
export async function changePassword(
  ctx: RequestContext,
  actor: UserActor,
  input: { current_password: string; new_password: string },
): Promise<void> {
  const { userId, sessionId } = actor;
  // Each attempt costs a password hash: bound them per user.
  await rateLimit(ctx.env, `password-change:user:${userId}`, { limit: 10, windowSeconds: 3600 });
  const user = await findUserById(ctx.db, userId, ctx.now);
  if (!user) throw new AppError("unauthenticated");
  if (!(await verifyPassword(input.current_password, user.passwordHash)).ok) {
    throw new AppError("invalid_credentials", "The current password is not correct");
  }
  const owner = ownerOf(actor);
  const hash = await newPasswordHash(ctx, owner, user, input.new_password);
  await replacePassword(ctx, owner, user, hash, { keepSession: sessionId, action: "auth.password_changed" });
}

/**
 * POST /auth/password/forgot: always 202. The lookup and the email happen after the response,
 * so neither the answer nor its timing tells whether the account exists.
 */
export async function forgotPassword(ctx: RequestContext, email: string): Promise<void> {
  // The IP first: a caller refused there spends nothing of the address's budget.
  await rateLimitIp(ctx, "forgot", ctx.config.RATE_FORGOT_PER_IP);
  await rateLimit(ctx.env, `forgot:email:${sha256Hex(email)}`, ctx.config.RATE_FORGOT_PER_EMAIL);
  ctx.waitUntil(
    (async () => {
      const { db, now, config } = ctx;
      const user = await findUserByEmail(db, email, now);
      if (!user || user.status !== "active") return;
      const issued = issueOneTimeToken(db, { userId: user.id, purpose: "password_reset", ttlMs: config.PASSWORD_RESET_TTL_MINUTES * MINUTE }, now);
      const mail = await outboxInsert(ctx, {
          to: user.email,
          userId: user.id,
          email: emails.passwordReset({
            name: user.fullName,
            url: tokenLink(config, "reset-password", issued.token),
            minutes: config.PASSWORD_RESET_TTL_MINUTES,
          }),
      });
      await runBatch(ctx, [...issued.statements, mail.statement, auditInsert(db, ctx, { userId: user.id, action: "auth.password_reset_requested" })]);
      await enqueueEmails(ctx.env, [mail.id]);
    })().catch((err) => log.error("forgot password failed", {}, err)),
  );
}

const invalidResetToken = () =>
  new AppError("validation_failed", "The reset link is invalid or has expired", {
    status: 400,
    errors: [{ path: "token", message: "Invalid or expired token" }],
  });

/**
 * POST /auth/password/reset: the new password is checked before the token is spent (a weak
 * password keeps the link usable); the token is then spent by a guarded DELETE, so it works once.
 */
export async function resetPassword(ctx: RequestContext, input: { token: string; new_password: string }): Promise<void> {
  const { db, now } = ctx;
  const pending = await peekOneTimeToken(db, input.token, "password_reset", now);
  if (!pending) throw invalidResetToken();
  const user = await findUserById(db, pending.userId, now);
  if (!user) throw invalidResetToken();
  const owner = systemOwner(user.id, "token-link");
  const hash = await newPasswordHash(ctx, owner, user, input.new_password);
  const spent = await consumeOneTimeToken(db, input.token, "password_reset", now);
  if (!spent) throw invalidResetToken();
  // A set-password link for an account an administrator created: it reached the inbox, so
  // setting the password also verifies the email.
  // The bootstrap address's reset link proves its mailbox too (identity/bootstrap-admin.ts).
  const bootstrap = ctx.config.BOOTSTRAP_ADMIN_EMAIL !== undefined && ctx.config.BOOTSTRAP_ADMIN_EMAIL === user.email;
  const verifies = (spent.data.verifies_email === true || bootstrap) && !user.emailVerified;
  await replacePassword(ctx, owner, user, hash, { keepSession: null, action: "auth.password_reset", extra: verifies ? [markEmailVerified(db, owner, now)] : [] });
  if (verifies) userViewChanged(user.id);
  // The deployment's first administrator (identity/bootstrap-admin.ts): the mailbox is proven and
  // the password just set is now the account's only one (every session ended, keys revoked).
  if (bootstrap) {
    await (await import("../../identity/bootstrap-admin")).ensureBootstrapAdmin(ctx);
  }
}

/** Whether a set-password link may also sign in without a password: the account has none yet. */
export async function setPasswordLinkSignsIn(ctx: RequestContext, token: string): Promise<boolean> {
  const pending = await peekOneTimeToken(ctx.db, token, "password_reset", ctx.now);
  if (!pending) return false;
  const user = await findUserById(ctx.db, pending.userId, ctx.now);
  return user !== undefined && !hasPassword(user.passwordHash);
}

/**
 * The set-password page's "sign in without a password" button, for an account an administrator
 * created or imported without one: spends the link and signs in (the same path as every
 * sign-in; the link proved the mailbox), so the user can add a passkey or use emailed codes
 * instead. The account stays without a password. A link of an account with a password → 400.
 */
export async function signInWithSetPasswordLink(ctx: RequestContext, token: string) {
  const { db, now } = ctx;
  const pending = await peekOneTimeToken(db, token, "password_reset", now);
  const user = pending ? await findUserById(db, pending.userId, now) : undefined;
  if (!user || hasPassword(user.passwordHash)) throw invalidResetToken();
  const spent = await consumeOneTimeToken(db, token, "password_reset", now);
  if (!spent) throw invalidResetToken();
  return signInProven(ctx, user, { method: "email_link", mailboxProven: true });
}
