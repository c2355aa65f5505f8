import { createRoute, z } from "@hono/zod-openapi";
import { securedRoute } from "../access/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent } from "../../platform/routes";
import {
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
import { endSessions, refreshSession } from "./sessions.service";
import { registerMfa } from "./mfa.routes";
import { registerPasswords } from "./passwords.routes";
import { UserSchema } from "../users/user.public";

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
  request: jsonBody(LoginInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, MfaRequiredSchema]), "Signed in, or a second factor is required"),
    ...problemResponses(400, 401, 403, 422, 423, 429),
  },
});

const mfaVerifyRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/verify`,
  tags,
  summary: "Second step of sign-in: a TOTP code or a backup code",
  request: jsonBody(MfaVerifyInput),
  responses: { 200: jsonResponse(TokensSchema, "Signed in"), ...problemResponses(400, 401, 403, 422, 423, 429) },
});

const refreshRoute = createRoute({
  method: "post",
  path: `${API}/auth/refresh`,
  tags,
  summary: "Rotate the refresh token and get a new access token",
  request: jsonBody(RefreshInput),
  responses: { 200: jsonResponse(TokensSchema, "New tokens; the old refresh token is spent"), ...problemResponses(400, 401, 403, 422) },
});

const logoutRoute = securedRoute({ session: true, allowExpiredPassword: true, allowOutdatedTerms: true }, {
  method: "post",
  path: `${API}/auth/logout`,
  tags,
  summary: "End the current session",
  responses: { 204: NoContent, ...problemResponses(401, 403) },
});

const logoutAllRoute = securedRoute({ session: true, allowExpiredPassword: true, allowOutdatedTerms: true }, {
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
  app.openapi(loginRoute, async (c) => c.json(await login(c.var.ctx, c.req.valid("json")), 200));
  app.openapi(mfaVerifyRoute, async (c) => c.json(await verifyMfaLogin(c.var.ctx, c.req.valid("json")), 200));
  app.openapi(refreshRoute, async (c) => c.json(await refreshSession(c.var.ctx, c.req.valid("json").refresh_token), 200));
  app.openapi(logoutRoute, async (c) => {
    const actor = c.var.actor;
    await endSessions(c.var.ctx, actor.userId, { only: actor.sessionId }, "logout", { userId: actor.userId, action: "auth.logout" });
    return c.body(null, 204);
  });
  app.openapi(logoutAllRoute, async (c) => {
    const actor = c.var.actor;
    await endSessions(c.var.ctx, actor.userId, {}, "logout_all", { userId: actor.userId, action: "auth.logout_all" });
    return c.body(null, 204);
  });
  registerPasswords(app);
  registerMfa(app);
}
