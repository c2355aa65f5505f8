import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, NoContent } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { UserIdParam } from "./admin-users.schemas";
import { resetFactors } from "./admin-factors.service";

const resetFactorsRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "post",
  path: `${API}/admin/users/{id}/reset-factors`,
  tags: ["Administration"],
  summary: "Remove a user's second factors: TOTP (and backup codes) and every passkey",
  description:
    "For a user who lost their authenticator and passkeys: every session of the user ends too (a lost device may hold one). One batch, audited (`admin.factors_reset`), and the user is emailed. Administrators cannot reset their own factors (403), and only a superuser resets a superuser's.",
  request: { params: UserIdParam },
  responses: { 204: NoContent, ...problemResponses(404) },
});

export function registerAdminFactors(app: App): void {
  app.openapi(resetFactorsRoute, async (c) => {
    await resetFactors(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
