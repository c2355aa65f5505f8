import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import { STEP_UP_NOTE } from "../../identity/recent-auth";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { CreatedOrgApiKeySchema, CreateOrgApiKeyInput, OrgApiKeySchema, toOrgApiKeyOut } from "./org-api-keys.schemas";
import { createOrgApiKey, listOrgApiKeys, revokeOrgApiKey } from "./org-api-keys.service";

const tags = ["Organizations"];

const createRoute = securedRoute({ session: true, fresh: true, orgAction: "api_keys.manage" }, {
  method: "post",
  path: `${API}/orgs/{id}/api-keys`,
  tags,
  summary: "Create an organization API key (admin+; shown once); 409 limit_reached beyond MAX_ORG_API_KEYS",
  description: `Scopes: read:org, read:members, read:shared, write:webhooks; every other route refuses the key (403 insufficient_scope). It outlives its creator's membership. write:webhooks: ${STEP_UP_NOTE}`,
  request: { params: IdParam, ...jsonBody(CreateOrgApiKeyInput) },
  responses: { 201: jsonResponse(CreatedOrgApiKeySchema, "Created"), ...problemResponses(400, 409, 413, 422) },
});

const listRoute = securedRoute({ session: true, orgAction: "api_keys.manage" }, {
  method: "get",
  path: `${API}/orgs/{id}/api-keys`,
  tags,
  summary: "The organization's live API keys (admin+; no secrets)",
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(OrgApiKeySchema), next_cursor: z.null() }), "Keys") },
});

const revokeRoute = securedRoute({ session: true, fresh: true, neverThrottled: true, orgAction: "api_keys.manage" }, {
  method: "delete",
  path: `${API}/orgs/{id}/api-keys/{key_id}`,
  tags,
  summary: "Revoke an organization API key (admin+)",
  request: {
    params: z.object({
      id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
      key_id: z.string().min(1).max(64).openapi({ param: { name: "key_id", in: "path" } }),
    }),
  },
  responses: { 204: NoContent },
});

/** Organization API keys (issue 18.6). */
export function registerOrgApiKeys(app: App): void {
  app.openapi(createRoute, async (c) => {
    const { key, row } = await createOrgApiKey(c.var.ctx, c.var.actor, c.var.membership, c.req.valid("json"));
    return c.json({ ...toOrgApiKeyOut(row), key }, 201);
  });
  app.openapi(listRoute, async (c) => {
    const rows = await listOrgApiKeys(c.var.ctx, c.var.membership);
    return c.json({ items: rows.map(toOrgApiKeyOut), next_cursor: null }, 200);
  });
  app.openapi(revokeRoute, async (c) => {
    await revokeOrgApiKey(c.var.ctx, c.var.actor, c.var.membership, c.req.valid("param").key_id);
    return c.body(null, 204);
  });
}
