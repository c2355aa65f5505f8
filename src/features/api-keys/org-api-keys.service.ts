import { auditInsertIf } from "../../audit/audit.repo";
import type { UserActor } from "../../identity/actor";
import type { OrgMembership } from "../../identity/membership";
import { flushOrgKeyUsage, ORG_KEY_PREFIX } from "../../identity/org-key-credentials";
import { requireRecentAuth } from "../../identity/recent-auth";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { orgApiKeysRepo, type OrgApiKeyRow } from "./org-api-keys.repo";
import { assertRateWithinMax, newKeyMaterial } from "./key-material";
import type { CreateOrgApiKeyInput } from "./org-api-keys.schemas";

const VISIBLE_PREFIX_LENGTH = 15;

/**
 * Creates a key for the organization (admin+). The key is returned once; only its SHA-256 is
 * stored. It belongs to the organization: `created_by` records who made it, and nothing about the
 * key depends on that person staying. At most MAX_ORG_API_KEYS unrevoked keys (409 `limit_reached`).
 */
export async function createOrgApiKey(ctx: RequestContext, actor: UserActor, m: OrgMembership, input: CreateOrgApiKeyInput) {
  const { db, now, config } = ctx;
  // A key that can write is a standing credential for changes: it needs a recent authentication, as for user keys.
  if (input.scopes.some((s) => s.startsWith("write:"))) requireRecentAuth(ctx, actor);
  assertRateWithinMax(config, input.rate_limit_per_hour);
  const material = newKeyMaterial(config, now, { keyPrefix: ORG_KEY_PREFIX, idPrefix: "okey", visiblePrefixLength: VISIBLE_PREFIX_LENGTH }, input);
  const key = material.key;
  const row = { ...material.row, createdBy: actor.userId };
  const repo = orgApiKeysRepo(db, m);
  const [inserted] = await db.batch([
    repo.insertWithinCap(row, config.MAX_ORG_API_KEYS),
    auditInsertIf(
      db,
      ctx,
      { userId: actor.userId, action: "org.api_key_created", details: { organization_id: m.orgId, key_id: row.id, name: row.name, scopes: row.scopes, via_superuser: m.viaSuperuser } },
      repo.exists(row.id),
    ),
  ]);
  if ((inserted as D1Result).meta.changes === 0) {
    throw new AppError("limit_reached", `An organization can hold at most ${config.MAX_ORG_API_KEYS} API keys; revoke one it no longer uses`, {
      fields: { limit: config.MAX_ORG_API_KEYS },
    });
  }
  return { key, row: { ...row, organizationId: m.orgId, revokedAt: null, lastUsedAt: null, useCount: 0 } satisfies OrgApiKeyRow };
}

export async function listOrgApiKeys(ctx: RequestContext, m: OrgMembership) {
  await flushOrgKeyUsage(ctx);
  return orgApiKeysRepo(ctx.db, m).list();
}

/** Revokes a key of this organization (any admin+); a foreign or unknown id is `not_found`. */
export async function revokeOrgApiKey(ctx: RequestContext, actor: UserActor, m: OrgMembership, keyId: string): Promise<void> {
  const { db } = ctx;
  const repo = orgApiKeysRepo(db, m);
  // The audit row is written first, and only if the key is live, so a revoke of a foreign or
  // missing id leaves no trace; the guarded update then revokes it in the same transaction.
  const [, revoked] = await db.batch([
    auditInsertIf(
      db,
      ctx,
      { userId: actor.userId, action: "org.api_key_revoked", details: { organization_id: m.orgId, key_id: keyId, via_superuser: m.viaSuperuser } },
      repo.isLive(keyId),
    ),
    repo.revoke(keyId, ctx.now),
  ]);
  if (!revoked[0]) throw new AppError("not_found", "API key not found");
}
