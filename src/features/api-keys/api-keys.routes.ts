import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth, sessionOf } from "../../platform/auth";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent, SESSION_ONLY } from "../../platform/routes";
import { ApiKeySchema, CreateApiKeyInput, CreatedApiKeySchema, toApiKeyOut } from "./api-keys.schemas";
import { createApiKey, listApiKeys, revokeApiKey } from "./api-keys.service";

const tags = ["API keys"];

const createKeyRoute = createRoute({
  method: "post",
  path: `${API}/me/api-keys`,
  tags,
  summary: "Create an API key (the key is shown once)",
  security: SESSION_ONLY,
  // Creating credentials is sensitive: the session is checked in D1.
  middleware: [requireAuth({ fresh: true })] as const,
  request: jsonBody(CreateApiKeyInput),
  responses: { 201: jsonResponse(CreatedApiKeySchema, "Created"), ...problemResponses(400, 401, 403, 422) },
});

const listKeysRoute = createRoute({
  method: "get",
  path: `${API}/me/api-keys`,
  tags,
  summary: "The user's live API keys (no secrets)",
  security: SESSION_ONLY,
  middleware: [requireAuth()] as const,
  responses: { 200: jsonResponse(z.object({ items: z.array(ApiKeySchema), next_cursor: z.null() }), "Keys"), ...problemResponses(401, 403) },
});

const revokeKeyRoute = createRoute({
  method: "delete",
  path: `${API}/me/api-keys/{id}`,
  tags,
  summary: "Revoke an API key",
  security: SESSION_ONLY,
  middleware: [requireAuth({ fresh: true })] as const,
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(401, 403, 404) },
});

export function registerApiKeys(app: App): void {
  app.openapi(createKeyRoute, async (c) => {
    sessionOf(c.var.actor);
    const { key, row } = await createApiKey(c.var.ctx, c.var.actor.userId, c.req.valid("json"));
    return c.json({ ...toApiKeyOut(row), key }, 201);
  });
  app.openapi(listKeysRoute, async (c) => {
    sessionOf(c.var.actor);
    const rows = await listApiKeys(c.var.ctx, c.var.actor.userId);
    return c.json({ items: rows.map(toApiKeyOut), next_cursor: null }, 200);
  });
  app.openapi(revokeKeyRoute, async (c) => {
    sessionOf(c.var.actor);
    await revokeApiKey(c.var.ctx, c.var.actor.userId, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
