import * as z from "zod";
import type { RequestContext } from "../platform/context";
import { primaryDb, runBatch } from "../platform/db";
import { sha256Hex } from "../platform/crypto";
import { IsolateCache } from "../platform/isolate-cache";
import { log } from "../platform/log";
import { MINUTE, SECOND } from "../platform/time";
import { rateLimitIp } from "../platform/rate-limit";
import { addApiKeyUsage, findApiKeyByHash, type ApiKeyCredentialRow } from "./credentials.repo";

/**
 * API keys as credentials: lookup (isolate memory, KV, then D1), revocation tombstones, and
 * usage counting. Key management (create, list, revoke) is features/api-keys.
 */

export const API_KEY_PREFIX = "keel_";
const KV_TTL_SECONDS = 300;
const MEMORY_TTL_MS = 30_000;
const USAGE_FLUSH_MS = 30_000;

/**
 * The parts of a key authentication needs; cached in KV and per isolate (no secrets in it).
 * Validated when read back from KV: an entry of another shape is refilled from D1.
 */
const ApiKeyRecord = z.object({
  id: z.string(),
  userId: z.string(),
  scopes: z.array(z.string()),
  allowedIps: z.array(z.string()).nullable(),
  rateLimitPerHour: z.number().int(),
  expiresAt: z.number().nullable(),
  revoked: z.boolean(),
  /** The owner's status was `active` when the record was read from D1 (at most KV_TTL_SECONDS ago). */
  ownerActive: z.boolean(),
  /**
   * When the owner's password was last set (ms): PASSWORD_MAX_AGE_DAYS applies to keys as to
   * sessions. It only moves with a new password, which revokes every key, so a cached copy is exact.
   * `null`: the owner has no password (NO_PASSWORD), so it never expires.
   */
  ownerPasswordChangedAt: z.number().nullable(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

const kvKey = (hash: string) => `ak:${hash}`;
/**
 * Revocation tombstone, a key of its own: a lookup that read D1 just before a revoke may write
 * its (live) record to `ak:` after the revoke evicted it; it can never overwrite this one.
 */
const kvRevokedKey = (hash: string) => `akr:${hash}`;
/** Outlives any `ak:` entry a racing lookup could still write (KV_TTL_SECONDS after it read D1). */
const TOMBSTONE_TTL_SECONDS = 2 * KV_TTL_SECONDS + 60;
const memory = new IsolateCache<string, ApiKeyRecord>(10_000);
/**
 * Negative cache: a presented key that D1 does not know, per isolate and in KV, so repeating it
 * costs no D1 read. Keys are 256 random bits: a key created later never has a remembered hash.
 */
const kvUnknownKey = (hash: string) => `akn:${hash}`;
/** KV's shortest TTL. */
const UNKNOWN_KV_TTL_SECONDS = 60;
const UNKNOWN_MEMORY_TTL_MS = MINUTE;
const unknownHere = new IsolateCache<string, true>();
/** Keys revoked through this isolate (hash → until): a racing lookup cannot re-cache them here. */
const revokedHere = new IsolateCache<string, true>(10_000);

const toRecord = (row: ApiKeyCredentialRow): ApiKeyRecord => ({
  id: row.id,
  userId: row.userId,
  scopes: row.scopes,
  allowedIps: row.allowedIps,
  rateLimitPerHour: row.rateLimitPerHour,
  expiresAt: row.expiresAt?.getTime() ?? null,
  revoked: row.revokedAt !== null,
  ownerActive: row.ownerStatus === "active",
  ownerPasswordChangedAt: row.ownerHasPassword ? row.ownerPasswordChangedAt.getTime() : null,
});

export const looksLikeApiKey = (credential: string) => credential.startsWith(API_KEY_PREFIX);

/**
 * Publishes keys revoked in D1 (by hash): evicted from this isolate's cache and KV, and
 * tombstoned here and in KV, so no cache (nor a lookup racing the revoke) serves them as live.
 */
export async function publishRevokedKeys(ctx: Pick<RequestContext, "env" | "now">, keyHashes: readonly string[]): Promise<void> {
  const now = ctx.now.getTime();
  for (const hash of keyHashes) {
    memory.delete(hash);
    revokedHere.set(hash, true, now, TOMBSTONE_TTL_SECONDS * SECOND);
  }
  await Promise.all(
    keyHashes.flatMap((hash) => [
      ctx.env.CACHE.put(kvRevokedKey(hash), "1", { expirationTtl: TOMBSTONE_TTL_SECONDS }),
      ctx.env.CACHE.delete(kvKey(hash)),
    ]),
  );
}

/**
 * Looks a presented key up: isolate memory (30 s), then KV (5 min) beside its revocation
 * tombstone, then D1. The owner's status is part of the record, so a deactivated owner's keys
 * stop within KV_TTL_SECONDS + MEMORY_TTL_MS even when the `ub:` marker never reached KV.
 */
export async function lookupApiKey(ctx: RequestContext, key: string): Promise<ApiKeyRecord | null> {
  const hash = sha256Hex(key);
  const now = ctx.now.getTime();
  if (revokedHere.get(hash, now)) return revokedRecord(memory.get(hash, now));
  const hit = memory.get(hash, now);
  if (hit) return hit;
  const [cached, tombstone] = await Promise.all([
    ctx.env.CACHE.get(kvKey(hash), "json").then((v) => ApiKeyRecord.safeParse(v)),
    ctx.env.CACHE.get(kvRevokedKey(hash)),
  ]);
  let record = cached.success ? cached.data : null;
  if (!record) {
    if (unknownHere.get(hash, now) || (await ctx.env.CACHE.get(kvUnknownKey(hash))) !== null) {
      unknownHere.set(hash, true, now, UNKNOWN_MEMORY_TTL_MS);
      return null;
    }
    // Only lookups that reach D1 count: known keys are cached above, so this is what random keys cost.
    await rateLimitIp(ctx, "apikey_lookup", ctx.config.RATE_API_KEY_LOOKUP_PER_IP);
    const row = await findApiKeyByHash(primaryDb(ctx.env), hash); // cached (and its absence): read the primary
    if (!row) {
      unknownHere.set(hash, true, now, UNKNOWN_MEMORY_TTL_MS);
      ctx.waitUntil(ctx.env.CACHE.put(kvUnknownKey(hash), "1", { expirationTtl: UNKNOWN_KV_TTL_SECONDS }));
      return null;
    }
    record = toRecord(row);
    ctx.waitUntil(ctx.env.CACHE.put(kvKey(hash), JSON.stringify(record), { expirationTtl: KV_TTL_SECONDS }));
  }
  if (tombstone !== null) record = revokedRecord(record);
  memory.set(hash, record, now, MEMORY_TTL_MS);
  return record;
}

/** A record marked revoked (or a bare one when nothing is known but the revocation). */
const revokedRecord = (record: ApiKeyRecord | undefined): ApiKeyRecord =>
  record
    ? { ...record, revoked: true }
    : { id: "", userId: "", scopes: [], allowedIps: null, rateLimitPerHour: 1, expiresAt: null, revoked: true, ownerActive: false, ownerPasswordChangedAt: 0 };

const pendingUsage = new Map<string, { count: number; last: number }>();
let lastFlush = 0;

/**
 * Counts a use without a D1 write per request: uses accumulate in the isolate and are written
 * in one batch at most every 30 s (the first use in an isolate flushes at once). An evicted
 * isolate can lose up to 30 s of counts; `use_count` is a usage statistic, not a limit (the
 * hourly limit is exact per hour window, leased from the rate-limiter Durable Object: rate-lease.ts).
 */
export function recordApiKeyUse(ctx: RequestContext, keyId: string): void {
  const now = ctx.now.getTime();
  const entry = pendingUsage.get(keyId) ?? { count: 0, last: 0 };
  entry.count += 1;
  entry.last = Math.max(entry.last, now);
  pendingUsage.set(keyId, entry);
  if (now - lastFlush >= USAGE_FLUSH_MS) ctx.waitUntil(flushApiKeyUsage(ctx));
}

export async function flushApiKeyUsage(ctx: Pick<RequestContext, "db" | "now">): Promise<void> {
  lastFlush = ctx.now.getTime();
  if (pendingUsage.size === 0) return;
  const entries = [...pendingUsage.entries()];
  pendingUsage.clear();
  const statements = entries.map(([id, u]) => addApiKeyUsage(ctx.db, id, u.count, new Date(u.last)));
  try {
    await runBatch(ctx, statements);
  } catch (err) {
    // Put the counts back; the next flush retries them.
    for (const [id, u] of entries) {
      const cur = pendingUsage.get(id) ?? { count: 0, last: 0 };
      pendingUsage.set(id, { count: cur.count + u.count, last: Math.max(cur.last, u.last) });
    }
    log.error("api key usage flush failed", {}, err);
  }
}
