import { systemOwner } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { isUniqueViolation, runBatch, type Statement } from "../../platform/db";
import { newId } from "../../platform/ids";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { outboxInsert } from "../../email/outbox.repo";
import { emails, tokenLink } from "../../email/templates";
import { suppressionsRepo } from "../../email/suppressions.repo";
import { enqueueEmails } from "../../email/queue";
import { auditInsert } from "../../audit/audit.repo";
import { webhookEventInBatch } from "../webhooks/emit";
import { registrationConsents } from "../consents/consents.service";
import { toUserOut, type UserOut } from "../users/user.schema";
import { userViewChanged } from "../users/user-view-cache";
import { findUserByEmail, findUserById, insertUserStatements, markEmailVerified } from "../users/users.repo";
import type { RegisterInput } from "./auth.schemas";
import type { z } from "@hono/zod-openapi";
import { applyEmailChange } from "./email-change.service";
import { consumeOneTimeToken, issueOneTimeToken } from "./one-time-tokens.repo";
import { hashPassword } from "./password-hash";
import { assertPasswordAcceptable } from "./passwords.service";
import { HOUR } from "../../platform/time";
import { hasPassword, NO_PASSWORD } from "../../identity/sign-in-methods";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";
import { signInProven } from "./login.service";
import { peekOneTimeToken } from "./one-time-tokens.repo";

/** The verification email and its single-use token, as statements for the caller's batch. */
async function verificationEmail(ctx: RequestContext, user: { id: string; email: string; fullName: string }, opts: { newUser?: boolean } = {}) {
  const { config, now, db } = ctx;
  const issued = issueOneTimeToken(
    db,
    // A user created in this very batch has no earlier link to replace: no DELETE.
    { userId: user.id, purpose: "email_verification", ttlMs: config.EMAIL_VERIFICATION_TTL_HOURS * HOUR, replace: !opts.newUser },
    now,
  );
  const mail = await outboxInsert(ctx, {
      to: user.email,
      userId: user.id,
      email: emails.verification({
        name: user.fullName,
        url: tokenLink(config, "verify-email", issued.token),
        hours: config.EMAIL_VERIFICATION_TTL_HOURS,
      }),
  });
  return { statements: [...issued.statements, mail.statement] as Statement[], outboxId: mail.id };
}

/**
 * Registers a user: policy-checked password, hash, user + profile + preferences + history +
 * verification token + email + audit in one batch. 409 `conflict` when the email is taken: the
 * unique index on users.email decides, in the batch (no SELECT before it, none after it: the
 * answer is built from the values written and the columns' defaults). A taken address thus
 * spends the hash like a free one.
 */
export async function register(ctx: RequestContext, input: z.infer<typeof RegisterInput>) {
  const { db, now, config, env } = ctx;
  await rateLimitIp(ctx, "register", config.RATE_REGISTER_PER_IP);
  // Without a password the account is passwordless (NO_PASSWORD): it signs in by emailed code,
  // its verification link, or a passkey it adds.
  if (input.password !== undefined) await assertPasswordAcceptable(config, input.password, { email: input.email, fullName: input.full_name });

  const id = newId("usr", now.getTime());
  const consents = registrationConsents(ctx, db, systemOwner(id, "sign-up"), input);
  // A Server-Timing phase, like the login's: what a registration costs beyond the hash is then read per request (bench:login-ab OP=register).
  const password = input.password;
  const passwordHash = password !== undefined ? await ctx.timed("hash", () => hashPassword(password)) : NO_PASSWORD;
  const verification = await verificationEmail(ctx, { id, email: input.email, fullName: input.full_name }, { newUser: true });
  // No read before the batch: the event is written there only if a platform endpoint listens.
  const created = await webhookEventInBatch(ctx, { type: "user.created", scope: "platform", data: { user: { id, email: input.email, full_name: input.full_name, created_at: now.toISOString() }, via: "registration" } });
  const change = [
    ...insertUserStatements(db, { id, email: input.email, passwordHash, fullName: input.full_name, phone: input.phone ?? null, emailVerified: false }, now),
    ...verification.statements,
    auditInsert(db, ctx, { userId: id, action: "user.registered", details: { method: input.password !== undefined ? "password" : "passwordless" } }),
    ...consents,
  ];
  try {
    const results = await runBatch(ctx, [...change, ...created.statements]);
    created.committed(results.slice(change.length));
  } catch (err) {
    // Two registrations racing for one email: the unique index decides.
    if (isUniqueViolation(err, "users.email")) throw new AppError("conflict", "An account with this email already exists");
    throw err;
  }
  ctx.waitUntil(enqueueEmails(env, [verification.outboxId]));
  // The row just written, as GET /me shows it: its values and the columns' defaults (a new user
  // holds no role but the implicit one).
  const user: UserOut = {
    id,
    email: input.email,
    email_verified: false,
    full_name: input.full_name,
    phone: input.phone ?? null,
    status: "active",
    account_type: "free",
    two_factor_enabled: false,
    roles: [IMPLICIT_ROLE],
    created_at: now.toISOString(),
    last_login_at: null,
  };
  return { user, verification_required: config.REQUIRE_EMAIL_VERIFICATION };
}

const invalidVerification = () =>
  new AppError("validation_failed", "The verification link is invalid or has expired", {
    status: 400,
    errors: [{ path: "token", message: "Invalid or expired token" }],
  });

/**
 * Spends a verification token and marks the email verified; or, for the link of an email change
 * (POST /me/email), moves the account to the new address. Bad or expired → 400.
 */
export async function verifyEmail(ctx: RequestContext, token: string) {
  const { db, now } = ctx;
  const spent = await consumeOneTimeToken(db, token, "email_verification", now);
  if (!spent) {
    const change = await consumeOneTimeToken(db, token, "email_change", now);
    if (change) return applyEmailChange(ctx, change, invalidVerification);
    throw invalidVerification();
  }
  await runBatch(ctx, [
    markEmailVerified(db, systemOwner(spent.userId, "token-link"), now),
    auditInsert(db, ctx, { userId: spent.userId, action: "user.email_verified" }),
    // Verifying the address again lifts a suppression of it (the provider refused it earlier).
    suppressionsRepo(db).lift(spent.userId),
  ]);
  userViewChanged(spent.userId);
  const user = await findUserById(db, spent.userId, now);
  if (!user) throw invalidVerification();
  // The deployment's first administrator: a passwordless account whose mailbox was just proven
  // (identity/bootstrap-admin.ts; an account with a password goes through a password reset).
  // Loaded on first use only (the startup bundle's budget): most deployments never set it.
  if (ctx.config.BOOTSTRAP_ADMIN_EMAIL && !hasPassword(user.passwordHash)) {
    await (await import("../../identity/bootstrap-admin")).ensureBootstrapAdmin(ctx);
    return { user: toUserOut((await findUserById(db, spent.userId, now)) ?? user) };
  }
  return { user: toUserOut(user) };
}

/**
 * Sends a new verification email when the account exists and is unverified, or its address is
 * suppressed (verifying it again lifts the suppression). The caller answers
 * 202 either way, and the work runs after the response, so timing does not reveal the account.
 */
export async function resendVerification(ctx: RequestContext, email: string): Promise<void> {
  // The IP first: a caller refused there spends nothing of the address's budget.
  await rateLimitIp(ctx, "resend", ctx.config.RATE_RESEND_PER_IP);
  await rateLimit(ctx.env, `resend:email:${sha256Hex(email)}`, ctx.config.RATE_RESEND_PER_EMAIL);
  ctx.waitUntil(
    (async () => {
      const user = await findUserByEmail(ctx.db, email, ctx.now);
      if (!user || user.status !== "active") return;
      // A verified address gets a new link only while alert and digest mail to it is suppressed.
      if (user.emailVerified && !(await suppressionsRepo(ctx.db).isSuppressed(user.id, user.email))) return;
      const verification = await verificationEmail(ctx, user);
      await runBatch(ctx, verification.statements);
      await enqueueEmails(ctx.env, [verification.outboxId]);
    })().catch((err) => log.error("resend verification failed", {}, err)),
  );
}

/**
 * Whether a verification link may also sign in: only for an account without a password, which
 * has no other way in yet (GET of the page asks, without spending anything).
 */
export async function verificationSignsIn(ctx: RequestContext, token: string): Promise<boolean> {
  const pending = await peekOneTimeToken(ctx.db, token, "email_verification", ctx.now);
  if (!pending) return false;
  const user = await findUserById(ctx.db, pending.userId, ctx.now);
  return user !== undefined && !hasPassword(user.passwordHash);
}

/**
 * The verification page's "verify and sign in" button (a passwordless account only): spends the
 * link, verifies the address and signs in through the same path as every sign-in, in one go.
 * A password account's link only verifies (its password signs in).
 */
export async function verifyEmailAndSignIn(ctx: RequestContext, token: string) {
  const { db, now } = ctx;
  const pending = await peekOneTimeToken(db, token, "email_verification", now);
  const user = pending ? await findUserById(db, pending.userId, now) : undefined;
  if (!user || hasPassword(user.passwordHash)) return { verified: await verifyEmail(ctx, token), signedIn: null };
  const spent = await consumeOneTimeToken(db, token, "email_verification", now);
  if (!spent) throw invalidVerification();
  const signedIn = await signInProven(ctx, user, {
    method: "email_link",
    mailboxProven: true,
    extra: [auditInsert(db, ctx, { userId: user.id, action: "user.email_verified" }), suppressionsRepo(db).lift(user.id)],
  });
  return { verified: { user: toUserOut({ ...user, emailVerified: true }) }, signedIn };
}
