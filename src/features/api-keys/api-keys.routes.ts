import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { ApiKeySchema, CreateApiKeyInput, CreatedApiKeySchema, toApiKeyOut } from "./api-keys.schemas";
import { createApiKey, listApiKeys, revokeApiKey } from "./api-keys.service";
import { STEP_UP_NOTE } from "../../identity/recent-auth";

const tags = ["API keys"];

const createKeyRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/me/api-keys`,
  tags,
  summary: "Create an API key (the key is shown once); 409 limit_reached beyond MAX_API_KEYS_PER_USER unrevoked keys",
  description: `A key with any \`write:\` scope: ${STEP_UP_NOTE}`,
  // Creating credentials is sensitive: the session is checked in D1.
  request: jsonBody(CreateApiKeyInput),
  responses: { 201: jsonResponse(CreatedApiKeySchema, "Created"), ...problemResponses(400, 401, 403, 409, 422) },
});

const listKeysRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/api-keys`,
  tags,
  summary: "The user's live API keys (no secrets)",
  responses: { 200: jsonResponse(z.object({ items: z.array(ApiKeySchema), next_cursor: z.null() }), "Keys"), ...problemResponses(401, 403) },
});

const revokeKeyRoute = securedRoute({ session: true, fresh: true, neverThrottled: true }, {
  method: "delete",
  path: `${API}/me/api-keys/{id}`,
  tags,
  summary: "Revoke an API key",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(401, 403, 404) },
});

export function registerApiKeys(app: App): void {
  app.openapi(createKeyRoute, async (c) => {
    const { key, row } = await createApiKey(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.json({ ...toApiKeyOut(row), key }, 201);
  });
  app.openapi(listKeysRoute, async (c) => {
    const rows = await listApiKeys(c.var.ctx, c.var.actor);
    return c.json({ items: rows.map(toApiKeyOut), next_cursor: null }, 200);
  });
  app.openapi(revokeKeyRoute, async (c) => {
    await revokeApiKey(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
