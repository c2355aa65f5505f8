import type { RequestContext } from "../../platform/context";
import { hmacHex, randomToken, sha256Hex, timingSafeEqualStr } from "../../platform/crypto";
import { runBatch } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { derivedKey } from "../../platform/secrets";
import { MINUTE } from "../../platform/time";
import { systemOwner } from "../../identity/owner";
import { auditInsert } from "../../audit/audit.repo";
import { outboxInsert } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails, tokenLink } from "../../email/templates";
import { findUserByEmail, findUserById } from "../users/users.repo";
import { putEmailCode, spendEmailCode, spendEmailCodeLink, takeEmailCodeGuess } from "./email-codes.repo";
import { signInProven } from "./login.service";

/** An emailed code and its link live 10 minutes (issue 16). */
export const EMAIL_CODE_TTL_MINUTES = 10;

const invalidCode = () => new AppError("invalid_credentials", "The code is wrong, used or expired");

/** PASSWORDLESS_EMAIL=false: the whole family answers 404, as if it did not exist. */
export function assertEmailCodesEnabled(ctx: Pick<RequestContext, "config">): void {
  if (!ctx.config.PASSWORDLESS_EMAIL) throw new AppError("not_found", "Not found");
}

/**
 * The stored form of a code: HMAC under a server key of user id and code, so a code is bound to
 * its user (a guess is only ever a guess at one user's code) and a database leak gives nothing
 * that can be checked offline without the key.
 */
const hashCode = (ctx: RequestContext, userId: string, code: string) => hmacHex(derivedKey(ctx.env, ctx.config, "email-codes"), `${userId}:${code}`);

/** A uniform 6-digit code (rejection sampling: no modulo bias). */
export function newEmailCode(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    const v = buf[0]!;
    if (v < 4_294_000_000) return String(v % 1_000_000).padStart(6, "0");
  }
}

/**
 * POST /auth/email-code/send: the limits (per IP first, then per address) are the only work on
 * the response's path; the lookup, the code and the mail follow the response (waitUntil), so a
 * known and an unknown address get the same 202 in the same time.
 */
export async function sendEmailCode(ctx: RequestContext, email: string): Promise<void> {
  assertEmailCodesEnabled(ctx);
  await rateLimitIp(ctx, "email-code", { ...ctx.config.RATE_EMAIL_CODE_PER_IP, sliding: true });
  await rateLimit(ctx.env, `email-code:email:${sha256Hex(email)}`, { ...ctx.config.RATE_EMAIL_CODE_PER_EMAIL, sliding: true });
  ctx.waitUntil(issueEmailCode(ctx, email).catch((err) => log.error("sending an email code failed", { request_id: ctx.requestId }, err)));
}

async function issueEmailCode(ctx: RequestContext, email: string): Promise<void> {
  const { db, now, config } = ctx;
  const user = await findUserByEmail(db, email, now);
  if (!user || user.status !== "active") return;
  const code = newEmailCode();
  const token = randomToken(32);
  const mail = await outboxInsert(ctx, {
    to: user.email,
    userId: user.id,
    email: emails.emailCode({ name: user.fullName, code, url: tokenLink(config, "sign-in", token), minutes: EMAIL_CODE_TTL_MINUTES }),
  });
  await runBatch(ctx, [
    putEmailCode(db, systemOwner(user.id, "sign-in"), { codeHash: hashCode(ctx, user.id, code), tokenHash: sha256Hex(token), expiresAt: new Date(now.getTime() + EMAIL_CODE_TTL_MINUTES * MINUTE) }, now),
    mail.statement,
    auditInsert(db, ctx, { userId: user.id, action: "auth.email_code_sent" }),
  ]);
  await enqueueEmails(ctx.env, [mail.id]);
}

/**
 * Checks `code` against the user's live code and spends it when right. Every call takes one
 * guess first (guarded UPDATE … RETURNING): after EMAIL_CODE_MAX_ATTEMPTS guesses the code is
 * dead, even for the right code. `userId` null (unknown email) takes the same steps on no row.
 */
export async function spendUserEmailCode(ctx: RequestContext, userId: string | null, code: string): Promise<boolean> {
  const { db, now } = ctx;
  const guess = await takeEmailCodeGuess(db, userId ?? "usr_none", now);
  const expected = hashCode(ctx, userId ?? "usr_none", code);
  if (!userId || !guess || !timingSafeEqualStr(guess.codeHash, expected)) return false;
  return (await spendEmailCode(db, userId, guess.codeHash, now)) !== undefined;
}

/** A failed code or link, audited after the response (a known account only). */
function recordCodeFailure(ctx: RequestContext, userId: string | null, reason: string) {
  if (!userId) return;
  ctx.waitUntil(
    runBatch(ctx, [auditInsert(ctx.db, ctx, { userId, action: "auth.login_failed", details: { reason } })]).then(
      () => undefined,
      (err) => log.error("recording a failed email code failed", { request_id: ctx.requestId }, err),
    ),
  );
}

/**
 * POST /auth/email-code/verify: the code (with the email) or the link's token signs in through
 * the same path as a password (signInProven): TOTP users get the second step; the mailbox is
 * proven, so an unverified account becomes verified.
 */
export async function verifyEmailCode(ctx: RequestContext, input: { email?: string; code?: string; token?: string; device_name?: string }) {
  assertEmailCodesEnabled(ctx);
  const { db, now, config, env } = ctx;
  await rateLimitIp(ctx, "email-code-verify", config.RATE_LOGIN_PER_IP);
  let userId: string;
  let method: "email_code" | "email_link";
  if (input.token !== undefined) {
    const spent = await spendEmailCodeLink(db, sha256Hex(input.token), now);
    if (!spent) throw invalidCode();
    userId = spent.userId;
    method = "email_link";
  } else {
    const email = input.email ?? "";
    await rateLimit(env, `email-code-verify:email:${sha256Hex(email)}`, config.RATE_LOGIN_PER_EMAIL);
    const user = await findUserByEmail(db, email, now);
    if (!(await spendUserEmailCode(ctx, user?.id ?? null, input.code ?? ""))) {
      recordCodeFailure(ctx, user?.id ?? null, "wrong_email_code");
      throw invalidCode();
    }
    userId = user!.id;
    method = "email_code";
  }
  const user = await findUserById(db, userId, now);
  if (!user) throw invalidCode();
  return signInProven(ctx, user, { method, deviceName: input.device_name ?? null, mailboxProven: true });
}
