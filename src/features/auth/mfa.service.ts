import type { RequestContext } from "../../platform/context";
import { hmacHex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { rateLimit } from "../../platform/rate-limit";
import { derivedKey, open, seal } from "../../platform/secrets";
import { auditInsert } from "../audit/audit.repo";
import { userViewChanged } from "../users/user-view";
import { findUserById, setTwoFactorEnabled } from "../users/users.repo";
import { mfaRepo } from "./mfa.repo";
import { verifyPassword } from "./password-hash";
import { runBatch } from "./sessions.service";
import { base32Decode, base32Encode, generateBackupCodes, matchTotpStep, normalizeBackupCode, otpauthUrl } from "./totp";

const sealContext = (userId: string) => `totp:${userId}`;

const hashBackupCode = (ctx: RequestContext, code: string) =>
  hmacHex(derivedKey(ctx.env, ctx.config, "backup-codes"), normalizeBackupCode(code));

/** Hashes of fresh backup codes plus the codes themselves (shown once). */
function freshBackupCodes(ctx: RequestContext) {
  const codes = generateBackupCodes(10);
  return { codes, hashes: codes.map((c) => hashBackupCode(ctx, c)) };
}

/** POST /auth/mfa/totp/setup: a new pending secret (encrypted at rest), replaced until enabled. */
export async function setupTotp(ctx: RequestContext, userId: string) {
  const user = await findUserById(ctx.db, userId, ctx.now);
  if (!user) throw new AppError("unauthenticated");
  if (user.twoFactorEnabled) throw new AppError("conflict", "Two-factor authentication is already enabled; disable it first");
  const secret = base32Encode(crypto.getRandomValues(new Uint8Array(20)));
  await mfaRepo(ctx.db, userId).setPending(await seal(ctx.env, ctx.config, secret, sealContext(userId)), ctx.now);
  return { secret, otpauth_url: otpauthUrl({ secretBase32: secret, account: user.email, issuer: ctx.config.MFA_ISSUER }) };
}

/**
 * Verifies a TOTP code for the user's secret (pending when `enabled` is false) and spends its
 * time step, so the same code cannot be used twice. Wrong or replayed → 401 `invalid_mfa_code`.
 */
export async function spendTotpCode(ctx: RequestContext, userId: string, code: string, enabled: boolean): Promise<void> {
  const repo = mfaRepo(ctx.db, userId);
  const row = await repo.get();
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
  const [spent] = await repo.useStep(step, enabled, ctx.now);
  if (!spent) throw new AppError("invalid_mfa_code", "The code is wrong or was already used");
}

/** Spends one backup code (guarded). */
export async function spendBackupCode(ctx: RequestContext, userId: string, code: string): Promise<void> {
  const [spent] = await mfaRepo(ctx.db, userId).useBackupCode(hashBackupCode(ctx, code), ctx.now);
  if (!spent) throw new AppError("invalid_mfa_code", "The backup code is wrong or was already used");
}

/** Bounds code guessing on the signed-in 2FA routes. */
const limitCodeAttempts = (ctx: RequestContext, userId: string) =>
  rateLimit(ctx.env, `mfa-manage:user:${userId}`, ctx.config.RATE_MFA_PER_TOKEN);

/** POST /auth/mfa/totp/enable: a valid code turns 2FA on and yields 10 backup codes. */
export async function enableTotp(ctx: RequestContext, userId: string, code: string) {
  await limitCodeAttempts(ctx, userId);
  await spendTotpCode(ctx, userId, code, false);
  const repo = mfaRepo(ctx.db, userId);
  const backup = freshBackupCodes(ctx);
  await runBatch(ctx, [
    repo.enable(ctx.now),
    setTwoFactorEnabled(ctx.db, userId, true, ctx.now),
    ...repo.replaceBackupCodes(backup.hashes, ctx.now),
    auditInsert(ctx.db, ctx, { userId, action: "mfa.enabled", details: { method: "totp" } }),
  ]);
  userViewChanged(userId);
  return { backup_codes: backup.codes };
}

/** POST /auth/mfa/totp/disable: needs a current code or the password. */
export async function disableTotp(ctx: RequestContext, userId: string, proof: { code?: string; password?: string }): Promise<void> {
  await limitCodeAttempts(ctx, userId);
  const user = await findUserById(ctx.db, userId, ctx.now);
  if (!user) throw new AppError("unauthenticated");
  if (!user.twoFactorEnabled) throw new AppError("conflict", "Two-factor authentication is not enabled");
  if (proof.code !== undefined) {
    await spendTotpCode(ctx, userId, proof.code, true);
  } else if (!(await verifyPassword(proof.password ?? "", user.passwordHash)).ok) {
    throw new AppError("invalid_credentials", "The password is not correct");
  }
  const repo = mfaRepo(ctx.db, userId);
  await runBatch(ctx, [
    repo.remove(),
    repo.removeBackupCodes(),
    setTwoFactorEnabled(ctx.db, userId, false, ctx.now),
    auditInsert(ctx.db, ctx, { userId, action: "mfa.disabled", details: { proof: proof.code !== undefined ? "totp" : "password" } }),
  ]);
  userViewChanged(userId);
}

/** POST /auth/mfa/backup-codes: a valid code replaces every backup code. */
export async function regenerateBackupCodes(ctx: RequestContext, userId: string, code: string) {
  await limitCodeAttempts(ctx, userId);
  await spendTotpCode(ctx, userId, code, true);
  const repo = mfaRepo(ctx.db, userId);
  const backup = freshBackupCodes(ctx);
  await runBatch(ctx, [
    ...repo.replaceBackupCodes(backup.hashes, ctx.now),
    auditInsert(ctx.db, ctx, { userId, action: "mfa.backup_codes_regenerated" }),
  ]);
  return { backup_codes: backup.codes };
}
