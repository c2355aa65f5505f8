import { z } from "@hono/zod-openapi";
import type { ApiKeyRow } from "./api-keys.repo";
import { isValidIpOrCidr } from "../../identity/ip-allow-list";
import { API_KEY_SCOPES } from "../../identity/scopes";

export const CreateApiKeyInput = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
    allowed_ips: z
      .array(z.string().trim().refine(isValidIpOrCidr, "Expected an IP address or CIDR range"))
      .max(50)
      .optional(),
    rate_limit_per_hour: z.number().int().min(1).max(1_000_000).optional(),
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .refine((v) => v === undefined || Date.parse(v) > Date.now(), "Must be in the future"),
  })
  .openapi("CreateApiKeyInput");

export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInput>;

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The visible start of the key" }),
    scopes: z.array(z.string()),
    allowed_ips: z.array(z.string()).nullable(),
    rate_limit_per_hour: z.number().int(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    use_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The secret key. Shown only in this response." }),
}).openapi("CreatedApiKey");

export function toApiKeyOut(row: ApiKeyRow): z.infer<typeof ApiKeySchema> {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    allowed_ips: row.allowedIps,
    rate_limit_per_hour: row.rateLimitPerHour,
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    use_count: row.useCount,
    created_at: row.createdAt.toISOString(),
  };
}
