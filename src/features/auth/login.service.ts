import type { RequestContext } from "../../platform/context";
import { sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { rateLimit } from "../../platform/rate-limit";
import { auditInsert, auditInsertIf } from "../audit/audit.repo";
import { failuresReached, findUserByEmail, findUserById, recordLoginFailure, setPasswordHash, type UserWithRoles } from "../users/users.repo";
import { consumeOneTimeToken, issueOneTimeToken, peekOneTimeToken } from "./one-time-tokens.repo";
import { hashPassword, verifyDummy, verifyPassword } from "./password-hash";
import { spendBackupCode, spendTotpCode } from "./mfa.service";
import { openSession, runBatch } from "./sessions.service";

const invalidCredentials = () => new AppError("invalid_credentials", "Email or password is incorrect");

function assertMayLogIn(ctx: RequestContext, user: UserWithRoles): void {
  if (user.status !== "active") throw new AppError("account_inactive", `This account is ${user.status}`);
  if (ctx.config.REQUIRE_EMAIL_VERIFICATION && !user.emailVerified) {
    throw new AppError("email_not_verified", "Verify your email address first; POST /auth/resend-verification sends a new link");
  }
}

const lockedError = (until: Date, now: Date) =>
  new AppError("account_locked", `Too many failed sign-ins; try again after ${until.toISOString()}`, {
    retryAfter: Math.ceil((until.getTime() - now.getTime()) / 1000),
    fields: { locked_until: until.toISOString() },
  });

/**
 * POST /auth/login. Order matters: rate limits before any hashing; a locked account answers
 * 423 without hashing; an unknown email hashes a dummy so it costs what a wrong password costs
 * and answers the same 401 body. The account's state (inactive, unverified) is revealed only to
 * someone who knows the password.
 */
export async function login(ctx: RequestContext, input: { email: string; password: string; device_name?: string }) {
  const { db, now, config, env } = ctx;
  // One round trip: both limits and the (cheap) lookup in parallel; no hashing before the
  // limits have answered.
  const [, , user] = await ctx.timed("lookup", () =>
    Promise.all([
      rateLimit(env, `login:ip:${ctx.ip}`, config.RATE_LOGIN_PER_IP),
      rateLimit(env, `login:email:${sha256Hex(input.email)}`, config.RATE_LOGIN_PER_EMAIL),
      findUserByEmail(db, input.email, now),
    ]),
  );
  if (!user) {
    await ctx.timed("hash", () => verifyDummy(input.password));
    throw invalidCredentials();
  }
  if (user.lockedUntil && user.lockedUntil > now) throw lockedError(user.lockedUntil, now);

  const verdict = await ctx.timed("hash", () => verifyPassword(input.password, user.passwordHash));
  if (!verdict.ok) {
    const lockUntil = new Date(now.getTime() + config.LOCKOUT_MINUTES * 60_000);
    await runBatch(ctx, [
      recordLoginFailure(db, user.id, config.LOCKOUT_THRESHOLD, lockUntil, now),
      auditInsert(db, ctx, { userId: user.id, action: "auth.login_failed", details: { reason: "wrong_password" } }),
      // Recorded by the failure that reached the threshold, in the same transaction as the lock.
      auditInsertIf(
        db,
        ctx,
        { userId: user.id, action: "auth.account_locked", details: { until: lockUntil.toISOString() } },
        failuresReached(user.id, config.LOCKOUT_THRESHOLD),
      ),
    ]);
    throw invalidCredentials();
  }
  assertMayLogIn(ctx, user);
  // A hash made under older parameters (or imported from bcrypt/Werkzeug) is upgraded now that
  // the password is known.
  const rehash = verdict.needsRehash ? await hashPassword(input.password) : undefined;

  if (user.twoFactorEnabled) {
    // Password proven: hand out a short-lived, single-use token for the second step. Other
    // pending second steps of this user stay valid (two devices signing in at once).
    const issued = issueOneTimeToken(
      db,
      { userId: user.id, purpose: "mfa_login", ttlMs: config.MFA_TOKEN_TTL_SECONDS * 1000, data: { device_name: input.device_name ?? null }, replace: false },
      now,
    );
    await runBatch(ctx, [
      ...issued.statements,
      ...(rehash
        ? [
            setPasswordHash(db, user.id, rehash),
            auditInsert(db, ctx, { userId: user.id, action: "auth.password_rehashed", details: { reason: "parameters upgraded" } }),
          ]
        : []),
    ]);
    return { mfa_required: true as const, mfa_token: issued.token, expires_in: config.MFA_TOKEN_TTL_SECONDS };
  }
  return openSession(ctx, user, { deviceName: input.device_name ?? null, rehash, method: "password" });
}

/**
 * POST /auth/mfa/verify: the second step. Attempts are limited per mfa_token; the TOTP step or
 * backup code is spent by a guarded statement; the mfa_token itself is spent exactly once.
 */
export async function verifyMfaLogin(ctx: RequestContext, input: { mfa_token: string; code?: string; backup_code?: string }) {
  const { db, now, config, env } = ctx;
  await rateLimit(env, `mfa:token:${sha256Hex(input.mfa_token)}`, config.RATE_MFA_PER_TOKEN);
  const pending = await peekOneTimeToken(db, input.mfa_token, "mfa_login", now);
  if (!pending) throw new AppError("unauthenticated", "The MFA token is invalid or has expired; sign in again");
  const user = await findUserById(db, pending.userId, now);
  if (!user) throw new AppError("unauthenticated", "The MFA token is invalid or has expired; sign in again");
  assertMayLogIn(ctx, user);

  try {
    if (input.code !== undefined) await spendTotpCode(ctx, user.id, input.code, true);
    else await spendBackupCode(ctx, user.id, input.backup_code ?? "");
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_mfa_code") {
      await runBatch(ctx, [auditInsert(db, ctx, { userId: user.id, action: "mfa.failed", details: { method: input.code !== undefined ? "totp" : "backup_code" } })]);
    }
    throw err;
  }
  const spent = await consumeOneTimeToken(db, input.mfa_token, "mfa_login", now);
  if (!spent) throw new AppError("unauthenticated", "The MFA token was already used; sign in again");
  const data = spent.data as { device_name?: string | null };
  const extra = input.backup_code !== undefined ? [auditInsert(db, ctx, { userId: user.id, action: "mfa.backup_code_used" })] : [];
  return openSession(ctx, user, {
    deviceName: data.device_name ?? null,
    method: input.code !== undefined ? "totp" : "backup_code",
    extra,
  });
}

