import type { UserActor } from "../../identity/actor";
import { systemOwner } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { runBatch } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { auditInsert } from "../../audit/audit.repo";
import { findUserById } from "../users/users.repo";
import { reauthenticateSession } from "../sessions/sessions.service";
import { guardSecondFactor, spendBackupCode, spendTotpCode } from "./mfa.service";
import { verifyPassword } from "./password-hash";
import { assertEmailCodesEnabled, spendUserEmailCode } from "./email-code.service";
import { verifyPasskeyAssertion } from "./passkeys.service";

export interface ReauthProof {
  password?: string;
  code?: string;
  backup_code?: string;
  email_code?: string;
  passkey?: { challenge_id: string; response: Record<string, unknown> };
}

const wrongProof = () => new AppError("invalid_credentials", "That did not confirm it is you");

/**
 * POST /auth/reauthenticate: the signed-in user proves again who they are (password, TOTP or
 * backup code, an emailed code, or a passkey assertion bound to them) and gets tokens with a fresh `auth_time`.
 * Limited like a login (per IP, then per user) before any hashing; a wrong proof is 401
 * `invalid_credentials` and audited; a success is audited with the session's new tokens.
 */
export async function reauthenticate(ctx: RequestContext, actor: UserActor, proof: ReauthProof) {
  const { db, now, config, env } = ctx;
  await rateLimitIp(ctx, "login", config.RATE_LOGIN_PER_IP);
  await rateLimit(env, `reauth:user:${actor.userId}`, config.RATE_LOGIN_PER_EMAIL);
  const user = await findUserById(db, actor.userId, now);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  const owner = systemOwner(user.id, "sign-in");

  let method: string;
  let ok = false;
  if (proof.passkey !== undefined) {
    method = "passkey";
    // The challenge must have been asked for with this caller's token (POST /auth/passkeys/login/options)
    // and be answered by one of their passkeys; any refusal is the same 401 as a wrong password.
    try {
      await verifyPasskeyAssertion(ctx, proof.passkey, { userId: user.id });
      ok = true;
    } catch (err) {
      if (!(err instanceof AppError && err.code === "invalid_credentials")) throw err;
    }
  } else if (proof.password !== undefined) {
    method = "password";
    // A passwordless account's marker fails here in the time of a real verification.
    ok = (await verifyPassword(proof.password, user.passwordHash)).ok;
  } else if (proof.code !== undefined || proof.backup_code !== undefined) {
    method = proof.code !== undefined ? "totp" : "backup_code";
    if (!user.twoFactorEnabled) throw wrongProof();
    try {
      await guardSecondFactor(ctx, user, method, () =>
        proof.code !== undefined ? spendTotpCode(ctx, owner, proof.code) : spendBackupCode(ctx, owner, proof.backup_code ?? ""),
      );
      ok = true;
    } catch (err) {
      if (!(err instanceof AppError && err.code === "invalid_mfa_code")) throw err;
    }
  } else {
    method = "email_code";
    assertEmailCodesEnabled(ctx);
    ok = await spendUserEmailCode(ctx, user.id, proof.email_code ?? "");
  }
  if (!ok) {
    ctx.waitUntil(
      runBatch(ctx, [auditInsert(db, ctx, { userId: user.id, action: "auth.reauthentication_failed", details: { method, session_id: actor.sessionId } })]).then(
        () => undefined,
        (err) => log.error("recording a failed reauthentication failed", { request_id: ctx.requestId }, err),
      ),
    );
    throw wrongProof();
  }
  return reauthenticateSession(ctx, user, actor.sessionId, method);
}
