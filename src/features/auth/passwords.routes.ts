import { createRoute } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, NoContent } from "../../platform/route-helpers";
import { EmailOnlyInput, PasswordChangeInput, PasswordResetInput } from "./auth.schemas";
import { changePassword, forgotPassword, resetPassword } from "./passwords.service";

const tags = ["Authentication"];

const changeRoute = securedRoute({ session: true, fresh: true, allowExpiredPassword: true }, {
  method: "post",
  path: `${API}/auth/password/change`,
  tags,
  summary: "Change the password; every other session ends and every API key is revoked",
  description:
    "Every other session ends, and every API key of the user is revoked at once (a key made by whoever knew the old password must not outlive it): integrations need new keys from POST /me/api-keys. The \"password changed\" email says so.",
  request: jsonBody(PasswordChangeInput),
  responses: { 204: NoContent, ...problemResponses(400, 401, 403, 422, 429) },
});

const forgotRoute = createRoute({
  method: "post",
  path: `${API}/auth/password/forgot`,
  tags,
  summary: "Email a password reset link (202 whether or not the account exists)",
  request: jsonBody(EmailOnlyInput),
  responses: { 202: { description: "Accepted" }, ...problemResponses(400, 422, 429) },
});

const resetRoute = createRoute({
  method: "post",
  path: `${API}/auth/password/reset`,
  tags,
  summary: "Set a new password with the emailed single-use token; every session ends and every API key is revoked",
  description:
    "Every session ends and every API key of the user is revoked at once (integrations need new keys from POST /me/api-keys); the \"password changed\" email says so.",
  request: jsonBody(PasswordResetInput),
  responses: { 204: NoContent, ...problemResponses(400, 422) },
});

export function registerPasswords(app: App): void {
  app.openapi(changeRoute, async (c) => {
    const actor = c.var.actor;
    await changePassword(c.var.ctx, actor, c.req.valid("json"));
    return c.body(null, 204);
  });
  app.openapi(forgotRoute, async (c) => {
    await forgotPassword(c.var.ctx, c.req.valid("json").email);
    return c.body(null, 202);
  });
  app.openapi(resetRoute, async (c) => {
    await resetPassword(c.var.ctx, c.req.valid("json"));
    return c.body(null, 204);
  });
}
