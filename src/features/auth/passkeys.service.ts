import type { AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Owner } from "../../identity/owner";
import type { RequestContext } from "../../platform/context";
import { hmacHex, randomToken } from "../../platform/crypto";
import { isUniqueViolation, runBatch } from "../../platform/db";
import { fromBase64, utf8Bytes, toBase64url } from "../../platform/encoding";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { log } from "../../platform/log";
import { rateLimitIp } from "../../platform/rate-limit";
import { derivedKey } from "../../platform/secrets";
import { MINUTE } from "../../platform/time";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails } from "../../email/templates";
import { findUserById } from "../users/users.repo";
import { signInVerified } from "./login.service";
import {
  consumeChallenge,
  credentialsOfEmail,
  findPasskeyByCredentialId,
  insertChallenge,
  passkeysRepo,
  recordPasskeyUse,
  type PasskeyRow,
} from "./passkeys.repo";

// Loaded on the first passkey ceremony, as its own chunk: @simplewebauthn/server with its ASN.1 and
// X.509 dependencies was a third of the worker, paid by every cold start (docs/performance.md).
const webauthn = () => import("@simplewebauthn/server");

// Passkeys (WebAuthn Level 3) with @simplewebauthn/server. Every ceremony is options → verify:
// the options carry a random challenge, kept server-side under the SHA-256 of a `challenge_id`
// the client sends back; the verify spends it by one guarded DELETE (single-use, 5 minutes,
// bound to its ceremony and, for registration or step-up, to its user). The RP ID and the
// allowed origins come from WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS.

const CHALLENGE_TTL_MS = 5 * MINUTE;

const invalidAssertion = () => new AppError("invalid_credentials", "The passkey could not be verified; ask for new options and try again");
const invalidRegistration = (message: string) =>
  new AppError("validation_failed", "The passkey could not be registered", { errors: [{ path: "response", message }] });

export const toPasskeyOut = (p: PasskeyRow) => ({
  id: p.id,
  name: p.name,
  created_at: p.createdAt.toISOString(),
  last_used_at: p.lastUsedAt ? p.lastUsedAt.toISOString() : null,
  backed_up: p.backedUp,
  device_type: p.deviceType,
  transports: p.transports,
});

const asTransports = (t: string[]) => t as AuthenticatorTransport[];

/** A new pending challenge of `ceremony`; returns the `challenge_id` for the client. */
async function storeChallenge(ctx: RequestContext, challenge: string, ceremony: "registration" | "authentication", userId: string | null) {
  const challengeId = randomToken(32);
  await runBatch(ctx, insertChallenge(ctx.db, { challengeId, challenge, ceremony, userId, expiresAt: new Date(ctx.now.getTime() + CHALLENGE_TTL_MS) }, ctx.now));
  return challengeId;
}

// ─── registration (signed-in user) ──────────────────────────────────────────────────────────

/** POST /auth/passkeys/register/options: creation options bound to this user (resident key and UV preferred). */
export async function passkeyRegistrationOptions(ctx: RequestContext, owner: Owner) {
  const { db, now, config } = ctx;
  const [user, existing] = await Promise.all([findUserById(db, owner, now), passkeysRepo(db, owner).credentials()]);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  const options = await (await webauthn()).generateRegistrationOptions({
    rpName: config.MFA_ISSUER,
    rpID: config.WEBAUTHN_RP_ID,
    userName: user.email,
    userDisplayName: user.fullName,
    // The user handle is the opaque user id, never the email (authenticators may show or sync it).
    userID: utf8Bytes(user.id) as Uint8Array<ArrayBuffer>,
    attestationType: "none",
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: asTransports(c.transports) })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    timeout: CHALLENGE_TTL_MS,
  });
  const challengeId = await storeChallenge(ctx, options.challenge, "registration", owner);
  return { ...options, challenge_id: challengeId };
}

/**
 * POST /auth/passkeys/register/verify: the attestation ("none" accepted) is verified against the
 * user's own registration challenge; the passkey, its audit row and the notice email are one
 * batch, all guarded by the insert (at most MAX_PASSKEYS_PER_USER).
 */
export async function registerPasskey(ctx: RequestContext, owner: Owner, input: { challenge_id: string; response: unknown; name?: string | undefined }) {
  const { db, now, config } = ctx;
  const pending = await consumeChallenge(db, input.challenge_id, "registration", now, owner);
  if (!pending) throw invalidRegistration("The challenge is unknown, used or expired; ask for new options");
  const [user, verification] = await Promise.all([
    findUserById(db, owner, now),
    webauthn().then((w) => w.verifyRegistrationResponse({
      response: input.response as RegistrationResponseJSON,
      expectedChallenge: pending.challenge,
      expectedOrigin: config.WEBAUTHN_ORIGINS,
      expectedRPID: config.WEBAUTHN_RP_ID,
      requireUserVerification: false,
    })).catch((err: unknown) => {
      ctx.log.info("passkey registration refused", { reason: err instanceof Error ? err.message : String(err) });
      return null;
    }),
  ]);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  if (!verification?.verified) throw invalidRegistration("The authenticator's response does not match the options");
  const info = verification.registrationInfo;
  const repo = passkeysRepo(db, owner);
  const name = input.name ?? (info.credentialDeviceType === "multiDevice" ? "Synced passkey" : "Passkey");
  const row = {
    id: newId("pky", now.getTime()),
    credentialId: info.credential.id,
    publicKey: toBase64url(info.credential.publicKey),
    counter: info.credential.counter,
    backedUp: info.credentialBackedUp,
    deviceType: info.credentialDeviceType,
    transports: info.credential.transports ?? [],
    name,
    aaguid: info.aaguid,
    createdAt: now,
  };
  const added = repo.hasPasskey(row.id);
  const mail = await outboxInsertIf(ctx, { to: user.email, userId: user.id, email: emails.passkeyAdded({ name: user.fullName, passkeyName: name, when: now.toISOString(), ip: ctx.ip }) }, added);
  const [inserted] = await runBatch(ctx, [
    repo.insert(row, config.MAX_PASSKEYS_PER_USER),
    auditInsertIf(db, ctx, { userId: user.id, action: "auth.passkey_added", details: { passkey_id: row.id, name, device_type: row.deviceType, backed_up: row.backedUp, user_verified: info.userVerified } }, added),
    mail.statement,
  ]).catch((err: unknown) => {
    throw isUniqueViolation(err, "passkeys.credential_id") ? new AppError("conflict", "This passkey is already registered") : err;
  });
  if ((inserted as D1Result).meta.changes === 0) throw new AppError("limit_reached", `At most ${config.MAX_PASSKEYS_PER_USER} passkeys per account; remove one first`);
  ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
  return toPasskeyOut({ ...row, userId: user.id, aaguid: row.aaguid, lastUsedAt: null });
}

// ─── sign-in and step-up ────────────────────────────────────────────────────────────────────

/**
 * A stand-in credential id for an email without passkeys (or no account): derived from the
 * email under a server key, so the same email always gets the same answer, shaped like a real
 * one, and options never tell which emails have an account.
 */
function decoyCredential(ctx: RequestContext, email: string) {
  const hex = hmacHex(derivedKey(ctx.env, ctx.config, "passkey-decoy"), email).slice(0, 32);
  const bytes = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  return { credentialId: toBase64url(bytes), transports: [] as string[] };
}

/**
 * POST /auth/passkeys/login/options. Without an email: any discoverable credential (usernameless,
 * autofill). With one: that account's passkeys, or a stand-in for an unknown email (same shape,
 * one read either way). `boundUserId` (the caller's bearer token, for step-up): the challenge can
 * only be answered by that user's passkeys.
 */
export async function passkeyAuthenticationOptions(ctx: RequestContext, input: { email?: string | undefined }, boundUserId: Owner | null) {
  const { db, config } = ctx;
  let allow: { credentialId: string; transports: string[] }[] | undefined;
  if (boundUserId) allow = await passkeysRepo(db, boundUserId).credentials();
  else if (input.email !== undefined) {
    const found = await credentialsOfEmail(db, input.email);
    allow = found.length > 0 ? found : [decoyCredential(ctx, input.email)];
  }
  const options = await (await webauthn()).generateAuthenticationOptions({
    rpID: config.WEBAUTHN_RP_ID,
    // Transports are hints: for an email's options they would tell real passkeys from the
    // stand-in, so they are left out there (the browser then tries every transport).
    allowCredentials: allow?.map((c) => (boundUserId ? { id: c.credentialId, transports: asTransports(c.transports) } : { id: c.credentialId })),
    userVerification: "preferred",
    timeout: CHALLENGE_TTL_MS,
  });
  const challengeId = await storeChallenge(ctx, options.challenge, "authentication", boundUserId);
  return { ...options, challenge_id: challengeId };
}

export interface PasskeyProof {
  userId: string;
  credentialId: string;
  /** The authenticator verified the user (PIN, biometrics): the assertion is two factors in one. */
  uv: boolean;
}

/**
 * Verifies a passkey assertion against an authentication challenge and records its use. The
 * challenge is spent first (a failed attempt spends it too). Refused (401 `invalid_credentials`):
 * an unknown, used, expired or registration challenge; an unknown credential; a credential of
 * another user than the challenge (or `opts.userId`) is bound to; a wrong origin, RP ID or
 * signature; a signature counter that did not move forward (WebAuthn §7.2 step 21: a possible
 * cloned authenticator, audited as `auth.passkey_counter_regressed`).
 *
 * `opts.userId` (step-up, POST /auth/reauthenticate): the challenge must have been asked for with
 * that user's token and be answered by one of that user's passkeys.
 */
export async function verifyPasskeyAssertion(ctx: RequestContext, input: { challenge_id: string; response: unknown }, opts: { userId?: string } = {}): Promise<PasskeyProof> {
  const { db, now, config } = ctx;
  const response = input.response as AuthenticationResponseJSON;
  const [pending, passkey] = await Promise.all([
    consumeChallenge(db, input.challenge_id, "authentication", now),
    typeof response.id === "string" ? findPasskeyByCredentialId(db, response.id) : Promise.resolve(undefined),
  ]);
  if (!pending || !passkey) throw invalidAssertion();
  const boundTo = opts.userId ?? pending.userId;
  if ((opts.userId !== undefined && pending.userId !== opts.userId) || (boundTo !== null && passkey.userId !== boundTo)) throw invalidAssertion();
  const userId = passkey.userId;
  const result = await (await webauthn()).verifyAuthenticationResponse({
    response,
    expectedChallenge: pending.challenge,
    expectedOrigin: config.WEBAUTHN_ORIGINS,
    expectedRPID: config.WEBAUTHN_RP_ID,
    // The counter is judged below, by one guarded UPDATE (so two concurrent uses cannot both pass).
    credential: { id: passkey.credentialId, publicKey: fromBase64(passkey.publicKey) as Uint8Array<ArrayBuffer>, counter: 0, transports: asTransports(passkey.transports) },
    requireUserVerification: false,
  }).catch((err: unknown) => {
    ctx.log.info("passkey assertion refused", { reason: err instanceof Error ? err.message : String(err) });
    return null;
  });
  if (!result?.verified) {
    ctx.waitUntil(
      runBatch(ctx, [auditInsert(db, ctx, { userId, action: "auth.passkey_login_failed", details: { passkey_id: passkey.id, reason: "verification_failed" } })]).catch((err) =>
        log.error("auditing a failed passkey sign-in failed", { request_id: ctx.requestId }, err),
      ),
    );
    throw invalidAssertion();
  }
  const info = result.authenticationInfo;
  const [used] = await runBatch(ctx, [recordPasskeyUse(db, passkey.id, { counter: info.newCounter, backedUp: info.credentialBackedUp }, now)]);
  if (used.length === 0) {
    await runBatch(ctx, [
      auditInsert(db, ctx, { userId, action: "auth.passkey_counter_regressed", details: { passkey_id: passkey.id, stored: passkey.counter, received: info.newCounter } }),
    ]);
    throw invalidAssertion();
  }
  return { userId, credentialId: passkey.credentialId, uv: info.userVerified };
}

/**
 * POST /auth/passkeys/login/verify: the per-IP limit first, then the assertion; then the same
 * path as a password sign-in (account state, device token, session, "new sign-in" email, audit).
 * An assertion with user verification is multi-factor: it skips the TOTP step; without it, a
 * user with TOTP on gets `mfa_required` like after a password.
 */
export async function loginWithPasskey(ctx: RequestContext, input: { challenge_id: string; response: unknown; device_name?: string | undefined; device_token?: string | undefined }) {
  const { db, now } = ctx;
  await limitPasskeyCeremony(ctx);
  const proof = await verifyPasskeyAssertion(ctx, input);
  const user = await findUserById(db, proof.userId, now);
  if (!user) throw invalidAssertion();
  // A passkey that verified the user is two factors; passkeys keep working under enforce_sso.
  return signInVerified(ctx, user, input, { method: "passkey", mfaSatisfied: proof.uv, ssoExempt: true });
}

/** The limit of the public ceremony routes, before any work. */
export const limitPasskeyCeremony = (ctx: RequestContext) => rateLimitIp(ctx, "passkey", ctx.config.RATE_PASSKEY_PER_IP);

// ─── the user's passkeys ────────────────────────────────────────────────────────────────────

export async function listPasskeys(ctx: RequestContext, owner: Owner) {
  return { items: (await passkeysRepo(ctx.db, owner).list()).map(toPasskeyOut) };
}

export async function renamePasskey(ctx: RequestContext, owner: Owner, id: string, name: string) {
  const [renamed] = await passkeysRepo(ctx.db, owner).rename(id, name);
  if (!renamed) throw new AppError("not_found", "Passkey not found");
  await runBatch(ctx, [auditInsert(ctx.db, ctx, { userId: owner, action: "auth.passkey_renamed", details: { passkey_id: id, name } })]);
  return toPasskeyOut(renamed);
}

/**
 * DELETE /me/passkeys/{id}: refused (409) when it is the user's last way to sign in. The audit
 * row and the delete carry the same condition, in one batch: both happen or neither.
 */
export async function removePasskey(ctx: RequestContext, owner: Owner, id: string) {
  const repo = passkeysRepo(ctx.db, owner);
  const [, removed] = await runBatch(ctx, [
    auditInsertIf(ctx.db, ctx, { userId: owner, action: "auth.passkey_removed", details: { passkey_id: id } }, repo.removable(id)),
    repo.remove(id),
  ]);
  if (removed.length > 0) return;
  if (!(await repo.get(id))) throw new AppError("not_found", "Passkey not found");
  throw new AppError("conflict", "This passkey is the account's last way to sign in: set a password or add another passkey first");
}
