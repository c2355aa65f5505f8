import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { PageQuery, pageOf } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { UserSchema } from "./user.schema";
import { currentUserView } from "./user-view-cache";
import { FullNameInput, PhoneInput } from "./users.schemas";
import { getMe, listMyActivity, updateMe } from "./users.service";

const tags = ["Me"];

const UpdateMeInput = z
  .strictObject({
    full_name: FullNameInput.optional(),
    phone: PhoneInput.nullable().optional(),
  })
  .openapi("UpdateMeInput");

const ActivitySchema = z
  .object({
    id: z.string(),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
    ip_address: z.string().nullable().openapi({ description: "Only on the user's own acts (by_self); null on acts of others on the user" }),
    user_agent: z.string().nullable().openapi({ description: "Only on the user's own acts (by_self)" }),
    by_self: z.boolean().openapi({ description: "The user did this themselves (not an administrator or an organization owner)" }),
    created_at: z.string(),
  })
  .openapi("ActivityEvent");

// The user view is read beside the token's checks: a cold read waits for one round trip, not two.
const getMeRoute = securedRoute({ scope: "read:profile", prefetch: currentUserView }, {
  method: "get",
  path: `${API}/me`,
  tags,
  summary: "The signed-in user",
  responses: { 200: jsonResponse(UserSchema, "The user"), ...problemResponses(401, 403, 429) },
});

const patchMeRoute = securedRoute({ scope: "write:profile" }, {
  method: "patch",
  path: `${API}/me`,
  tags,
  summary: "Update name or phone",
  request: jsonBody(UpdateMeInput),
  responses: { 200: jsonResponse(UserSchema, "The updated user"), ...problemResponses(400, 401, 403, 422, 429) },
});

const activityRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/activity`,
  tags,
  summary: "The user's own audit trail, newest first",
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(ActivitySchema), "Audit events"), ...problemResponses(401, 403, 422) },
});

export function registerMe(app: App): void {
  app.openapi(getMeRoute, async (c) => c.json(await getMe(c.var.ctx, c.var.actor), 200));
  app.openapi(patchMeRoute, async (c) => c.json(await updateMe(c.var.ctx, c.var.actor, c.req.valid("json")), 200));
  app.openapi(activityRoute, async (c) => c.json(await listMyActivity(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
}
