import { z } from "@hono/zod-openapi";
import { ORG_KEY_SCOPES } from "../../identity/scopes";
import { ApiKeySchema, CreateApiKeyInput, toApiKeyOut } from "./api-keys.schemas";
import type { OrgApiKeyRow } from "./org-api-keys.repo";

export const CreateOrgApiKeyInput = CreateApiKeyInput.extend({
  scopes: z.array(z.enum(ORG_KEY_SCOPES)).min(1).max(ORG_KEY_SCOPES.length),
}).openapi("CreateOrgApiKeyInput");
export type CreateOrgApiKeyInput = z.infer<typeof CreateOrgApiKeyInput>;

export const OrgApiKeySchema = ApiKeySchema.extend({
  created_by: z.string().nullable().openapi({ description: "The user who created it (null once that account is gone); the key belongs to the organization" }),
}).openapi("OrgApiKey");

export const CreatedOrgApiKeySchema = OrgApiKeySchema.extend({
  key: z.string().openapi({ description: "The secret key. Shown only in this response." }),
}).openapi("CreatedOrgApiKey");

export const toOrgApiKeyOut = (row: OrgApiKeyRow): z.infer<typeof OrgApiKeySchema> => ({
  ...toApiKeyOut({ ...row, userId: row.createdBy ?? "" }),
  created_by: row.createdBy,
});
