import type * as OAuth from "oauth4webapi";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { OidcSource } from "../../db/tables";
import type { Config, OidcProviderConfig } from "../../platform/config";
import type { ServiceContext } from "../../platform/context";
import { IsolateCache } from "../../platform/isolate-cache";
import { HOUR } from "../../platform/time";
import { ssoConnectionOfOrg } from "../sso/sso.service";

/**
 * The OpenID Connect relying party, on oauth4webapi (a certified RP library) and jose: discovery,
 * the authorization request (PKCE S256, state, nonce), the authorization response (state and the
 * RFC 9207 `iss` parameter), the code exchange and the ID token (iss, aud, azp, exp, iat, nonce by
 * oauth4webapi; the signature against the provider's JWKS by jose). Nothing here is hand-rolled.
 */

/** What a flow needs of a provider, whatever its kind (a configured social provider, an organization's SSO). */
export interface ResolvedProvider {
  issuer: string;
  client_id: string;
  client_secret: string;
  scopes: string[];
  /** Whether the provider's `amr` (MFA) counts as keel's second factor. */
  trust_amr: boolean;
  /** Stored on the identity: the social provider's id (`sso:<org id>` for an organization). */
  provider_id: string;
  /** Shown to people (the notice email). */
  name: string;
}

const DEFAULT_SCOPES = ["openid", "email", "profile"];

export const socialProvider = (config: Config, id: string): OidcProviderConfig | undefined => config.OIDC_PROVIDERS.find((p) => p.id === id);

/**
 * The provider of a flow's source. Social providers come from OIDC_PROVIDERS; an organization's SSO
 * from its enabled connection (issuer, client id, the secret opened from its sealed form). An
 * organization's provider never stands in for keel's TOTP (`trust_amr: false`): the organization
 * controls what its provider asserts, and a user's own second factor is what keeps their account
 * theirs even against their organization's provider (README "Organization single sign-on").
 */
export async function resolveProvider(ctx: Pick<ServiceContext, "config" | "db" | "env">, source: OidcSource): Promise<ResolvedProvider | undefined> {
  if (source.kind === "social") {
    const p = socialProvider(ctx.config, source.provider);
    if (!p) return undefined;
    const scopes = [...new Set(["openid", ...(p.scopes ?? DEFAULT_SCOPES)])];
    return { issuer: p.issuer, client_id: p.client_id, client_secret: p.client_secret, scopes, trust_amr: p.trust_amr === true, provider_id: p.id, name: p.name };
  }
  const c = await ssoConnectionOfOrg(ctx, source.org_id);
  if (!c) return undefined;
  return { issuer: c.issuer, client_id: c.clientId, client_secret: c.clientSecret, scopes: DEFAULT_SCOPES, trust_amr: false, provider_id: `sso:${c.orgId}`, name: "Single sign-on" };
}

/** keel's redirect URI, registered at every provider. */
export const callbackUrl = (config: Pick<Config, "PUBLIC_BASE_URL">) => new URL("/api/v1/auth/oidc/callback", config.PUBLIC_BASE_URL).href;

/** Plain-HTTP issuers on the loopback interface, in development only (local test providers). */
function insecureAllowed(config: Pick<Config, "isDevelopment">, issuer: string): boolean {
  if (!config.isDevelopment) return false;
  const url = new URL(issuer);
  return url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost");
}

/**
 * oauth4webapi, loaded by the first OpenID sign-in as its own chunk (docs/performance.md). Every
 * exported flow starts with discover(), which loads it, so the helpers below may use it.
 */
let oauth: typeof OAuth;

const httpOptions = (config: Pick<Config, "isDevelopment">, issuer: string) => ({
  [oauth.allowInsecureRequests]: insecureAllowed(config, issuer),
  signal: AbortSignal.timeout(10_000),
});

/**
 * Discovery documents, per isolate for an hour: a provider's metadata changes rarely, and a key
 * rotation is picked up by jose's JWKS set (refetched on an unknown `kid`), not by rediscovery.
 */
const discoveryCache = new IsolateCache<string, OAuth.AuthorizationServer>(100);
const DISCOVERY_TTL = HOUR;
/** jose's remote JWKS sets (each caches the keys and refetches on an unknown kid, at most every 30 s). */
const jwksCache = new IsolateCache<string, JWTVerifyGetKey>(100);

async function discover(config: Config, issuer: string, now: number): Promise<OAuth.AuthorizationServer> {
  oauth ??= await import("oauth4webapi");
  const hit = discoveryCache.get(issuer, now);
  if (hit) return hit;
  const url = new URL(issuer);
  const res = await oauth.discoveryRequest(url, { algorithm: "oidc", ...httpOptions(config, issuer) });
  const as = await oauth.processDiscoveryResponse(url, res);
  discoveryCache.set(issuer, as, now, DISCOVERY_TTL);
  return as;
}

function jwksOf(as: OAuth.AuthorizationServer, now: number): JWTVerifyGetKey {
  if (!as.jwks_uri) throw new Error("the provider publishes no jwks_uri");
  const hit = jwksCache.get(as.issuer, now);
  if (hit) return hit;
  const jwks = createRemoteJWKSet(new URL(as.jwks_uri), { timeoutDuration: 10_000 });
  jwksCache.set(as.issuer, jwks, now, DISCOVERY_TTL);
  return jwks;
}

/** The oauth4webapi client, its clock set to keel's (tests move it), so exp/iat are judged at `ctx.now`. */
function clientOf(p: ResolvedProvider, now: Date): OAuth.Client {
  return { client_id: p.client_id, [oauth.clockSkew]: Math.round((now.getTime() - Date.now()) / 1000) };
}

function clientAuth(as: OAuth.AuthorizationServer, p: ResolvedProvider): OAuth.ClientAuth {
  const methods = as.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  return methods.includes("client_secret_basic") || !methods.includes("client_secret_post") ? oauth.ClientSecretBasic(p.client_secret) : oauth.ClientSecretPost(p.client_secret);
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The authorization request: code flow with PKCE S256, a fresh state and nonce. */
export async function authorizationRequest(ctx: Pick<ServiceContext, "config" | "now">, p: ResolvedProvider, extra: Record<string, string> = {}): Promise<AuthorizationRequest> {
  const as = await discover(ctx.config, p.issuer, ctx.now.getTime());
  if (!as.authorization_endpoint) throw new Error("the provider publishes no authorization_endpoint");
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", p.client_id);
  url.searchParams.set("redirect_uri", callbackUrl(ctx.config));
  url.searchParams.set("scope", p.scopes.join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return { url: url.href, state, nonce, codeVerifier };
}

export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  amr: string[];
}

/** Thrown for a refused authorization response; `code` goes to return_to as `error=`. */
export class OidcFlowError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The authorization response and the code exchange: validates `state` and the RFC 9207 `iss`
 * parameter, redeems the code with the PKCE verifier, then verifies the ID token (claims by
 * oauth4webapi, the signature against the JWKS by jose). Any failure → OidcFlowError.
 */
export async function completeAuthorization(
  ctx: Pick<ServiceContext, "config" | "now">,
  p: ResolvedProvider,
  params: URLSearchParams,
  expected: { state: string; nonce: string; codeVerifier: string },
): Promise<VerifiedIdentity> {
  const as = await discover(ctx.config, p.issuer, ctx.now.getTime());
  const client = clientOf(p, ctx.now);
  let callbackParams: URLSearchParams;
  try {
    callbackParams = oauth.validateAuthResponse(as, client, params, expected.state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      const code = /^[a-z_]{1,40}$/.test(err.error) ? err.error : "provider_error";
      throw new OidcFlowError(code, `the provider answered ${err.error}`);
    }
    throw new OidcFlowError("invalid_response", err instanceof Error ? err.message : "invalid authorization response");
  }
  try {
    const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth(as, p), callbackParams, callbackUrl(ctx.config), expected.codeVerifier, httpOptions(ctx.config, p.issuer));
    const result = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: expected.nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims || !result.id_token) throw new Error("no ID token");
    // The signature, against the provider's published keys (oauth4webapi checked the claims).
    await jwtVerify(result.id_token, jwksOf(as, ctx.now.getTime()), { issuer: as.issuer, audience: p.client_id, currentDate: ctx.now, clockTolerance: 30 });
    // A conforming provider may keep scope claims (email, name) out of the ID token when it
    // issues an access token for the UserInfo endpoint: read them there, for the same subject.
    let profile: Record<string, unknown> = claims;
    if (claims.email === undefined && as.userinfo_endpoint && result.access_token) {
      const info = await oauth.userInfoRequest(as, client, result.access_token, httpOptions(ctx.config, p.issuer));
      profile = { ...(await oauth.processUserInfoResponse(as, client, claims.sub, info)), ...claims };
    }
    const email = typeof profile.email === "string" && /^[^\s@]+@[^\s@]+$/.test(profile.email) && profile.email.length <= 254 ? profile.email.toLowerCase() : null;
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email,
      email_verified: email !== null && (profile.email_verified === true || profile.email_verified === "true"),
      name: typeof profile.name === "string" && profile.name.trim() ? profile.name.trim().slice(0, 200) : null,
      amr: Array.isArray(claims.amr) ? claims.amr.filter((a): a is string => typeof a === "string") : [],
    };
  } catch (err) {
    if (err instanceof OidcFlowError) throw err;
    throw new OidcFlowError("invalid_response", err instanceof Error ? err.message : "invalid token response");
  }
}

/**
 * Whether the provider's sign-in stands in for keel's second factor: its MFA is trusted, and `amr`
 * (RFC 8176) says `mfa`, or names two methods or more.
 */
export const providerMfaSatisfies = (p: Pick<ResolvedProvider, "trust_amr">, amr: readonly string[]): boolean =>
  p.trust_amr && (amr.includes("mfa") || new Set(amr).size >= 2);
