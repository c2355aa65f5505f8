import { createRoute, z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { MiddlewareHandler } from "hono";
import type { App, AppEnv } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { CookieTokensSchema, EmailCodeSendInput, EmailCodeVerifyInput, MfaRequiredSchema, ReauthenticateInput, TokensSchema } from "./auth.schemas";
import { assertEmailCodesEnabled, sendEmailCode, verifyEmailCode } from "./email-code.service";
import { reauthenticate } from "./reauth.service";
import { deliverTokens } from "./refresh-cookie";
import { deliverSignIn } from "./device-token";

const tags = ["Authentication"];

/** PASSWORDLESS_EMAIL=false: 404 before anything else, whatever the body. */
const enabled: MiddlewareHandler<AppEnv> = async (c, next) => {
  assertEmailCodesEnabled(c.var.ctx);
  await next();
};

const sendRoute = createRoute({
  method: "post",
  path: `${API}/auth/email-code/send`,
  tags,
  summary: "Email a one-time sign-in code and link (202 whether or not the account exists)",
  description:
    "Emails a 6-digit code and a `/sign-in?token=` link, both single-use and valid 10 minutes; a new send replaces the previous code. Limited per IP and per address (RATE_EMAIL_CODE_PER_IP, RATE_EMAIL_CODE_PER_EMAIL). 404 when PASSWORDLESS_EMAIL is off.",
  middleware: [enabled] as const,
  request: jsonBody(EmailCodeSendInput),
  responses: { 202: { description: "Accepted" }, ...problemResponses(400, 404, 422, 429) },
});

const verifyRoute = createRoute({
  method: "post",
  path: `${API}/auth/email-code/verify`,
  tags,
  summary: "Sign in with an emailed code (with the email) or the emailed link's token",
  description:
    "A wrong, used or expired code → 401 `invalid_credentials`; after 5 wrong guesses the code is dead (even the right code fails). A user with TOTP on gets `mfa_required` (an email code is one factor). An unverified account becomes verified. 404 when PASSWORDLESS_EMAIL is off.",
  middleware: [enabled] as const,
  request: jsonBody(EmailCodeVerifyInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, CookieTokensSchema, MfaRequiredSchema]), "Signed in, or a second factor is required"),
    ...problemResponses(400, 401, 403, 404, 422, 429),
  },
});

const reauthRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/reauthenticate`,
  tags,
  summary: "Confirm it is you again (step-up): fresh tokens whose access token carries a new auth_time",
  description:
    "Exactly one of `password`, `code` (TOTP), `backup_code`, `email_code` (from POST /auth/email-code/send to the caller's own address) or `passkey`. A wrong proof → 401 `invalid_credentials`. The session's unspent refresh tokens are replaced by the one returned. Routes that need a recent authentication answer 401 `reauthentication_required` once REAUTH_MINUTES have passed since the last sign-in or step-up.",
  request: jsonBody(ReauthenticateInput),
  responses: { 200: jsonResponse(z.union([TokensSchema, CookieTokensSchema]), "Fresh tokens"), ...problemResponses(400, 401, 403, 404, 422, 423, 429) },
});

export function registerEmailCodes(app: App): void {
  app.openapi(sendRoute, async (c) => {
    await sendEmailCode(c.var.ctx, c.req.valid("json").email);
    return c.body(null, 202);
  });
  app.openapi(verifyRoute, async (c) => {
    const { refresh_token_delivery, ...input } = c.req.valid("json");
    const result = await verifyEmailCode(c.var.ctx, input);
    return c.json("mfa_required" in result ? result : deliverSignIn(c, result, refresh_token_delivery), 200);
  });
  app.openapi(reauthRoute, async (c) => {
    const { refresh_token_delivery, ...proof } = c.req.valid("json");
    return c.json(deliverTokens(c, await reauthenticate(c.var.ctx, c.var.actor, proof), refresh_token_delivery), 200);
  });
}
