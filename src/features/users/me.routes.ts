import { z } from "@hono/zod-openapi";
import { securedRoute } from "../access/secured-route";
import type { App, RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { decodeCursor, PageQuery, pageOf, toPage } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/routes";
import { EmailInput, FullNameInput, PhoneInput } from "../auth/auth.schemas";
import { requestEmailChange } from "../auth/email-change.service";
import { asSeenBySubject, listUserAudit } from "../audit/audit.repo";
import { UserSchema } from "./user.public";
import { currentUserView, userViewChanged } from "./user-view";
import { updateUserBasics } from "./users.repo";

const tags = ["Me"];

const UpdateMeInput = z
  .strictObject({
    full_name: FullNameInput.optional(),
    phone: PhoneInput.nullable().optional(),
  })
  .openapi("UpdateMeInput");

const ChangeEmailInput = z
  .strictObject({
    new_email: EmailInput,
    password: z.string().min(1, "Required").max(1024),
  })
  .openapi("ChangeEmailInput");

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

const getMeRoute = securedRoute({ scope: "read:profile" }, {
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

const changeEmailRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/me/email`,
  tags,
  summary: "Change the email address: a confirmation link goes to the new address",
  description:
    "Needs the password. Nothing changes until POST /auth/verify-email is called with the token of the link sent to the new address; the old address is then told. A newer request replaces the older link.",
  request: jsonBody(ChangeEmailInput),
  responses: { 202: { description: "Confirmation link sent to the new address" }, ...problemResponses(400, 401, 403, 409, 422, 429) },
});

const activityRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/activity`,
  tags,
  summary: "The user's own audit trail, newest first",
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(ActivitySchema), "Audit events"), ...problemResponses(401, 403, 422) },
});

async function loadUser(c: { var: { ctx: RequestContext } }, userId: string) {
  const user = await currentUserView(c.var.ctx, userId);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  return user;
}

export function registerMe(app: App): void {
  app.openapi(getMeRoute, async (c) => c.json(await loadUser(c, c.var.actor.userId), 200));
  app.openapi(patchMeRoute, async (c) => {
    const input = c.req.valid("json");
    const { db, now } = c.var.ctx;
    const patch: { fullName?: string; phone?: string | null } = {};
    if (input.full_name !== undefined) patch.fullName = input.full_name;
    if (input.phone !== undefined) patch.phone = input.phone;
    if (Object.keys(patch).length > 0) {
      await updateUserBasics(db, c.var.actor.userId, patch, now);
      userViewChanged(c.var.actor.userId);
    }
    return c.json(await loadUser(c, c.var.actor.userId), 200);
  });
  app.openapi(changeEmailRoute, async (c) => {
    await requestEmailChange(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.body(null, 202);
  });
  app.openapi(activityRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listUserAudit(c.var.ctx.db, c.var.actor.userId, { limit, before: decodeCursor(cursor) });
    return c.json(
      toPage(
        rows,
        limit,
        (r) => r.id,
        (row) => {
          const r = asSeenBySubject(row);
          return {
            id: r.id,
            action: r.action,
            details: r.details,
            ip_address: r.ipAddress,
            user_agent: r.userAgent,
            by_self: r.actorId === r.userId,
            created_at: r.createdAt.toISOString(),
          };
        },
      ),
      200,
    );
  });
}
