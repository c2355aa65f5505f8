import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody } from "../../platform/route-helpers";
import { EmailInput } from "../users/users.schemas";
import { requestEmailChange } from "./email-change.service";
import { STEP_UP_NOTE } from "../../identity/recent-auth";

const tags = ["Me"];

const ChangeEmailInput = z
  .strictObject({
    new_email: EmailInput,
    password: z.string().min(1, "Required").max(1024).optional().openapi({ description: "Optional: without it, the session needs a recent authentication (step-up)" }),
  })
  .openapi("ChangeEmailInput");

const changeEmailRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/me/email`,
  tags,
  summary: "Change the email address: a confirmation link goes to the new address",
  description:
    "Needs the password, or a recent authentication: " + STEP_UP_NOTE + " Nothing changes until POST /auth/verify-email is called with the token of the link sent to the new address; the old address is then told. A newer request replaces the older link.",
  request: jsonBody(ChangeEmailInput),
  responses: { 202: { description: "Confirmation link sent to the new address" }, ...problemResponses(400, 401, 403, 409, 422, 429) },
});

/** POST /me/email: documented with /me (tag "Me"), owned by auth beside the verify-email verb it leads to. */
export function registerEmailChange(app: App): void {
  app.openapi(changeEmailRoute, async (c) => {
    await requestEmailChange(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.body(null, 202);
  });
}
