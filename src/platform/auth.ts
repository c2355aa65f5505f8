import type { MiddlewareHandler } from "hono";
import { looksLikeApiKey, lookupApiKey, recordApiKeyUse } from "../features/api-keys/api-keys.service";
import { ipAllowed } from "../features/api-keys/ip-allow-list";
import type { Scope } from "../features/api-keys/scopes";
import { isSessionLive } from "../features/users/users.repo";
import { passwordExpiredNow } from "../features/auth/password.rules";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import { verifyAccessToken } from "./jwt";
import { rateLimit } from "./rate-limit";
import { revocationOf } from "./revocation";

export interface AuthOptions {
  /**
   * The scope an API key needs for this route. Without one, API keys are refused: a key can
   * never manage API keys, sessions, passwords, 2FA or organizations.
   */
  scope?: Scope;
  /** Check the session and the user's status in D1, not only the edge cache (sensitive operations). */
  fresh?: boolean;
  /** Let a session whose password expired through (only the password change route). */
  allowExpiredPassword?: boolean;
}

function credentialOf(authorization: string | undefined, apiKeyHeader: string | undefined): string | null {
  if (apiKeyHeader) return apiKeyHeader.trim();
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}

/**
 * Authenticates the request (access JWT or API key) and sets `c.var.actor`. Runs before input
 * validation, so an anonymous caller gets 401, never a hint about the body.
 */
export function requireAuth(options: AuthOptions = {}): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const ctx = c.var.ctx;
    const credential = credentialOf(c.req.header("Authorization"), c.req.header("X-API-Key"));
    if (!credential) throw new AppError("unauthenticated", "Send an access token or API key: Authorization: Bearer <token>");

    if (looksLikeApiKey(credential)) {
      const record = await lookupApiKey(ctx, credential);
      if (!record || record.revoked) throw new AppError("unauthenticated", "Invalid or revoked API key");
      // The owner's status as D1 had it when the record was cached: holds even if the KV marker was lost.
      if (!record.ownerActive) throw new AppError("account_inactive", "The key's owner is not active");
      if (record.expiresAt !== null && record.expiresAt <= ctx.now.getTime()) throw new AppError("unauthenticated", "API key expired");
      if (!ipAllowed(ctx.ip, record.allowedIps)) throw new AppError("forbidden", "This API key may not be used from this IP address");
      if (!options.scope) throw new AppError("insufficient_scope", "API keys cannot be used on this route");
      if (!record.scopes.includes(options.scope)) throw new AppError("insufficient_scope", `This route needs the ${options.scope} scope`);
      if ((await revocationOf(ctx.env, ctx.config, null, record.userId, ctx.now.getTime())) !== null) {
        throw new AppError("account_inactive", "The key's owner is not active");
      }
      const usage = await rateLimit(ctx.env, `apikey:${record.id}`, { limit: record.rateLimitPerHour, windowSeconds: 3600 });
      c.header("RateLimit-Limit", String(record.rateLimitPerHour));
      c.header("RateLimit-Remaining", String(usage.remaining));
      recordApiKeyUse(ctx, record.id);
      c.set("actor", { kind: "apiKey", userId: record.userId, keyId: record.id, scopes: new Set(record.scopes) });
      return next();
    }

    const claims = await verifyAccessToken(ctx.env, ctx.config, credential);
    const revoked = await revocationOf(ctx.env, ctx.config, claims.sid, claims.sub, ctx.now.getTime());
    if (revoked === "user_inactive") throw new AppError("account_inactive");
    if (revoked === "session_revoked") throw new AppError("unauthenticated", "Session has ended");
    if (options.fresh && !(await isSessionLive(ctx.db, claims.sub, claims.sid, ctx.now))) {
      throw new AppError("unauthenticated", "Session has ended");
    }
    if (claims.pwx && !options.allowExpiredPassword && (await passwordExpiredNow(ctx.db, ctx.config, claims.sub, ctx.now))) {
      throw new AppError("password_expired", "Your password has expired: change it with POST /api/v1/auth/password/change");
    }
    c.set("actor", { kind: "user", userId: claims.sub, sessionId: claims.sid, passwordExpired: claims.pwx === true });
    return next();
  };
}

/** The signed-in user's session id, or 403 for API keys (routes that are about sessions). */
export function sessionOf(actor: AppEnv["Variables"]["actor"]): string {
  if (actor.kind !== "user") throw new AppError("insufficient_scope", "API keys cannot be used on this route");
  return actor.sessionId;
}
