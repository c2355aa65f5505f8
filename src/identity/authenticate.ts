import { primaryDb } from "../platform/db";
import { isSessionLive } from "./credentials.repo";
import { looksLikeApiKey, lookupApiKey, recordApiKeyUse } from "./api-key-credentials";
import type { Actor, ApiKeyActor, OrgKeyActor, UserActor } from "./actor";
import { looksLikeOrgKey, orgKeyFromCredential } from "./org-key-credentials";
import type { RequestContext } from "../platform/context";
import { AppError } from "../platform/errors";
import { verifyAccessToken } from "../platform/jwt";
import { takeLeased } from "../platform/rate-lease";
import { revocationOf } from "../platform/revocation";
import { ipAllowed } from "./ip-allow-list";
import type { OrgKeyScope, Scope } from "./scopes";
import { isPasswordExpired, passwordExpiredNow } from "./password-age";
import { assertTermsAccepted, resolveAccess } from "./grants";

export interface SessionRequirement {
  /** Check the session and the user's status in D1, not only the edge cache (sensitive operations). */
  fresh?: boolean;
  /** Let a session whose password expired through (only the password change route). */
  allowExpiredPassword?: boolean;
  /**
   * Let a user who has not accepted the configured terms / privacy versions through (only
   * POST /me/consents and logout); everywhere else they get 403 `terms_update_required`.
   */
  allowOutdatedTerms?: boolean;
}

/**
 * A read the route's handler is about to make for the authenticated user (e.g. GET /me's user
 * view), started beside authentication's own reads (revocation markers, grants) instead of after
 * them: when the caches are cold (the first read after a restart) the request waits for one
 * storage round trip instead of two (issue 20, point 3). It only warms a cache the handler reads
 * itself; it decides nothing, its result is not used here and its failure is ignored (the
 * handler's own read reports it). It starts only once the token's signature is verified.
 */
export type Prefetch = (ctx: RequestContext, userId: string) => Promise<unknown>;

const prefetched = (ctx: RequestContext, prefetch: Prefetch | undefined, userId: string): Promise<unknown> =>
  prefetch ? prefetch(ctx, userId).catch(() => undefined) : Promise.resolve();

function credentialOf(authorization: string | undefined, apiKeyHeader: string | undefined): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}

const noScope = () => new AppError("insufficient_scope", "API keys cannot be used on this route");

/** The user behind an access token, with its access resolved in the same round trip as the checks. */
async function userFromToken(ctx: RequestContext, token: string, req: SessionRequirement & { prefetch?: Prefetch }): Promise<UserActor> {
  const claims = await verifyAccessToken(ctx.env, ctx.config, token);
  const [revoked, access, live] = await Promise.all([
    revocationOf(ctx.env, ctx.config, claims.sid, claims.sub, ctx.now.getTime()),
    resolveAccess(ctx, claims.sub),
    req.fresh ? isSessionLive(primaryDb(ctx.env), claims.sub, claims.sid, ctx.now) : Promise.resolve(true),
    prefetched(ctx, req.prefetch, claims.sub),
  ]);
  if (revoked === "user_inactive") throw new AppError("account_inactive");
  if (revoked === "session_revoked" || !live) throw new AppError("unauthenticated", "Session has ended");
  if (claims.pwx && !req.allowExpiredPassword && (await passwordExpiredNow(ctx.db, ctx.config, claims.sub, ctx.now))) {
    throw new AppError("password_expired", "Your password has expired: change it with POST /api/v1/auth/password/change");
  }
  const current = req.allowOutdatedTerms ? access : await assertTermsAccepted(ctx, claims.sub, access);
  return { kind: "user", userId: claims.sub, sessionId: claims.sid, passwordExpired: claims.pwx === true, authTime: claims.auth_time, access: current };
}

/** The owner of an API key, within the key's scopes, IP allow-list and hourly limit. */
async function keyFromCredential(ctx: RequestContext, credential: string, scope: Scope | undefined, setHeader: (k: string, v: string) => void, prefetch?: Prefetch): Promise<ApiKeyActor> {
  const record = await lookupApiKey(ctx, credential);
  if (!record || record.revoked) throw new AppError("unauthenticated", "Invalid or revoked API key");
  // The owner's status as D1 had it when the record was cached: holds even if the KV marker was lost.
  if (!record.ownerActive) throw new AppError("account_inactive", "The key's owner is not active");
  if (record.expiresAt !== null && record.expiresAt <= ctx.now.getTime()) throw new AppError("unauthenticated", "API key expired");
  // Password expiry holds for keys as for sessions: a key cannot outlive its owner's password.
  if (isPasswordExpired(record.ownerPasswordChangedAt === null ? null : new Date(record.ownerPasswordChangedAt), ctx.config.PASSWORD_MAX_AGE_DAYS, ctx.now)) {
    throw new AppError("password_expired", "The key owner's password has expired: the owner changes it (POST /api/v1/auth/password/change), then creates new keys");
  }
  if (!ipAllowed(ctx.ip, record.allowedIps)) throw new AppError("forbidden", "This API key may not be used from this IP address");
  if (!scope) throw noScope();
  if (!record.scopes.includes(scope)) throw new AppError("insufficient_scope", `This route needs the ${scope} scope`);
  const [revoked, access] = await Promise.all([
    revocationOf(ctx.env, ctx.config, null, record.userId, ctx.now.getTime()),
    resolveAccess(ctx, record.userId),
    prefetched(ctx, prefetch, record.userId),
  ]);
  if (revoked !== null) throw new AppError("account_inactive", "The key's owner is not active");
  // An API key acts as its owner: until the owner accepts the current terms, it is refused too.
  const current = await assertTermsAccepted(ctx, record.userId, access);
  // From this isolate's leased block of the key's hourly budget: no Durable Object call for most requests.
  const usage = await takeLeased(ctx.env, `apikey:${record.id}`, { limit: record.rateLimitPerHour, windowSeconds: 3600 }, ctx.now.getTime());
  setHeader("RateLimit-Limit", String(record.rateLimitPerHour));
  setHeader("RateLimit-Remaining", String(usage.remaining));
  recordApiKeyUse(ctx, record.id);
  return { kind: "apiKey", userId: record.userId, keyId: record.id, scopes: new Set(record.scopes), access: current };
}

/**
 * Who is calling: a user (access token) or an API key, narrowed by the kind of route. A
 * session-only route (no `scope`) refuses API keys; a scoped route takes a user or an API key that
 * carries the scope. `securedRoute` calls it before input validation, so an anonymous caller gets
 * 401, never a hint about the body.
 */
type Headers = { authorization?: string; apiKey?: string; set: (k: string, v: string) => void };
/** `orgKey`: the route also admits an organization key carrying that scope (default: refused). */
type Requirement = SessionRequirement & { scope?: Scope; orgKey?: OrgKeyScope; prefetch?: Prefetch };

export async function authenticateActor(ctx: RequestContext, headers: Headers, req: Requirement & { orgKey?: undefined }): Promise<Actor>;
export async function authenticateActor(ctx: RequestContext, headers: Headers, req: Requirement): Promise<Actor | OrgKeyActor>;
export async function authenticateActor(ctx: RequestContext, headers: Headers, req: Requirement): Promise<Actor | OrgKeyActor> {
  const credential = credentialOf(headers.authorization, headers.apiKey);
  if (!credential) throw new AppError("unauthenticated", "Send an access token or API key: Authorization: Bearer <token>");
  // An organization key passes only where the route names its scope: default deny.
  if (looksLikeOrgKey(credential)) return orgKeyFromCredential(ctx, credential, req.orgKey, headers.set);
  return looksLikeApiKey(credential) ? keyFromCredential(ctx, credential, req.scope, headers.set, req.prefetch) : userFromToken(ctx, credential, req);
}
