import { sql } from "drizzle-orm";
import { ownerOf, systemOwner, type Owner } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import type { RequestContext, ServiceContext } from "../../platform/context";
import { randomToken, sha256Hex } from "../../platform/crypto";
import { runBatch, type Statement } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { signAccessToken } from "../../platform/jwt";
import { publishRevokedSessions } from "../../platform/revocation";
import { closeStreams } from "../../platform/notification-hub";
import { emails } from "../../email/templates";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { auditInsert, auditInsertIf, type AuditEntry } from "../../audit/audit.repo";
import {
  findRefreshToken,
  insertRefreshToken,
  insertRefreshTokenIf,
  isNewDeviceForReturningUser,
  isNewCountryForReturningUser,
  isDeviceSeenSince,
  purgeExpiredCredentials,
  sessionForRefresh,
  sessionsRepo,
  spendRefreshToken,
  touchSession,
  upsertDevice,
} from "./sessions.repo";
import { toUserOut } from "../users/user.schema";
import { userViewChanged } from "../users/user-view-cache";
import { findUserById, recordLoginSuccess, type UserWithRoles } from "../users/users.repo";
import { isPasswordExpired, passwordSetAt } from "../../identity/password-age";
import { termsUpdateRequired } from "../../identity/grants";
import { DAY } from "../../platform/time";

/**
 * When a session (and its newest refresh token) expires: REFRESH_TOKEN_TTL_DAYS after its last
 * use, but never past SESSION_MAX_DAYS after it began: refreshing cannot keep it alive forever.
 */
const sessionExpiry = (config: RequestContext["config"], createdAt: Date, now: Date) =>
  new Date(Math.min(now.getTime() + config.REFRESH_TOKEN_TTL_DAYS * DAY, createdAt.getTime() + config.SESSION_MAX_DAYS * DAY));

/** "Patna, IN" / "IN" for the "new sign-in" email; null when the edge did not say. */
const locationLabel = (geo: RequestContext["geo"]) => (geo.country ? (geo.city ? `${geo.city}, ${geo.country}` : geo.country) : null);

/** Device identity for the "new sign-in" email: the user agent, normalised and hashed. */
const deviceFingerprint = (userAgent: string) => sha256Hex(userAgent.trim().toLowerCase() || "unknown");

/**
 * A device's `last_seen_at` is kept to this grain: a sign-in from a device seen more recently
 * writes no device row (one statement less in the usual sign-in's batch). Nothing reads the
 * value but the data export.
 */
const DEVICE_SEEN_GRAIN = DAY;

/**
 * SQL probes for the sign-in's user lookup (findUserByEmailProbing): whether this request's
 * device and country would be news (the "new sign-in" email, the `auth.new_country` audit). Their
 * answers go to `openSession` as `seen`: the usual sign-in, from a known device and country,
 * then neither renders and seals an email nor writes the conditional statements that would
 * decide to send nothing. News is still decided inside the batch, as without the probes.
 * `deviceFresh`: the device was seen within DEVICE_SEEN_GRAIN, so its row is left alone.
 */
export function signInNewsProbes(ctx: RequestContext) {
  const userId = sql`"users"."id"`;
  const { country } = ctx.geo;
  const fingerprint = deviceFingerprint(ctx.userAgent);
  return {
    deviceSeen: sql`NOT (${isNewDeviceForReturningUser(userId, fingerprint)})`,
    countrySeen: country ? sql`NOT (${isNewCountryForReturningUser(userId, country)})` : sql`1`,
    deviceFresh: isDeviceSeenSince(userId, fingerprint, new Date(ctx.now.getTime() - DEVICE_SEEN_GRAIN)),
  };
}

async function tokensFor(ctx: RequestContext, user: UserWithRoles, sessionId: string, refreshToken: string, authTime: Date) {
  const passwordExpired = isPasswordExpired(passwordSetAt(user), ctx.config.PASSWORD_MAX_AGE_DAYS, ctx.now);
  const claims = { sub: user.id, sid: sessionId, pwx: passwordExpired, auth_time: Math.floor(authTime.getTime() / 1000) };
  const accessToken = await signAccessToken(ctx.env, ctx.config, claims, ctx.now);
  return {
    access_token: accessToken,
    refresh_token: refreshToken,
    token_type: "Bearer" as const,
    expires_in: ctx.config.ACCESS_TOKEN_TTL_SECONDS,
    session_id: sessionId,
    user: toUserOut(user),
    password_expired: passwordExpired,
    terms_update_required: termsUpdateRequired(ctx.config, { terms: user.acceptedTerms, privacy: user.acceptedPrivacy }),
  };
}

/** How a sign-in was proven (the audit row's `method`). */
export type SignInMethod = "password" | "totp" | "backup_code" | "email_code" | "email_link" | "passkey" | "oidc";

/**
 * Opens a session after a successful login (password, or password + second factor): session,
 * refresh token, login bookkeeping, device, audit and a "new sign-in" email for an unseen
 * device, all in one batch.
 */
export async function openSession(
  ctx: RequestContext,
  user: UserWithRoles,
  opts: {
    deviceName: string | null;
    rehash?: string;
    method: SignInMethod;
    extra?: Statement[];
    seen?: { deviceSeen: boolean; countrySeen: boolean; deviceFresh?: boolean };
    /** The sign-in guard reservation this session settles (recorded on the user, see SignInGuard). */
    settles?: number | undefined;
  },
) {
  const { db, now, config } = ctx;
  const owner = systemOwner(user.id, "sign-in");
  const sessionId = newId("ses", now.getTime());
  const refreshToken = randomToken(32);
  const expiresAt = sessionExpiry(config, now, now);
  const fingerprint = deviceFingerprint(ctx.userAgent);
  // Decided inside the batch, before the device is recorded: no extra round trip. Skipped when
  // the lookup already saw this device (signInNewsProbes).
  const newSignInMail = opts.seen?.deviceSeen ? null : await outboxInsertIf(
    ctx,
    {
      to: user.email,
      userId: user.id,
      email: emails.newSignIn({
        name: user.fullName,
        when: now.toISOString(),
        ip: ctx.ip,
        device: opts.deviceName ?? (ctx.userAgent || "unknown device"),
        location: locationLabel(ctx.geo),
      }),
    },
    isNewDeviceForReturningUser(user.id, fingerprint),
  );

  const { country, city } = ctx.geo;
  const statements: Statement[] = [
    ...(newSignInMail ? [newSignInMail.statement] : []),
    ...(opts.extra ?? []),
    // Decided in the same batch, before this session is recorded: no extra round trip.
    ...(country && !opts.seen?.countrySeen
      ? [auditInsertIf(db, ctx, { userId: user.id, action: "auth.new_country", details: { country, city, session_id: sessionId } }, isNewCountryForReturningUser(user.id, country))]
      : []),
    sessionsRepo(db, owner).insert(
      { id: sessionId, deviceName: opts.deviceName, ipAddress: ctx.ip, userAgent: ctx.userAgent.slice(0, 512), country, city, expiresAt },
      now,
    ),
    insertRefreshToken(db, { sessionId, userId: user.id, tokenHash: sha256Hex(refreshToken), expiresAt }, now),
    recordLoginSuccess(db, owner, ctx.ip, now, opts.rehash, opts.settles),
    ...(opts.seen?.deviceFresh ? [] : [upsertDevice(db, user.id, fingerprint, now)]),
    auditInsert(db, ctx, { userId: user.id, action: "auth.login_succeeded", details: { session_id: sessionId, method: opts.method } }),
  ];
  if (opts.rehash) {
    statements.push(auditInsert(db, ctx, { userId: user.id, action: "auth.password_rehashed", details: { reason: "parameters upgraded" } }));
  }
  // Signing does not depend on the write: overlap it with the batch's round trip (the tokens
  // are only handed out if the batch commits).
  const [results, tokens] = await Promise.all([
    ctx.timed("write", () => runBatch(ctx, statements)),
    tokensFor(ctx, { ...user, lastLoginAt: now }, sessionId, refreshToken, now),
  ]);
  userViewChanged(user.id);
  if (newSignInMail && (results[0] as D1Result).meta.changes > 0) ctx.waitUntil(enqueueEmails(ctx.env, [newSignInMail.id]));
  return tokens;
}

/**
 * Rotates a refresh token. The spend is one guarded UPDATE; presenting a token that was already
 * spent is reuse (OAuth 2.0 Security BCP): the whole session is revoked and 401 `token_reused`.
 */
export async function refreshSession(ctx: RequestContext, refreshToken: string) {
  const { db, now, config } = ctx;
  const hash = sha256Hex(refreshToken);
  const [spent] = await spendRefreshToken(db, hash, now);
  if (!spent) {
    const row = await findRefreshToken(db, hash);
    if (row?.usedAt) {
      const repo = sessionsRepo(db, systemOwner(row.userId, "sign-in"));
      await runBatch(ctx, [
        auditInsert(db, ctx, { userId: row.userId, action: "auth.refresh_reused", details: { session_id: row.sessionId } }),
        repo.revoke(row.sessionId, "refresh_token_reused", now),
      ]);
      await publishRevokedSessions(ctx.env, config, [row.sessionId], now.getTime());
      await closeStreams(ctx.env, config, row.userId, [row.sessionId], now.getTime());
      throw new AppError("token_reused", "This refresh token was already used; the session has been ended");
    }
    if (row) throw new AppError("token_expired", "Refresh token expired; sign in again");
    throw new AppError("unauthenticated", "Unknown refresh token");
  }
  const [session, user] = await Promise.all([sessionForRefresh(db, spent.sessionId), findUserById(db, spent.userId, now)]);
  const expiresAt = session ? sessionExpiry(config, session.createdAt, now) : now;
  if (!session || !user || session.revokedAt !== null || session.expiresAt <= now || expiresAt <= now) {
    throw new AppError("unauthenticated", "Session has ended");
  }
  if (user.status !== "active") throw new AppError("account_inactive");

  const next = randomToken(32);
  const [, tokens] = await Promise.all([
    runBatch(ctx, [
      insertRefreshToken(db, { sessionId: session.id, userId: user.id, tokenHash: sha256Hex(next), expiresAt }, now),
      touchSession(db, session.id, { ip: ctx.ip, userAgent: ctx.userAgent.slice(0, 512), expiresAt }, now),
    ]),
    // A refresh keeps the session's authentication time: only a sign-in or a step-up renews it.
    tokensFor(ctx, user, session.id, next, session.authTime ?? session.createdAt),
  ]);
  return tokens;
}

/**
 * POST /auth/reauthenticate, once the proof checked out: the session's authentication time
 * becomes now, its unspent refresh tokens give way to a new one, audited, in one batch guarded
 * by the session being live. Returns Tokens whose access token carries the fresh `auth_time`.
 */
export async function reauthenticateSession(ctx: RequestContext, user: UserWithRoles, sessionId: string, method: string, extra: Statement[] = []) {
  const { db, now, config } = ctx;
  const owner = systemOwner(user.id, "sign-in");
  const refreshToken = randomToken(32);
  const [stamp, dropOld] = sessionsRepo(db, owner).reauthenticated(sessionId, now);
  const live = sessionsRepo(db, owner).isLive(sessionId, now);
  // The new refresh token and the audit row exist only if the session was live (same guard).
  const session = await sessionForRefresh(db, sessionId);
  if (!session || session.revokedAt !== null || session.expiresAt <= now) throw new AppError("unauthenticated", "Session has ended");
  const expiresAt = sessionExpiry(config, session.createdAt, now);
  const [results, tokens] = await Promise.all([
    runBatch(ctx, [
      stamp,
      dropOld,
      insertRefreshTokenIf(db, { sessionId, userId: user.id, tokenHash: sha256Hex(refreshToken), expiresAt }, now, live),
      ...extra,
      auditInsertIf(db, ctx, { userId: user.id, action: "auth.reauthenticated", details: { session_id: sessionId, method } }, live),
    ]),
    tokensFor(ctx, user, sessionId, refreshToken, now),
  ]);
  if ((results[0] as unknown[]).length === 0) throw new AppError("unauthenticated", "Session has ended");
  return tokens;
}

/**
 * Ends sessions of a user in D1 (with an audit row in the same batch), then publishes them to
 * the edge so their access tokens stop working. Returns the ids that were live.
 */
export async function endSessions(
  ctx: RequestContext,
  userId: Owner,
  which: { only: string } | { allExcept?: string },
  reason: string,
  audit: AuditEntry | null,
  extra: Statement[] = [],
  /** Receives the results of `extra` (same order), once the batch committed. */
  extraResults?: (results: unknown[]) => void,
): Promise<string[]> {
  const { db, now } = ctx;
  const repo = sessionsRepo(db, userId);
  const revoke = "only" in which ? repo.revoke(which.only, reason, now) : repo.revokeAll(reason, now, which.allExcept);
  const statements: Statement[] = [...extra];
  if (audit) {
    statements.push("only" in which ? auditInsertIf(db, ctx, audit, repo.isLive(which.only, now)) : auditInsert(db, ctx, audit));
  }
  statements.push(revoke);
  const results = await runBatch(ctx, statements);
  extraResults?.(results.slice(0, extra.length));
  const ids = (results[results.length - 1] as { id: string }[]).map((r) => r.id);
  await publishRevokedSessions(ctx.env, ctx.config, ids, now.getTime());
  await closeStreams(ctx.env, ctx.config, userId, ids, now.getTime());
  return ids;
}

export async function listSessions(ctx: RequestContext, actor: UserActor) {
  const rows = await sessionsRepo(ctx.db, ownerOf(actor)).listActive(ctx.now);
  return rows.map((s) => ({
    id: s.id,
    device_name: s.deviceName,
    ip_address: s.ipAddress,
    user_agent: s.userAgent,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    country: s.country,
    city: s.city,
    current: s.id === actor.sessionId,
  }));
}

/** Cron: deletes credentials that can no longer be used (see `purgeExpiredCredentials` in the repo). Counts per kind. */
export async function purgeUnusableCredentials(ctx: Pick<ServiceContext, "db" | "now">): Promise<Record<string, number>> {
  return purgeExpiredCredentials(ctx.db, ctx.now);
}
