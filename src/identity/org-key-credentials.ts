import type { RequestContext } from "../platform/context";
import { sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { IsolateCache } from "../platform/isolate-cache";
import { log } from "../platform/log";
import { takeLeased } from "../platform/rate-lease";
import { rateLimitIp } from "../platform/rate-limit";
import { primaryDb, runBatch } from "../platform/db";
import type { OrgKeyActor } from "./actor";
import { addOrgApiKeyUsage, findOrgApiKeyByHash } from "./credentials.repo";
import { ipAllowed } from "./ip-allow-list";
import type { OrgKeyScope } from "./scopes";

/**
 * Organization API keys as credentials (issue 18.6): the same SHA-256 hashing, IP allow-list and
 * hourly limit as user keys (api-key-credentials.ts). Unlike user keys they are read from D1 on
 * every use (one point read on the unique hash index): a revoked key, or a key of a deleted
 * organization (its row cascades away), stops at once in every isolate, with no cache to evict.
 */

/** Starts every organization key; distinct from `keel_`, so one look tells the two kinds apart. */
export const ORG_KEY_PREFIX = "keelorg_";
export const looksLikeOrgKey = (credential: string) => credential.startsWith(ORG_KEY_PREFIX);

/**
 * Hashes seen live here lately. Only to spare a known key the per-IP lookup limit (which bounds
 * how many random keys one IP can make D1 look up); never trusted for authorization.
 */
const seenLive = new IsolateCache<string, true>(10_000);
const SEEN_LIVE_MS = 60_000;

/**
 * The organization key behind `credential`, checked like a user key: 401 when unknown, revoked or
 * expired; 403 `forbidden` from an IP outside its allow-list; 403 `insufficient_scope` when the
 * route admits no organization key (`scope` undefined) or one with another scope; 429 past its
 * hourly limit.
 */
export async function orgKeyFromCredential(
  ctx: RequestContext,
  credential: string,
  scope: OrgKeyScope | undefined,
  setHeader: (k: string, v: string) => void,
): Promise<OrgKeyActor> {
  const hash = sha256Hex(credential);
  const now = ctx.now.getTime();
  if (!seenLive.get(hash, now)) await rateLimitIp(ctx, "apikey_lookup", ctx.config.RATE_API_KEY_LOOKUP_PER_IP);
  const row = await findOrgApiKeyByHash(primaryDb(ctx.env), hash); // cached: read the primary
  if (!row || row.revokedAt !== null) throw new AppError("unauthenticated", "Invalid or revoked API key");
  if (row.expiresAt !== null && row.expiresAt.getTime() <= now) throw new AppError("unauthenticated", "API key expired");
  seenLive.set(hash, true, now, SEEN_LIVE_MS);
  if (!ipAllowed(ctx.ip, row.allowedIps)) throw new AppError("forbidden", "This API key may not be used from this IP address");
  if (!scope) throw new AppError("insufficient_scope", "Organization API keys cannot be used on this route");
  if (!row.scopes.includes(scope)) throw new AppError("insufficient_scope", `This route needs the ${scope} scope`);
  const usage = await takeLeased(ctx.env, `orgapikey:${row.id}`, { limit: row.rateLimitPerHour, windowSeconds: 3600 }, now);
  setHeader("RateLimit-Limit", String(row.rateLimitPerHour));
  setHeader("RateLimit-Remaining", String(usage.remaining));
  recordOrgKeyUse(ctx, row.id);
  return { kind: "orgKey", orgId: row.organizationId, keyId: row.id, scopes: new Set(row.scopes) };
}

const USAGE_FLUSH_MS = 30_000;
const pendingUsage = new Map<string, { count: number; last: number }>();
let lastFlush = 0;

/** Counts a use; written in one batch at most every 30 s per isolate (as for user keys). */
function recordOrgKeyUse(ctx: RequestContext, keyId: string): void {
  const now = ctx.now.getTime();
  const entry = pendingUsage.get(keyId) ?? { count: 0, last: 0 };
  entry.count += 1;
  entry.last = Math.max(entry.last, now);
  pendingUsage.set(keyId, entry);
  if (now - lastFlush >= USAGE_FLUSH_MS) ctx.waitUntil(flushOrgKeyUsage(ctx));
}

export async function flushOrgKeyUsage(ctx: Pick<RequestContext, "db" | "now">): Promise<void> {
  lastFlush = ctx.now.getTime();
  if (pendingUsage.size === 0) return;
  const entries = [...pendingUsage.entries()];
  pendingUsage.clear();
  try {
    await runBatch(ctx, entries.map(([id, u]) => addOrgApiKeyUsage(ctx.db, id, u.count, new Date(u.last))));
  } catch (err) {
    for (const [id, u] of entries) {
      const cur = pendingUsage.get(id) ?? { count: 0, last: 0 };
      pendingUsage.set(id, { count: cur.count + u.count, last: Math.max(cur.last, u.last) });
    }
    log.error("org api key usage flush failed", {}, err);
  }
}
