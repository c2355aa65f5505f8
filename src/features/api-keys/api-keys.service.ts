import { requireRecentAuth } from "../../identity/recent-auth";
import { ownerOf } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import { API_KEY_PREFIX, flushApiKeyUsage, publishRevokedKeys } from "../../identity/api-key-credentials";
import { hasPermission } from "../../identity/grants";
import { PRIVILEGED_SCOPES, type Scope } from "../../identity/scopes";
import { auditInsertIf } from "../../audit/audit.repo";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { apiKeysRepo, type ApiKeyRow } from "./api-keys.repo";
import { assertRateWithinMax, newKeyMaterial } from "./key-material";
import type { CreateApiKeyInput } from "./api-keys.schemas";

const VISIBLE_PREFIX_LENGTH = 12;

/**
 * Creates a key for the signed-in user. The key is returned once; only its SHA-256 is stored.
 * `write:tenders` needs the admin:system permission (403 `forbidden` otherwise). At most
 * MAX_API_KEYS_PER_USER unrevoked keys (409 `limit_reached`), enforced by the guarded insert.
 */
export async function createApiKey(ctx: RequestContext, actor: UserActor, input: CreateApiKeyInput) {
  const { db, now, config } = ctx;
  const userId = ownerOf(actor);
  // A key that can write is a standing credential for changes: it needs a recent authentication.
  if (input.scopes.some((s) => s.startsWith("write:"))) requireRecentAuth(ctx, actor);
  assertRateWithinMax(config, input.rate_limit_per_hour);
  for (const scope of input.scopes) {
    const permission = PRIVILEGED_SCOPES[scope as Scope];
    if (permission && !(await hasPermission(ctx, actor, permission))) {
      throw new AppError("forbidden", `Only users with ${permission} may create keys with ${scope}`);
    }
  }
  const { key, row } = newKeyMaterial(config, now, { keyPrefix: API_KEY_PREFIX, idPrefix: "key", visiblePrefixLength: VISIBLE_PREFIX_LENGTH }, input);
  const repo = apiKeysRepo(db, userId);
  const [inserted] = await db.batch([
    repo.insertWithinCap(row, config.MAX_API_KEYS_PER_USER),
    auditInsertIf(db, ctx, { userId, action: "api_key.created", details: { key_id: row.id, name: row.name, scopes: row.scopes } }, repo.exists(row.id)),
  ]);
  if ((inserted as D1Result).meta.changes === 0) {
    throw new AppError("limit_reached", `A user can hold at most ${config.MAX_API_KEYS_PER_USER} API keys; revoke one you no longer use`, {
      fields: { limit: config.MAX_API_KEYS_PER_USER },
    });
  }
  return { key, row: { ...row, userId, revokedAt: null, lastUsedAt: null, useCount: 0 } satisfies Omit<ApiKeyRow, "ownerStatus"> };
}

export async function listApiKeys(ctx: RequestContext, actor: UserActor) {
  await flushApiKeyUsage(ctx);
  return apiKeysRepo(ctx.db, ownerOf(actor)).list();
}

/** Revokes a key of this user; a foreign or unknown id is `not_found`. Caches are evicted. */
export async function revokeApiKey(ctx: RequestContext, actor: UserActor, id: string): Promise<void> {
  const { db } = ctx;
  const userId = ownerOf(actor);
  const repo = apiKeysRepo(db, userId);
  // The audit row is written first, and only if the key is live, so a revoke of a foreign or
  // missing id leaves no trace; the guarded update then revokes it in the same transaction.
  const [, revoked] = await db.batch([
    auditInsertIf(db, ctx, { userId, action: "api_key.revoked", details: { key_id: id } }, repo.isLive(id)),
    repo.revoke(id, ctx.now),
  ]);
  const row = revoked[0];
  if (!row) throw new AppError("not_found", "API key not found");
  await publishRevokedKeys(ctx, [row.keyHash]);
}

