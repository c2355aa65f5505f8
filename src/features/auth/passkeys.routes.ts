import { createRoute, z } from "@hono/zod-openapi";
import { authenticateActor } from "../../identity/authenticate";
import { ownerOf } from "../../identity/owner";
import { requireRecentAuth, STEP_UP_NOTE } from "../../identity/recent-auth";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { CookieTokensSchema, MfaRequiredSchema, TokensSchema } from "./auth.schemas";
import { deliverSignIn, deviceTokenFromCookie } from "./device-token";
import {
  AuthenticationOptionsSchema,
  PasskeyListSchema,
  PasskeyLoginOptionsInput,
  PasskeyLoginVerifyInput,
  PasskeyRegisterVerifyInput,
  PasskeyRenameInput,
  PasskeySchema,
  RegistrationOptionsSchema,
} from "./passkeys.schemas";
import {
  limitPasskeyCeremony,
  listPasskeys,
  loginWithPasskey,
  passkeyAuthenticationOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  removePasskey,
  renamePasskey,
} from "./passkeys.service";

const tags = ["Passkeys"];

const registerOptionsRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/passkeys/register/options`,
  tags,
  summary: "Start registering a passkey: WebAuthn creation options plus challenge_id (single-use, 5 minutes)",
  description: STEP_UP_NOTE,
  responses: { 200: jsonResponse(RegistrationOptionsSchema, "PublicKeyCredentialCreationOptionsJSON plus challenge_id"), ...problemResponses(401, 403) },
});

const registerVerifyRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/passkeys/register/verify`,
  tags,
  summary: "Finish registering a passkey with the browser's RegistrationResponseJSON",
  description:
    "422 `validation_failed`: the challenge is unknown, used, expired or of another ceremony, or the response does not verify (origin, RP ID, challenge). 409 `conflict`: the credential is already registered; 409 `limit_reached`: MAX_PASSKEYS_PER_USER. The user is emailed a notice.",
  request: jsonBody(PasskeyRegisterVerifyInput),
  responses: { 201: jsonResponse(PasskeySchema, "The new passkey"), ...problemResponses(400, 401, 403, 409, 422) },
});

const loginOptionsRoute = createRoute({
  method: "post",
  path: `${API}/auth/passkeys/login/options`,
  tags,
  summary: "Start a passkey sign-in: WebAuthn request options plus challenge_id (single-use, 5 minutes)",
  description:
    "Without `email`: any discoverable credential (usernameless sign-in, autofill). With `email`: that account's passkeys; an unknown email gets an answer of the same shape. Called with a bearer token, the challenge is bound to that user (step-up: POST /auth/reauthenticate).",
  request: jsonBody(PasskeyLoginOptionsInput),
  responses: { 200: jsonResponse(AuthenticationOptionsSchema, "PublicKeyCredentialRequestOptionsJSON plus challenge_id"), ...problemResponses(400, 401, 403, 422, 429) },
});

const loginVerifyRoute = createRoute({
  method: "post",
  path: `${API}/auth/passkeys/login/verify`,
  tags,
  summary: "Sign in with a passkey assertion (the browser's AuthenticationResponseJSON)",
  description:
    "401 `invalid_credentials`: a bad, replayed, expired or foreign assertion, a challenge of another ceremony, or a signature counter that went backwards. An assertion with user verification counts as two factors; without it, a user with TOTP on gets `mfa_required`.",
  request: jsonBody(PasskeyLoginVerifyInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, CookieTokensSchema, MfaRequiredSchema]), "Signed in (CookieTokens with refresh_token_delivery=cookie), or a second factor is required"),
    ...problemResponses(400, 401, 403, 422, 429),
  },
});

const listRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/passkeys`,
  tags,
  summary: "The user's passkeys",
  responses: { 200: jsonResponse(PasskeyListSchema, "Passkeys, oldest first"), ...problemResponses(401, 403) },
});

const renameRoute = securedRoute({ session: true }, {
  method: "patch",
  path: `${API}/me/passkeys/{id}`,
  tags,
  summary: "Rename a passkey",
  request: { params: IdParam, ...jsonBody(PasskeyRenameInput) },
  responses: { 200: jsonResponse(PasskeySchema, "The renamed passkey"), ...problemResponses(400, 401, 403, 404, 422) },
});

const removeRoute = securedRoute({ session: true, fresh: true }, {
  method: "delete",
  path: `${API}/me/passkeys/{id}`,
  tags,
  summary: "Remove a passkey",
  description: `409 \`conflict\` when it is the account's last way to sign in (no password, no other passkey, no linked identity). ${STEP_UP_NOTE}`,
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(401, 403, 404, 409) },
});

export function registerPasskeys(app: App): void {
  app.openapi(registerOptionsRoute, async (c) => {
    requireRecentAuth(c.var.ctx, c.var.actor);
    return c.json(await passkeyRegistrationOptions(c.var.ctx, ownerOf(c.var.actor)), 200);
  });
  app.openapi(registerVerifyRoute, async (c) => c.json(await registerPasskey(c.var.ctx, ownerOf(c.var.actor), c.req.valid("json")), 201));
  app.openapi(loginOptionsRoute, async (c) => {
    const ctx = c.var.ctx;
    await limitPasskeyCeremony(ctx);
    // A bearer token (step-up) binds the challenge to its user; API keys are refused.
    const authorization = c.req.header("Authorization");
    const apiKey = c.req.header("X-API-Key");
    // (No scope asked for: an API key is refused with 403 `insufficient_scope`.)
    const actor = authorization || apiKey ? await authenticateActor(ctx, { authorization, apiKey, set: (k, v) => c.header(k, v) }, {}) : null;
    return c.json(await passkeyAuthenticationOptions(ctx, c.req.valid("json"), actor ? ownerOf(actor) : null), 200);
  });
  app.openapi(loginVerifyRoute, async (c) => {
    const { refresh_token_delivery, ...input } = c.req.valid("json");
    const result = await loginWithPasskey(c.var.ctx, { ...input, device_token: input.device_token ?? deviceTokenFromCookie(c) });
    return c.json("mfa_required" in result ? result : deliverSignIn(c, result, refresh_token_delivery), 200);
  });
  app.openapi(listRoute, async (c) => c.json(await listPasskeys(c.var.ctx, ownerOf(c.var.actor)), 200));
  app.openapi(renameRoute, async (c) => c.json(await renamePasskey(c.var.ctx, ownerOf(c.var.actor), c.req.valid("param").id, c.req.valid("json").name), 200));
  app.openapi(removeRoute, async (c) => {
    requireRecentAuth(c.var.ctx, c.var.actor);
    await removePasskey(c.var.ctx, ownerOf(c.var.actor), c.req.valid("param").id);
    return c.body(null, 204);
  });
}
