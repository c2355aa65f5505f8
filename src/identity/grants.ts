import { primaryDb } from "../platform/db";
import type { Access, Actor, OrgRole } from "./actor";
import type { RequestContext } from "../platform/context";
import { AppError } from "../platform/errors";
import { IsolateCache } from "../platform/isolate-cache";
import { IMPLICIT_ROLE, loadGrants, type Grants } from "./grants.repo";

/** Every permission of the built-in set (docs/api.md, Administration). */
export const PERMISSIONS = ["read:own", "write:own", "read:all", "write:all", "admin:users", "admin:roles", "admin:audit", "admin:system"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Per-isolate cache of each user's grants, so authentication costs no D1 round trip on hot paths.
 *
 * Propagation: a change made through keel calls `accessChanged` and is seen at once by the isolate
 * that made it; other isolates keep a granted role, permission or membership for at most
 * ACCESS_CACHE_SECONDS (default 10 s). A missing grant is never trusted from the cache: a denial
 * reloads from D1 first (`resolveAccess(…, { fresh: true })`), so a new membership or role works at
 * once everywhere. Role expiry is applied at each request, cached or not.
 */
const grantsCache = new IsolateCache<string, Grants>();

/** Effective access from stored grants at `now`: expired roles grant nothing. */
export function effectiveAccess(grants: Grants, now: Date): Access {
  const live = grants.roles.filter((g) => g.expiresAt === null || g.expiresAt > now);
  const assigned = live.map((g) => g.role).filter((r) => r !== IMPLICIT_ROLE).sort();
  return {
    roles: [IMPLICIT_ROLE, ...assigned],
    permissions: new Set(live.flatMap((g) => g.permissions)),
    memberships: new Map<string, OrgRole>(grants.memberships),
    consents: grants.consents,
  };
}

/** The user's access now, from the isolate cache or D1. */
export async function resolveAccess(ctx: RequestContext, userId: string, opts: { fresh?: boolean } = {}): Promise<Access> {
  const now = ctx.now.getTime();
  let grants = opts.fresh ? undefined : grantsCache.get(userId, now);
  if (!grants) {
    grants = await loadGrants(primaryDb(ctx.env), userId); // cached: read the primary (platform/db.ts)
    grantsCache.set(userId, grants, now, ctx.config.ACCESS_CACHE_SECONDS * 1000);
  }
  return effectiveAccess(grants, ctx.now);
}

/**
 * Whether the user still has to accept the configured terms or privacy policy (a configured
 * version differs from the latest one accepted). Empty configuration = not tracked.
 */
export function termsUpdateRequired(config: { TERMS_VERSION: string; PRIVACY_VERSION: string }, consents: Access["consents"]): boolean {
  return (config.TERMS_VERSION !== "" && consents.terms !== config.TERMS_VERSION) || (config.PRIVACY_VERSION !== "" && consents.privacy !== config.PRIVACY_VERSION);
}

/**
 * 403 `terms_update_required` unless the user accepted the configured versions. Outdated consent
 * in the cache is re-read from D1 first (an acceptance just recorded in another isolate counts).
 */
export async function assertTermsAccepted(ctx: RequestContext, userId: string, access: Access): Promise<Access> {
  if (!termsUpdateRequired(ctx.config, access.consents)) return access;
  const fresh = await resolveAccess(ctx, userId, { fresh: true });
  if (termsUpdateRequired(ctx.config, fresh.consents)) {
    throw new AppError("terms_update_required", "Accept the current terms and privacy policy with POST /api/v1/me/consents", {
      fields: { terms_version: ctx.config.TERMS_VERSION || null, privacy_version: ctx.config.PRIVACY_VERSION || null },
    });
  }
  return fresh;
}

/** Call after a committed change to a user's roles, memberships or consents. */
export function accessChanged(userId: string): void {
  grantsCache.delete(userId);
}

/**
 * Whether the actor (a user, or an API key's owner) holds `permission` now. A denial is re-checked
 * in D1, so a role granted moments ago in another isolate counts; the refreshed access is kept
 * on the actor for the rest of the request.
 */
export async function hasPermission(ctx: RequestContext, actor: Actor, permission: string): Promise<boolean> {
  if (actor.access.permissions.has(permission)) return true;
  actor.access = await resolveAccess(ctx, actor.userId, { fresh: true });
  return actor.access.permissions.has(permission);
}

/** Call after a committed change to a role's permissions or its deletion: any holder's cached grants are stale. */
export function allAccessChanged(): void {
  grantsCache.clear();
}
