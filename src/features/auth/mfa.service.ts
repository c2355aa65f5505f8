import { ownerOf, type Owner } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import { requireRecentAuth } from "../../identity/recent-auth";
import { runBatch, type Statement } from "../../platform/db";
import type { RequestContext } from "../../platform/context";
import { hmacHex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { rateLimit } from "../../platform/rate-limit";
import { derivedKey, open, seal } from "../../platform/secrets";
import { reserveAttempt, signInGuard, type Reservation } from "../../platform/sign-in-guard-client";
import { outboxInsert } from "../../email/outbox.repo";
import { emails } from "../../email/templates";
import { enqueueEmails } from "../../email/queue";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { userViewChanged } from "../users/user-view-cache";
import { findUserById, setTwoFactorEnabled, setTwoFactorEnabledIf } from "../users/users.repo";
import { mfaRepo } from "./mfa.repo";
import { verifyPassword } from "./password-hash";
import { base32Decode, base32Encode, generateBackupCodes, matchTotpStep, normalizeBackupCode, otpauthUrl } from "./totp";
import { MINUTE, HOUR } from "../../platform/time";

const sealContext = (userId: string) => `totp:${userId}`;

const hashBackupCode = (ctx: RequestContext, code: string) =>
  hmacHex(derivedKey(ctx.env, ctx.config, "backup-codes"), normalizeBackupCode(code));

/** Hashes of fresh backup codes plus the codes themselves (shown once). */
function freshBackupCodes(ctx: RequestContext) {
  const codes = generateBackupCodes(10);
  return { codes, hashes: codes.map((c) => hashBackupCode(ctx, c)) };
}

/** POST /auth/mfa/totp/setup: a new pending secret (encrypted at rest), replaced until enabled. */
export async function setupTotp(ctx: RequestContext, userId: Owner) {
  const user = await findUserById(ctx.db, userId, ctx.now);
  if (!user) throw new AppError("unauthenticated");
  if (user.twoFactorEnabled) throw new AppError("conflict", "Two-factor authentication is already enabled; disable it first");
  const secret = base32Encode(crypto.getRandomValues(new Uint8Array(20)));
  await mfaRepo(ctx.db, userId).setPending(await seal(ctx.env, ctx.config, secret, sealContext(userId)), ctx.now);
  return { secret, otpauth_url: otpauthUrl({ secretBase32: secret, account: user.email, issuer: ctx.config.MFA_ISSUER }) };
}

/**
 * Checks a TOTP code against the user's secret (pending when `enabled` is false) without
 * spending it. Wrong or replayed → 401 `invalid_mfa_code`.
 */
async function checkTotpCode(ctx: RequestContext, userId: Owner, code: string, enabled: boolean) {
  const row = await mfaRepo(ctx.db, userId).get();
  if (!row || row.enabled !== enabled) {
    throw enabled
      ? new AppError("invalid_mfa_code", "Two-factor authentication is not enabled")
      : new AppError("conflict", "Start with POST /auth/mfa/totp/setup");
  }
  const secret = base32Decode(await open(ctx.env, ctx.config, row.secretEncrypted, sealContext(userId)));
  const step = matchTotpStep(secret, code, Math.floor(ctx.now.getTime() / 1000));
  if (step === null || (row.lastUsedStep !== null && step <= row.lastUsedStep)) {
    throw new AppError("invalid_mfa_code", "The code is wrong or was already used");
  }
  return { secretEncrypted: row.secretEncrypted, step };
}

/**
 * Verifies a TOTP code for the user's enabled secret and spends its time step, so the same code
 * cannot be used twice. Wrong or replayed → 401 `invalid_mfa_code`.
 */
export async function spendTotpCode(ctx: RequestContext, userId: Owner, code: string): Promise<void> {
  const { step } = await checkTotpCode(ctx, userId, code, true);
  const [spent] = await mfaRepo(ctx.db, userId).useStep(step, true, ctx.now);
  if (!spent) throw new AppError("invalid_mfa_code", "The code is wrong or was already used");
}

/** Spends one backup code (guarded). */
export async function spendBackupCode(ctx: RequestContext, userId: Owner, code: string): Promise<void> {
  const [spent] = await mfaRepo(ctx.db, userId).useBackupCode(hashBackupCode(ctx, code), ctx.now);
  if (!spent) throw new AppError("invalid_mfa_code", "The backup code is wrong or was already used");
}

export const mfaGuardKey = (userId: string) => `mfa:${userId}`;

interface GuardedUser {
  id: string;
  email: string;
  fullName: string;
}

/**
 * Runs `check` (which verifies a second factor) under the user's second-factor guard: failures
 * count per user across every mfa token and 2FA route; at MFA_LOCKOUT_THRESHOLD consecutive
 * failures the second step answers 423 `account_locked` for LOCKOUT_MINUTES, even for a correct
 * code (NIST SP 800-63B-4 allows at most 100); each further lock lasts twice as long as the one
 * before, up to MFA_LOCKOUT_MAX_HOURS, until a success. The attempt is reserved before the check, so
 * concurrent guesses cannot overshoot; a success resets the count; every lock is audited and
 * emailed to the user.
 */
export async function guardSecondFactor<T>(ctx: RequestContext, user: GuardedUser, method: string, check: () => Promise<T>): Promise<T> {
  const { env, config, now } = ctx;
  const key = mfaGuardKey(user.id);
  const reservation = await reserveAttempt(
    env,
    key,
    { now: now.getTime(), threshold: config.MFA_LOCKOUT_THRESHOLD, lockMs: config.LOCKOUT_MINUTES * MINUTE, maxLockMs: config.MFA_LOCKOUT_MAX_HOURS * HOUR },
    "Too many wrong authentication codes",
  );
  let result: T;
  try {
    result = await check();
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_mfa_code") await recordSecondFactorFailure(ctx, user, method, reservation);
    else await signInGuard(env, key).release(config.MFA_LOCKOUT_THRESHOLD);
    throw err;
  }
  await signInGuard(env, key).succeed();
  return result;
}

async function recordSecondFactorFailure(ctx: RequestContext, user: GuardedUser, method: string, reservation: Reservation) {
  const { db } = ctx;
  const statements: Statement[] = [auditInsert(db, ctx, { userId: user.id, action: "mfa.failed", details: { method } })];
  let mailId: string | null = null;
  if (reservation.lockedUntil !== null) {
    const until = new Date(reservation.lockedUntil).toISOString();
    const mail = await outboxInsert(
      ctx,
      { to: user.email, userId: user.id, email: emails.secondFactorLocked({ name: user.fullName, until, failures: reservation.failures }) },
    );
    mailId = mail.id;
    statements.push(
      auditInsert(db, ctx, { userId: user.id, action: "auth.account_locked", details: { until, factor: "second_factor" } }),
      mail.statement,
    );
  }
  await runBatch(ctx, statements);
  if (mailId) ctx.waitUntil(enqueueEmails(ctx.env, [mailId]));
}

/** The user for the signed-in 2FA routes. */
async function signedInUser(ctx: RequestContext, userId: string) {
  const user = await findUserById(ctx.db, userId, ctx.now);
  if (!user) throw new AppError("unauthenticated");
  return user;
}

/** Bounds code guessing on the signed-in 2FA routes. */
const limitCodeAttempts = (ctx: RequestContext, userId: string) =>
  rateLimit(ctx.env, `mfa-manage:user:${userId}`, ctx.config.RATE_MFA_PER_TOKEN);

/**
 * POST /auth/mfa/totp/enable: a valid code turns 2FA on and yields 10 backup codes. The enable
 * is one guarded statement on the very secret the code was checked against; the rest of the
 * batch applies only if it did.
 */
export async function enableTotp(ctx: RequestContext, userId: Owner, code: string) {
  await limitCodeAttempts(ctx, userId);
  const user = await signedInUser(ctx, userId);
  const { db, now } = ctx;
  const repo = mfaRepo(db, userId);
  const backup = freshBackupCodes(ctx);
  await guardSecondFactor(ctx, user, "totp", async () => {
    const checked = await checkTotpCode(ctx, userId, code, false);
    const enabled = repo.enabledBy(checked.secretEncrypted, now);
    const [done] = await runBatch(ctx, [
      repo.enableVerified(checked.secretEncrypted, checked.step, now),
      setTwoFactorEnabledIf(db, userId, true, now, enabled),
      ...repo.replaceBackupCodesIf(backup.hashes, now, enabled),
      auditInsertIf(db, ctx, { userId, action: "mfa.enabled", details: { method: "totp" } }, enabled),
    ]);
    if (done.length === 0) throw new AppError("invalid_mfa_code", "The code is wrong, was already used, or the secret was replaced by a new setup");
  });
  userViewChanged(userId);
  return { backup_codes: backup.codes };
}

/** POST /auth/mfa/totp/disable: needs a current code, the password, or a recent authentication. */
export async function disableTotp(ctx: RequestContext, actor: UserActor, proof: { code?: string | undefined; password?: string | undefined }): Promise<void> {
  const userId = ownerOf(actor);
  if (proof.code === undefined && proof.password === undefined) requireRecentAuth(ctx, actor);
  await limitCodeAttempts(ctx, userId);
  const user = await signedInUser(ctx, userId);
  if (!user.twoFactorEnabled) throw new AppError("conflict", "Two-factor authentication is not enabled");
  if (proof.code !== undefined) {
    const code = proof.code;
    await guardSecondFactor(ctx, user, "totp", () => spendTotpCode(ctx, userId, code));
  } else if (proof.password !== undefined && !(await verifyPassword(proof.password, user.passwordHash)).ok) {
    throw new AppError("invalid_credentials", "The password is not correct");
  }
  const repo = mfaRepo(ctx.db, userId);
  await runBatch(ctx, [
    repo.remove(),
    repo.removeBackupCodes(),
    setTwoFactorEnabled(ctx.db, userId, false, ctx.now),
    auditInsert(ctx.db, ctx, { userId, action: "mfa.disabled", details: { proof: proof.code !== undefined ? "totp" : proof.password !== undefined ? "password" : "recent_authentication" } }),
  ]);
  userViewChanged(userId);
}

/** POST /auth/mfa/backup-codes: a valid code (or a recent authentication) replaces every backup code. */
export async function regenerateBackupCodes(ctx: RequestContext, actor: UserActor, code: string | undefined) {
  const userId = ownerOf(actor);
  if (code === undefined) requireRecentAuth(ctx, actor);
  await limitCodeAttempts(ctx, userId);
  const user = await signedInUser(ctx, userId);
  if (code !== undefined) await guardSecondFactor(ctx, user, "totp", () => spendTotpCode(ctx, userId, code));
  else if (!user.twoFactorEnabled) throw new AppError("conflict", "Two-factor authentication is not enabled");
  const repo = mfaRepo(ctx.db, userId);
  const backup = freshBackupCodes(ctx);
  await runBatch(ctx, [
    ...repo.replaceBackupCodes(backup.hashes, ctx.now),
    auditInsert(ctx.db, ctx, { userId, action: "mfa.backup_codes_regenerated" }),
  ]);
  return { backup_codes: backup.codes };
}
