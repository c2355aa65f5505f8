import { ownerOf } from "../../identity/owner";
import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonResponse, NoContent } from "../../platform/route-helpers";
import { endSessions, listSessions } from "./sessions.service";

const tags = ["Sessions"];

const SessionSchema = z
  .object({
    id: z.string(),
    device_name: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    country: z.string().nullable().openapi({ description: "ISO 3166-1 alpha-2 country of the sign-in, from Cloudflare's edge (`request.cf`); null when unknown", example: "IN" }),
    city: z.string().nullable().openapi({ description: "City of the sign-in, from Cloudflare's edge; null when unknown", example: "Patna" }),
    created_at: z.string(),
    last_used_at: z.string(),
    expires_at: z.string(),
    current: z.boolean(),
  })
  .openapi("Session");

const listRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/sessions`,
  tags,
  summary: "Active sessions of the user",
  responses: { 200: jsonResponse(z.object({ items: z.array(SessionSchema), next_cursor: z.null() }), "Sessions"), ...problemResponses(401, 403) },
});

const deleteRoute = securedRoute({ session: true, fresh: true, neverThrottled: true }, {
  method: "delete",
  path: `${API}/me/sessions/{id}`,
  tags,
  summary: "End one session; its tokens stop working",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(401, 403, 404) },
});

export function registerSessions(app: App): void {
  app.openapi(listRoute, async (c) => {
    const actor = c.var.actor;
    const items = await listSessions(c.var.ctx, actor);
    return c.json({ items, next_cursor: null }, 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const actor = c.var.actor;
    const { id } = c.req.valid("param");
    const ended = await endSessions(c.var.ctx, ownerOf(actor), { only: id }, "revoked_by_user", {
      userId: actor.userId,
      action: "auth.session_revoked",
      details: { session_id: id },
    });
    if (ended.length === 0) throw new AppError("not_found", "Session not found");
    return c.body(null, 204);
  });
}
