import { systemOwner } from "../../identity/owner";
import { runBatch, type Statement } from "../../platform/db";
import type { RequestContext } from "../../platform/context";
import { sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { reserveAttempt, reserveAttemptAfter, signInGuard, type Reservation } from "../../platform/sign-in-guard-client";
import { auditInsert } from "../../audit/audit.repo";
import { findUserByEmailProbing, findUserById, markEmailVerified, recordLoginFailure, setPasswordHash, type UserWithRoles } from "../users/users.repo";
import { userViewChanged } from "../users/user-view-cache";
import { consumeOneTimeToken, issueOneTimeToken, peekOneTimeToken } from "./one-time-tokens.repo";
import { hashPassword, verifyDummy, verifyPassword } from "./password-hash";
import { guardSecondFactor, spendBackupCode, spendTotpCode } from "./mfa.service";
import { MINUTE } from "../../platform/time";
import { openSession, signInNewsProbes, type SignInMethod } from "../sessions/sessions.service";
import { assertSsoNotRequired, enforcesSsoProbe } from "../sso/sso.service";
import { deviceGuardKey, deviceOfUser, issueDeviceToken, userDevicesGuardKey, verifyDeviceToken, withDeviceToken, type Device } from "./device-token";

const invalidCredentials = () => new AppError("invalid_credentials", "Email or password is incorrect");

function assertMayLogIn(ctx: RequestContext, user: UserWithRoles): void {
  if (user.status !== "active") throw new AppError("account_inactive", `This account is ${user.status}`);
  if (ctx.config.REQUIRE_EMAIL_VERIFICATION && !user.emailVerified) {
    throw new AppError("email_not_verified", "Verify your email address first; POST /auth/resend-verification sends a new link");
  }
}

/** The password guard of an email: keyed by the normalised email, so unknown emails have one too. */
export const loginGuardKey = (email: string) => `login:${sha256Hex(email)}`;

/**
 * After the response: the audit rows of a failed sign-in (and of the lock it set) and, for a
 * real account, the admin-visible counter in D1. Deferred, and an unknown email writes its own
 * audit row too, so both kinds of failure do the same work: a wrong password for a real account
 * waits on no D1 write that an unknown email lacks, before or after the response.
 */
async function recordPasswordFailure(ctx: RequestContext, user: UserWithRoles | undefined, email: string, reservation: Reservation, device: Device | null) {
  const { db, now } = ctx;
  const until = reservation.lockedUntil !== null ? new Date(reservation.lockedUntil) : null;
  // A known device's failures and lock are its own: the account's counter in D1 is the email's.
  const who = { ...(user ? {} : { email_sha256: sha256Hex(email) }), ...(device ? { scope: "device" } : {}) };
  const userId = user?.id ?? null;
  await runBatch(ctx, [
    ...(user && !device ? [recordLoginFailure(db, user.id, reservation.failures, until, now)] : []),
    auditInsert(db, ctx, { userId, action: "auth.login_failed", details: { reason: user ? "wrong_password" : "unknown_email", ...who } }),
    ...(until ? [auditInsert(db, ctx, { userId, action: "auth.account_locked", details: { until: until.toISOString(), factor: "password", ...who } })] : []),
  ]);
}

/**
 * POST /auth/login. Order matters: the per-IP limit first; then one step of the email's guard
 * takes the per-email budget and reserves the attempt (a locked email answers 423 without
 * hashing); only then the hash. The user lookup runs beside the per-IP limit, and the guard is
 * asked once both have answered. An unknown email hashes a dummy and takes exactly the same
 * path, so body, lockout and timing are the same as for a wrong password. The account's state
 * (inactive, unverified) is revealed only to someone who knows the password. On the response's
 * path: the per-IP limit and the lookup, the guard, the hash, one D1 batch. The guard learns of
 * the success from the next sign-in's lookup (see SignInGuard), or, where no session batch
 * recorded it, from a `succeed()` after the response.
 *
 * A valid `device_token` (see device-token.ts) of this very user swaps the email's guard for the
 * device's own (its own failures, lock and per-email-sized rate): a lock someone else set on the
 * email does not keep out a device that signed in before, and the device's success does not lift
 * that lock for anyone else. A token of another user, or one issued before the password was
 * last changed or reset, is found out after the lookup: its reservation is given back and the
 * attempt is judged by the email's guard, as without a token. All of a user's devices together
 * get one budget of failures (userDevicesGuardKey) on top of each device's own.
 */
export async function login(ctx: RequestContext, input: { email: string; password: string; device_name?: string; device_token?: string }) {
  const { db, now, config, env } = ctx;
  let device = verifyDeviceToken(ctx, input.device_token);
  let guardKey = device ? deviceGuardKey(device) : loginGuardKey(input.email);
  const attempt = { now: now.getTime(), threshold: config.LOCKOUT_THRESHOLD, lockMs: config.LOCKOUT_MINUTES * MINUTE, rate: config.RATE_LOGIN_PER_EMAIL };
  // The user lookup (a read) runs beside the per-IP limit; the limits stay strictly in order: the
  // email's guard is asked only once the per-IP limit has let the caller through, so a caller
  // refused per IP spends nothing of the email's budget; nothing is hashed before both have answered.
  // The lookup also answers, in the same statement, what the success would otherwise ask in
  // statements of its own: does the address's domain enforce SSO, are device and country known.
  const probes = { ssoEnforced: enforcesSsoProbe(input.email), ...signInNewsProbes(ctx) };
  // The email's guard is asked once the lookup has answered too: the lookup tells it which of its
  // reservations last opened a session (`signInSettled`), so no success needs a call of its own.
  let [reservation, found] = await ctx.timed("lookup", () =>
    reserveAttemptAfter(env, guardKey, rateLimitIp(ctx, "login", config.RATE_LOGIN_PER_IP), attempt, findUserByEmailProbing(db, input.email, now, probes), (f) =>
      device ? undefined : f?.user.signInSettled,
    ),
  );
  const user = found?.user;
  if (device && !deviceOfUser(device, user)) {
    // Another user's token, or one earned with a password since changed or reset: no device.
    await signInGuard(env, guardKey).release(config.LOCKOUT_THRESHOLD);
    device = null;
    guardKey = loginGuardKey(input.email);
    reservation = await reserveAttempt(env, guardKey, user?.signInSettled != null ? { ...attempt, settled: user.signInSettled } : attempt);
  }
  // A known device's attempt also counts in the guard all of this user's devices share, so the
  // devices together get one budget of failures, not one each (see userDevicesGuardKey).
  const devicesKey = device ? userDevicesGuardKey(device.userId) : null;
  if (devicesKey) {
    try {
      const shared = await reserveAttempt(env, devicesKey, { now: attempt.now, threshold: attempt.threshold, lockMs: attempt.lockMs });
      if (reservation.lockedUntil === null && shared.lockedUntil !== null) reservation = { ...reservation, lockedUntil: shared.lockedUntil };
    } catch (err) {
      await signInGuard(env, guardKey)
        .release(config.LOCKOUT_THRESHOLD)
        .catch(() => {});
      throw err;
    }
  }
  const verdict = await ctx.timed("hash", () =>
    user ? verifyPassword(input.password, user.passwordHash) : verifyDummy(input.password).then((ok) => ({ ok, needsRehash: false })),
  );
  if (!user || !verdict.ok) {
    ctx.waitUntil(
      recordPasswordFailure(ctx, user, input.email, reservation, device).catch((err) =>
        log.error("recording a failed login failed", { request_id: ctx.requestId }, err),
      ),
    );
    throw invalidCredentials();
  }
  // Password proven: the count starts again, whatever happens next. A session opened for the
  // email's guard records the reservation in its batch (`settles`), and the next attempt's lookup
  // hands it to the guard; otherwise (a device's guards, a second step, a refusal, a failed
  // batch) `succeed()` tells the guards once this request's own work is done, so the round trip
  // is not on the response's path (waitUntil keeps it going). Until either lands, the email
  // counts this attempt as a failure.
  const outcome = { settles: device ? undefined : reservation.seq, settled: false };
  try {
    return await signedIn(ctx, user, verdict.needsRehash, input, device, found!.probes, outcome);
  } finally {
    for (const key of devicesKey ? [guardKey, devicesKey] : outcome.settled ? [] : [guardKey]) {
      ctx.waitUntil(
        signInGuard(env, key)
          .succeed()
          .catch((err) => log.error("resetting the sign-in guard failed", { request_id: ctx.requestId }, err)),
      );
    }
  }
}

/** The password is proven: a second-factor step or a session. */
async function signedIn(
  ctx: RequestContext,
  user: UserWithRoles,
  needsRehash: boolean,
  input: { password: string; device_name?: string },
  device: Device | null,
  known: { ssoEnforced: boolean; deviceSeen: boolean; countrySeen: boolean; deviceFresh: boolean },
  /** `settles`: the email guard's reservation, to record with the session; `settled` once it was. */
  outcome: { settles: number | undefined; settled: boolean },
) {
  const { db } = ctx;
  assertMayLogIn(ctx, user);
  // Acted on only now that the password is proven: an organization that enforces SSO for this
  // address's domain sends it there (403 sso_required), superusers excepted. Acted on before
  // the password, the answer would tell a stranger which addresses are superusers.
  await assertSsoNotRequired(ctx, user.email, user.id, known.ssoEnforced);
  // A hash made under older parameters (or imported from bcrypt/Werkzeug) is upgraded now that
  // the password is known.
  const rehash = needsRehash ? await hashPassword(input.password) : undefined;

  if (user.twoFactorEnabled) {
    // Password proven: the second step. A known device rides along, so it hands back its token.
    return startSecondFactor(ctx, user, {
      deviceName: input.device_name ?? null,
      deviceId: device?.deviceId ?? null,
      extra: rehash
        ? [
            setPasswordHash(db, systemOwner(user.id, "sign-in"), rehash),
            auditInsert(db, ctx, { userId: user.id, action: "auth.password_rehashed", details: { reason: "parameters upgraded" } }),
          ]
        : [],
    });
  }
  const tokens = await openSession(ctx, user, { deviceName: input.device_name ?? null, rehash, method: "password", seen: known, settles: outcome.settles });
  outcome.settled = outcome.settles !== undefined;
  return withDeviceToken(tokens, issueDeviceToken(ctx, user, device?.deviceId));
}

/**
 * The first factor is proven and TOTP is on: a short-lived, single-use token for the second step
 * (POST /auth/mfa/verify). Other pending second steps of this user stay valid (two devices
 * signing in at once). `extra`: statements for the same batch.
 */
async function startSecondFactor(ctx: RequestContext, user: UserWithRoles, p: { deviceName: string | null; deviceId: string | null; extra?: Statement[] }) {
  const { db, now, config } = ctx;
  const issued = issueOneTimeToken(
    db,
    { userId: user.id, purpose: "mfa_login", ttlMs: config.MFA_TOKEN_TTL_SECONDS * 1000, data: { device_name: p.deviceName, device_id: p.deviceId }, replace: false },
    now,
  );
  await runBatch(ctx, [...issued.statements, ...(p.extra ?? [])]);
  return { mfa_required: true as const, mfa_token: issued.token, expires_in: config.MFA_TOKEN_TTL_SECONDS };
}

/**
 * A sign-in whose first factor was proven by something other than a password (an external
 * identity provider, POST /auth/oidc/exchange; a passkey, POST /auth/passkeys/login/verify): the
 * same checks and session as a password sign-in, including the second factor: a user with TOTP on
 * gets `mfa_required` unless `mfaSatisfied` (a trusted provider asserted MFA; a passkey verified
 * the user). `extra` statements join the session's batch (or the second step's token batch).
 * `ssoExempt`: not refused by enforce_sso — the organization's own SSO sign-in (its provider, for
 * an address at its verified domain), and passkeys, which keep working under it.
 */
export async function signInVerified(
  ctx: RequestContext,
  user: UserWithRoles,
  input: { device_name?: string | undefined; device_token?: string | undefined },
  opts: { method: "oidc" | "passkey"; mfaSatisfied: boolean; extra?: Statement[]; ssoExempt?: boolean },
) {
  assertMayLogIn(ctx, user);
  // An address at a domain whose organization enforces SSO signs in only through that SSO.
  if (!opts.ssoExempt) await assertSsoNotRequired(ctx, user.email, user.id);
  const device = verifyDeviceToken(ctx, input.device_token);
  const deviceId = device && deviceOfUser(device, user) ? device.deviceId : null;
  if (user.twoFactorEnabled && !opts.mfaSatisfied) {
    return startSecondFactor(ctx, user, { deviceName: input.device_name ?? null, deviceId, extra: opts.extra });
  }
  const tokens = await openSession(ctx, user, { deviceName: input.device_name ?? null, method: opts.method, extra: opts.extra });
  return withDeviceToken(tokens, issueDeviceToken(ctx, user, deviceId));
}

/**
 * A sign-in proven by something other than the password (an emailed code or link, a
 * set-password or verification link of a passwordless account): the same refusals as a password
 * sign-in (inactive accounts), then the same second-factor step or session, device token, audit
 * and new-device notice. Every one of these proves the mailbox, so an unverified account becomes
 * verified in the same batch (`mailboxProven`).
 */
export async function signInProven(
  ctx: RequestContext,
  user: UserWithRoles,
  opts: { method: SignInMethod; deviceName?: string | null; mailboxProven: boolean; extra?: Statement[] },
) {
  const { db, now } = ctx;
  const verify = opts.mailboxProven && !user.emailVerified ? [markEmailVerified(db, systemOwner(user.id, "sign-in"), now)] : [];
  const proven = verify.length ? { ...user, emailVerified: true } : user;
  assertMayLogIn(ctx, proven);
  await assertSsoNotRequired(ctx, user.email, user.id);
  if (user.twoFactorEnabled) {
    // One factor proven: the second step as after a password.
    const second = await startSecondFactor(ctx, user, { deviceName: opts.deviceName ?? null, deviceId: null, extra: [...(opts.extra ?? []), ...verify] });
    if (verify.length) userViewChanged(user.id);
    return second;
  }
  const tokens = await openSession(ctx, proven, { deviceName: opts.deviceName ?? null, method: opts.method, extra: [...(opts.extra ?? []), ...verify] });
  return withDeviceToken(tokens, issueDeviceToken(ctx, proven, undefined));
}

/**
 * POST /auth/mfa/verify: the second step. Limited per IP and per mfa_token; failures count per
 * user across every mfa token (see `guardSecondFactor`); the TOTP step or backup code is spent
 * by a guarded statement; the mfa_token itself is spent exactly once.
 */
export async function verifyMfaLogin(ctx: RequestContext, input: { mfa_token: string; code?: string; backup_code?: string }) {
  const { db, now, config, env } = ctx;
  await rateLimitIp(ctx, "mfa-verify", config.RATE_MFA_VERIFY_PER_IP);
  await rateLimit(env, `mfa:token:${sha256Hex(input.mfa_token)}`, config.RATE_MFA_PER_TOKEN);
  const pending = await peekOneTimeToken(db, input.mfa_token, "mfa_login", now);
  if (!pending) throw new AppError("unauthenticated", "The MFA token is invalid or has expired; sign in again");
  const user = await findUserById(db, pending.userId, now);
  if (!user) throw new AppError("unauthenticated", "The MFA token is invalid or has expired; sign in again");
  assertMayLogIn(ctx, user);

  const method = input.code !== undefined ? "totp" : "backup_code";
  const owner = systemOwner(user.id, "sign-in");
  await guardSecondFactor(ctx, user, method, () =>
    input.code !== undefined ? spendTotpCode(ctx, owner, input.code) : spendBackupCode(ctx, owner, input.backup_code ?? ""),
  );
  const spent = await consumeOneTimeToken(db, input.mfa_token, "mfa_login", now);
  if (!spent) throw new AppError("unauthenticated", "The MFA token was already used; sign in again");
  const data = spent.data as { device_name?: string | null; device_id?: string | null };
  const extra = input.backup_code !== undefined ? [auditInsert(db, ctx, { userId: user.id, action: "mfa.backup_code_used" })] : [];
  const tokens = await openSession(ctx, user, { deviceName: data.device_name ?? null, method, extra });
  return withDeviceToken(tokens, issueDeviceToken(ctx, user, data.device_id));
}
