import type { Config } from "../../platform/config";
import { randomToken, sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";

/** What both a user key and an organization key are created from (their schemas share these fields). */
export interface KeyInput {
  name: string;
  scopes: readonly string[];
  allowed_ips?: string[] | null;
  rate_limit_per_hour?: number;
  expires_at?: string | null;
}

/** A key's hourly limit may not exceed API_KEY_MAX_RATE_PER_HOUR (422 `validation_failed`). */
export function assertRateWithinMax(config: Config, ratePerHour: number | undefined): void {
  if (ratePerHour !== undefined && ratePerHour > config.API_KEY_MAX_RATE_PER_HOUR) {
    throw new AppError("validation_failed", `rate_limit_per_hour may be at most ${config.API_KEY_MAX_RATE_PER_HOUR}`, {
      errors: [{ path: "rate_limit_per_hour", message: `Must be at most ${config.API_KEY_MAX_RATE_PER_HOUR} (API_KEY_MAX_RATE_PER_HOUR)` }],
    });
  }
}

/**
 * A new key (`<keyPrefix><256 random bits>`, returned once) and the row fields every key stores:
 * only its SHA-256, the first `visiblePrefixLength` characters to recognise it, sorted unique scopes.
 */
export function newKeyMaterial(config: Config, now: Date, opts: { keyPrefix: string; idPrefix: string; visiblePrefixLength: number }, input: KeyInput) {
  const key = `${opts.keyPrefix}${randomToken(32)}`;
  const row = {
    id: newId(opts.idPrefix, now.getTime()),
    name: input.name,
    prefix: key.slice(0, opts.visiblePrefixLength),
    keyHash: sha256Hex(key),
    scopes: [...new Set(input.scopes)].sort(),
    allowedIps: input.allowed_ips?.length ? input.allowed_ips : null,
    rateLimitPerHour: input.rate_limit_per_hour ?? Math.min(config.API_KEY_DEFAULT_RATE_PER_HOUR, config.API_KEY_MAX_RATE_PER_HOUR),
    expiresAt: input.expires_at ? new Date(input.expires_at) : null,
    createdAt: now,
  };
  return { key, row };
}
