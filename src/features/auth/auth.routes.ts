import { ownerOf } from "../../identity/owner";
import { createRoute, z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { AppError } from "../../platform/errors";
import {
  CookieTokensSchema,
  EmailOnlyInput,
  LoginInput,
  MfaRequiredSchema,
  MfaVerifyInput,
  RefreshInput,
  RegisterInput,
  RegisterResponse,
  TokensSchema,
  VerifyEmailInput,
} from "./auth.schemas";
import { login, verifyMfaLogin } from "./login.service";
import { register, resendVerification, verifyEmail } from "./registration.service";
import { endSessions, refreshSession } from "../sessions/sessions.service";
import { registerMfa } from "./mfa.routes";
import { registerEmailCodes } from "./email-code.routes";
import { registerPasswords } from "./passwords.routes";
import { registerPasskeys } from "./passkeys.routes";
import { UserSchema } from "../users/user.schema";
import { clearRefreshCookie, deliverTokens, refreshTokenFromCookie } from "./refresh-cookie";
import { deliverSignIn, deviceTokenFromCookie } from "./device-token";

const tags = ["Authentication"];

const registerRoute = createRoute({
  method: "post",
  path: `${API}/auth/register`,
  tags,
  summary: "Create an account; sends a verification email",
  request: jsonBody(RegisterInput),
  responses: { 201: jsonResponse(RegisterResponse, "Account created"), ...problemResponses(400, 409, 422, 429) },
});

const verifyEmailRoute = createRoute({
  method: "post",
  path: `${API}/auth/verify-email`,
  tags,
  summary: "Confirm an email address with the emailed token",
  description:
    "Takes the token of a registration's verification link, or of an email change's link (POST /me/email): the latter moves the account to the new address, tells the old one, and answers 409 `conflict` if the address was taken meanwhile.",
  request: jsonBody(VerifyEmailInput),
  responses: { 200: jsonResponse(z.object({ user: UserSchema }), "Verified"), ...problemResponses(400, 409, 422) },
});

const resendRoute = createRoute({
  method: "post",
  path: `${API}/auth/resend-verification`,
  tags,
  summary: "Send a new verification email (202 whether or not the account exists)",
  request: jsonBody(EmailOnlyInput),
  responses: { 202: { description: "Accepted" }, ...problemResponses(400, 422, 429) },
});

const loginRoute = createRoute({
  method: "post",
  path: `${API}/auth/login`,
  tags,
  summary: "Sign in with email and password",
  description:
    "Five consecutive wrong passwords lock the email for unknown devices (423 `account_locked`). A device that signed in before sends back its `device_token` (in the body, or the console's `__Secure-keel_device` cookie) and is judged by its own failures and lock instead, so a lock someone else set does not keep it out. A refusal's `Retry-After` is the wait after which the same request passes every limit on its path. Once the password is proven, an address at a verified domain of an organization that enforces SSO answers 403 `sso_required` with `sso_url` (superusers exempt).",
  request: jsonBody(LoginInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, CookieTokensSchema, MfaRequiredSchema]), "Signed in (CookieTokens with refresh_token_delivery=cookie), or a second factor is required"),
    ...problemResponses(400, 401, 403, 422, 423, 429),
  },
});

const mfaVerifyRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/verify`,
  tags,
  summary: "Second step of sign-in: a TOTP code or a backup code",
  request: jsonBody(MfaVerifyInput),
  responses: { 200: jsonResponse(z.union([TokensSchema, CookieTokensSchema]), "Signed in (CookieTokens with refresh_token_delivery=cookie)"), ...problemResponses(400, 401, 403, 422, 423, 429) },
});

const refreshRoute = createRoute({
  method: "post",
  path: `${API}/auth/refresh`,
  tags,
  summary: "Rotate the refresh token and get a new access token",
  description:
    "Send `refresh_token` in the body, or (browser clients that signed in with `refresh_token_delivery: cookie`) an empty body `{}` with the `__Secure-keel_refresh` cookie and an `X-Requested-With` header; a cookie refresh answers CookieTokens and sets the rotated cookie, and a failed one clears it. 403 `forbidden`: cookie without the header, or from a foreign Origin.",
  request: jsonBody(RefreshInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, CookieTokensSchema]), "New tokens; the old refresh token is spent"),
    ...problemResponses(400, 401, 403, 422),
  },
});

const logoutRoute = securedRoute({ session: true, allowExpiredPassword: true, allowOutdatedTerms: true, neverThrottled: true }, {
  method: "post",
  path: `${API}/auth/logout`,
  tags,
  summary: "End the current session",
  responses: { 204: NoContent, ...problemResponses(401, 403) },
});

const logoutAllRoute = securedRoute({ session: true, allowExpiredPassword: true, allowOutdatedTerms: true, neverThrottled: true }, {
  method: "post",
  path: `${API}/auth/logout-all`,
  tags,
  summary: "End every session of the user",
  responses: { 204: NoContent, ...problemResponses(401, 403) },
});

export function registerAuth(app: App): void {
  app.openapi(registerRoute, async (c) => c.json(await register(c.var.ctx, c.req.valid("json")), 201));
  app.openapi(verifyEmailRoute, async (c) => c.json(await verifyEmail(c.var.ctx, c.req.valid("json").token), 200));
  app.openapi(resendRoute, async (c) => {
    await resendVerification(c.var.ctx, c.req.valid("json").email);
    return c.body(null, 202);
  });
  app.openapi(loginRoute, async (c) => {
    const { refresh_token_delivery, ...input } = c.req.valid("json");
    const result = await login(c.var.ctx, { ...input, device_token: input.device_token ?? deviceTokenFromCookie(c) });
    return c.json("mfa_required" in result ? result : deliverSignIn(c, result, refresh_token_delivery), 200);
  });
  app.openapi(mfaVerifyRoute, async (c) => {
    const { refresh_token_delivery, ...input } = c.req.valid("json");
    return c.json(deliverSignIn(c, await verifyMfaLogin(c.var.ctx, input), refresh_token_delivery), 200);
  });
  app.openapi(refreshRoute, async (c) => {
    const body = c.req.valid("json");
    if (body.refresh_token !== undefined) return c.json(deliverTokens(c, await refreshSession(c.var.ctx, body.refresh_token), body.refresh_token_delivery), 200);
    const fromCookie = refreshTokenFromCookie(c);
    if (!fromCookie) {
      throw new AppError("validation_failed", "Send refresh_token, or the refresh-token cookie", { errors: [{ path: "refresh_token", message: "Required" }] });
    }
    try {
      return c.json(deliverTokens(c, await refreshSession(c.var.ctx, fromCookie), "cookie"), 200);
    } catch (err) {
      // A cookie that cannot refresh (spent, expired, session ended) is of no further use.
      clearRefreshCookie(c);
      throw err;
    }
  });
  app.openapi(logoutRoute, async (c) => {
    const actor = c.var.actor;
    await endSessions(c.var.ctx, ownerOf(actor), { only: actor.sessionId }, "logout", { userId: actor.userId, action: "auth.logout" });
    clearRefreshCookie(c);
    return c.body(null, 204);
  });
  app.openapi(logoutAllRoute, async (c) => {
    const actor = c.var.actor;
    await endSessions(c.var.ctx, ownerOf(actor), {}, "logout_all", { userId: actor.userId, action: "auth.logout_all" });
    clearRefreshCookie(c);
    return c.body(null, 204);
  });
  registerPasswords(app);
  registerMfa(app);
  registerPasskeys(app);
  registerEmailCodes(app);
}
