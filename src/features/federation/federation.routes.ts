import { STEP_UP_NOTE } from "../../identity/recent-auth";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ownerOf } from "../../identity/owner";
import { securedRoute } from "../../identity/secured-route";
import type { App, AppEnv } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { CookieTokensSchema, MfaRequiredSchema, RefreshTokenDelivery, TokensSchema } from "../auth/auth.schemas";
import { deliverSignIn, deviceTokenFromCookie } from "../auth/device-token";
import { exchangeLoginCode, handleCallback, listIdentities, listProviders, LOGIN_CODE_TTL_MS, startLink, startSocialSignIn, startSsoSignIn, STATE_TTL_MS, unlinkIdentity } from "./federation.service";

const tags = ["Federation"];

/**
 * Binds a pending authorization request to the browser that started it: a random value whose hash
 * the state row holds. Sent back only to the callback (Path), on the provider's top-level redirect
 * (SameSite=Lax), never readable by scripts. A callback URL replayed from another browser fails.
 */
const BROWSER_COOKIE = "__Secure-keel_oidc";
const CALLBACK_PATH = `${API}/auth/oidc/callback`;
const COOKIE_OPTIONS = { path: CALLBACK_PATH, httpOnly: true, secure: true, sameSite: "Lax" } as const;
const bindBrowser = <E extends AppEnv>(c: Context<E>, value: string) => setCookie(c, BROWSER_COOKIE, value, { ...COOKIE_OPTIONS, maxAge: STATE_TTL_MS / 1000 });
/**
 * The same binding, handed on by the callback to the exchange: a login_code is spent only with it,
 * so a code slipped into another browser signs nobody in (login CSRF). Path = the exchange;
 * the console's exchange is a same-origin request, which sends it.
 */
const EXCHANGE_COOKIE = "__Secure-keel_oidc_exchange";
const EXCHANGE_OPTIONS = { path: `${API}/auth/oidc/exchange`, httpOnly: true, secure: true, sameSite: "Lax" } as const;

const ProviderParam = z.object({ provider: z.string().min(1).max(32).openapi({ param: { name: "provider", in: "path" }, example: "google" }) });
const ReturnTo = z.url().max(2000).openapi({ description: "Where the browser goes at the end (with `login_code=`, `linked=` or `error=`); must be on an allowed origin (OIDC_ALLOWED_RETURN_ORIGINS, default the console's). Default: the console's sign-in screen.", example: "https://keel.example/console/" });
const ReturnToQuery = z.object({ return_to: ReturnTo.optional() });
const Redirect = (description: string) => ({ description, headers: z.object({ Location: z.string() }) });

const ProviderSchema = z.object({ id: z.string(), name: z.string(), kind: z.literal("social") }).openapi("IdentityProvider");
const IdentitySchema = z
  .object({
    id: z.string(),
    provider: z.string(),
    issuer: z.string(),
    subject: z.string(),
    email: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi("LinkedIdentity");

const ExchangeInput = z
  .strictObject({
    login_code: z.string().min(16).max(512),
    device_name: z.string().trim().min(1).max(100).optional(),
    device_token: z.string().max(512).optional(),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .openapi("OidcExchangeInput");

const providersRoute = createRoute({
  method: "get",
  path: `${API}/auth/providers`,
  tags,
  summary: "The configured social sign-in providers",
  responses: { 200: jsonResponse(z.object({ items: z.array(ProviderSchema) }), "Providers (never their secrets)") },
});

const startRoute = createRoute({
  method: "get",
  path: `${API}/auth/oidc/{provider}/start`,
  tags,
  summary: "Start signing in with an OpenID provider (302 to the provider)",
  description:
    "A browser navigation. Redirects to the provider's authorization endpoint (code flow, PKCE S256, `state`, `nonce`); the pending request is kept server-side for 10 minutes and bound to this browser by an HttpOnly cookie. Unknown provider → 404; `return_to` not on an allowed origin → 422.",
  request: { params: ProviderParam, query: ReturnToQuery },
  responses: { 302: Redirect("To the provider"), ...problemResponses(404, 422, 429, 503) },
});

const ssoStartRoute = createRoute({
  method: "post",
  path: `${API}/auth/sso/start`,
  tags,
  summary: "Start signing in with an organization's single sign-on",
  description:
    "Finds the organization that holds the email's domain verified with SSO enabled and starts its OpenID flow (PKCE, `state`, `nonce`, `login_hint` = the email); answers the URL to navigate to and sets the flow's browser-binding cookie. The flow ends like social sign-in: `return_to` with `login_code=` for POST /auth/oidc/exchange. No SSO for the domain (unknown, unverified, not configured or disabled) → 404 `not_found`, the same body in every case. Rate-limited per IP (RATE_OIDC_PER_IP).",
  request: jsonBody(z.strictObject({ email: z.email().max(254), return_to: ReturnTo.optional() }).openapi("SsoStartInput")),
  responses: { 200: jsonResponse(z.object({ authorization_url: z.string() }).openapi("SsoAuthorizationUrl"), "Navigate to it"), ...problemResponses(404, 422, 429, 503) },
});

const callbackRoute = createRoute({
  method: "get",
  path: CALLBACK_PATH,
  tags,
  summary: "The providers' redirect target (302 to return_to)",
  description:
    "Validates `state` (single-use, from the browser that started), the RFC 9207 `iss` parameter, exchanges the code and verifies the ID token. Ends with a 302 to `return_to` carrying `login_code=` (single-use, 60 s; POST /auth/oidc/exchange), `linked=<provider>` after a link from My account, or `error=` (`invalid_state`, `invalid_response`, `identity_in_use`, `account_inactive` (a link whose user was suspended meanwhile), `provider_unavailable`, `rate_limited`, or the provider's own error such as `access_denied`). Never a token.",
  request: { query: z.object({ state: z.string().max(1000).optional(), code: z.string().max(4000).optional(), iss: z.string().max(2000).optional(), error: z.string().max(200).optional() }).passthrough() },
  responses: { 302: Redirect("To return_to") },
});

const exchangeRoute = createRoute({
  method: "post",
  path: `${API}/auth/oidc/exchange`,
  tags,
  summary: "Exchange a login_code for tokens",
  description:
    "Spent only by the browser the sign-in came back to: the callback sets the HttpOnly cookie `__Secure-keel_oidc_exchange` (Path = this route, 60 s), which a same-site request sends; without it the code answers 400 like a used one (no login CSRF). Signs in to the user the identity is linked to, or creates a passwordless account for a new email (verified when the provider says `email_verified`). A user with TOTP gets `mfa_required` unless the provider asserted MFA (`amr`) and is configured with `trust_amr`. A used or expired code → 400 `validation_failed`; an email that belongs to an existing account → 409 `account_exists` (sign in, then link from My account). An organization's SSO sign-in (POST /auth/sso/start): the address must be at one of the organization's verified domains (else 403 `forbidden`); an existing account is linked automatically when the provider asserts `email_verified`; a user who is not a member joins with the SSO default role within the seat limit (else 409 `limit_reached`, the admins are emailed at most hourly); enforce_sso does not refuse it; TOTP applies (an organization's `amr` is not trusted).",
  request: jsonBody(ExchangeInput),
  responses: {
    200: jsonResponse(z.union([TokensSchema, CookieTokensSchema, MfaRequiredSchema]), "Signed in, or a second factor is required"),
    ...problemResponses(400, 403, 404, 409, 422, 429),
  },
});

const listRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/identities`,
  tags,
  summary: "External identities linked to the user",
  responses: { 200: jsonResponse(z.object({ items: z.array(IdentitySchema) }), "Linked identities"), ...problemResponses(401, 403) },
});

const unlinkRoute = securedRoute({ session: true }, {
  method: "delete",
  path: `${API}/me/identities/{id}`,
  tags,
  summary: "Unlink an identity (409 if it is the last way to sign in)",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(401, 403, 404, 409) },
});

const linkGetRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/me/identities/{provider}/link`,
  tags,
  summary: "Link a provider's identity to the signed-in user (302 to the provider)",
  description:
    "For clients that can send `Authorization` on a navigation. A browser app (whose access token lives in script) calls POST on the same path instead and navigates to the `authorization_url` it returns: the access token never goes into a URL. The flow ends at `return_to` with `linked=<provider>`, or `error=identity_in_use` / `error=session_ended` (the session that started it ended meanwhile). " + STEP_UP_NOTE,
  request: { params: ProviderParam, query: ReturnToQuery },
  responses: { 302: Redirect("To the provider"), ...problemResponses(401, 403, 404, 422, 429, 503) },
});

const linkPostRoute = securedRoute({ session: true }, {
  method: "post",
  path: `${API}/me/identities/{provider}/link`,
  tags,
  summary: "Start linking a provider's identity: the URL to navigate to",
  description: "Same flow as the GET, for browser apps: answers `{authorization_url}` (and sets the flow's browser-binding cookie); navigate to it. " + STEP_UP_NOTE,
  request: { params: ProviderParam, ...jsonBody(z.strictObject({ return_to: ReturnTo.optional() }).openapi("LinkStartInput")) },
  responses: { 200: jsonResponse(z.object({ authorization_url: z.string() }).openapi("AuthorizationUrl"), "Navigate to it"), ...problemResponses(401, 403, 404, 422, 429, 503) },
});

export function registerFederation(app: App): void {
  app.openapi(providersRoute, (c) => c.json({ items: listProviders(c.var.ctx.config) }, 200));
  app.openapi(startRoute, async (c) => {
    const { provider } = c.req.valid("param");
    const started = await startSocialSignIn(c.var.ctx, provider, c.req.valid("query").return_to);
    bindBrowser(c, started.browser);
    c.header("Cache-Control", "no-store");
    return c.redirect(started.url, 302);
  });
  app.openapi(ssoStartRoute, async (c) => {
    const { email, return_to } = c.req.valid("json");
    const started = await startSsoSignIn(c.var.ctx, email, return_to);
    bindBrowser(c, started.browser);
    c.header("Cache-Control", "no-store");
    return c.json({ authorization_url: started.url }, 200);
  });
  app.openapi(callbackRoute, async (c) => {
    const params = new URL(c.req.url).searchParams;
    const browser = getCookie(c, BROWSER_COOKIE);
    const { target, loginCodeIssued } = await handleCallback(c.var.ctx, params, browser);
    deleteCookie(c, BROWSER_COOKIE, COOKIE_OPTIONS);
    if (loginCodeIssued && browser) setCookie(c, EXCHANGE_COOKIE, browser, { ...EXCHANGE_OPTIONS, maxAge: LOGIN_CODE_TTL_MS / 1000 });
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    return c.redirect(target, 302);
  });
  app.openapi(exchangeRoute, async (c) => {
    const { refresh_token_delivery, ...input } = c.req.valid("json");
    const result = await exchangeLoginCode(c.var.ctx, { ...input, device_token: input.device_token ?? deviceTokenFromCookie(c) }, getCookie(c, EXCHANGE_COOKIE));
    deleteCookie(c, EXCHANGE_COOKIE, EXCHANGE_OPTIONS);
    return c.json("mfa_required" in result ? result : deliverSignIn(c, result, refresh_token_delivery), 200);
  });
  app.openapi(listRoute, async (c) => c.json({ items: await listIdentities(c.var.ctx, ownerOf(c.var.actor)) }, 200));
  app.openapi(unlinkRoute, async (c) => {
    await unlinkIdentity(c.var.ctx, ownerOf(c.var.actor), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(linkGetRoute, async (c) => {
    const started = await startLink(c.var.ctx, c.var.actor, c.req.valid("param").provider, c.req.valid("query").return_to);
    bindBrowser(c, started.browser);
    c.header("Cache-Control", "no-store");
    return c.redirect(started.url, 302);
  });
  app.openapi(linkPostRoute, async (c) => {
    const started = await startLink(c.var.ctx, c.var.actor, c.req.valid("param").provider, c.req.valid("json").return_to);
    bindBrowser(c, started.browser);
    return c.json({ authorization_url: started.url }, 200);
  });
}
