import { errors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from "jose";
import type { Env } from "../env";
import type { Config } from "./config";
import { AppError } from "./errors";
import { missingSecret } from "./secrets";
import { log } from "./log";

const ALG = "EdDSA";

interface KeySet {
  kid: string;
  signKey: CryptoKey;
  verifyKeys: Map<string, CryptoKey>;
  /** Public JWKS document served at /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
}

let cached: { source: string; keys: Promise<KeySet> } | undefined;

/**
 * The signing keys, imported once per isolate. `JWT_SIGNING_KEYS` is a JSON array of Ed25519
 * private JWKs with `kid`s: the first signs, every one verifies, so keys rotate by prepending
 * a new key and dropping the old one after the access-token lifetime.
 */
export function getKeySet(env: Env, config: Config): Promise<KeySet> {
  const source = typeof env.JWT_SIGNING_KEYS === "string" ? env.JWT_SIGNING_KEYS : "";
  // Outside development a missing key is refused every time, even if this isolate made an
  // ephemeral development key earlier.
  if (!source && !config.isDevelopment) return Promise.reject(missingSecret("JWT_SIGNING_KEYS"));
  if (cached && cached.source === source) return cached.keys;
  const keys = source ? importKeySet(source) : ephemeralKeySet(config);
  cached = { source, keys };
  keys.catch(() => {
    if (cached?.keys === keys) cached = undefined;
  });
  return keys;
}

async function importKeySet(source: string): Promise<KeySet> {
  const jwks = JSON.parse(source) as JWK[];
  if (!Array.isArray(jwks) || jwks.length === 0) throw new Error("JWT_SIGNING_KEYS must be a non-empty JSON array of JWKs");
  const verifyKeys = new Map<string, CryptoKey>();
  const publicJwks: JWK[] = [];
  let signKey: CryptoKey | undefined;
  for (const [i, jwk] of jwks.entries()) {
    if (!jwk.kid || !jwk.d) throw new Error("every JWT signing key needs a kid and a private part");
    const { d: _private, ...pub } = jwk;
    const publicJwk: JWK = { ...pub, alg: ALG, use: "sig" };
    verifyKeys.set(jwk.kid, (await importJWK(publicJwk, ALG)) as CryptoKey);
    publicJwks.push(publicJwk);
    if (i === 0) signKey = (await importJWK({ ...jwk, alg: ALG }, ALG)) as CryptoKey;
  }
  return { kid: jwks[0]!.kid!, signKey: signKey!, verifyKeys, jwks: { keys: publicJwks } };
}

/** Development without `.dev.vars`: a key per isolate, with a warning. Refused elsewhere. */
async function ephemeralKeySet(config: Config): Promise<KeySet> {
  if (!config.isDevelopment) throw missingSecret("JWT_SIGNING_KEYS");
  log.warn("JWT_SIGNING_KEYS is not set: using an ephemeral signing key (development only)");
  const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const kid = `dev-${Date.now()}`;
  const pub = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  return { kid, signKey: privateKey, verifyKeys: new Map([[kid, publicKey]]), jwks: { keys: [pub] } };
}

export interface AccessClaims {
  sub: string;
  sid: string;
  /** Present (true) when the password had expired at issue time. */
  pwx?: boolean;
  /** When the user last proved who they are in this session (OIDC `auth_time`, seconds); 0: unknown (older token). */
  auth_time?: number;
}

/** Signs a short-lived access token. It carries ids only, nothing secret. */
export async function signAccessToken(env: Env, config: Config, claims: AccessClaims, now: Date): Promise<string> {
  const keys = await getKeySet(env, config);
  const iat = Math.floor(now.getTime() / 1000);
  const payload: Record<string, unknown> = { sid: claims.sid };
  if (claims.pwx) payload.pwx = true;
  if (claims.auth_time !== undefined) payload.auth_time = claims.auth_time;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALG, kid: keys.kid, typ: "at+jwt" })
    .setSubject(claims.sub)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ACCESS_TOKEN_TTL_SECONDS)
    .sign(keys.signKey);
}

/** Verifies signature, issuer, audience, type and expiry. Throws 401 `token_expired` / `unauthenticated`. */
export async function verifyAccessToken(env: Env, config: Config, token: string): Promise<AccessClaims & { auth_time: number; iat: number; exp: number }> {
  const keys = await getKeySet(env, config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? keys.verifyKeys.get(header.kid) : undefined;
        if (!key) throw new AppError("unauthenticated", "Unknown signing key");
        return key;
      },
      { algorithms: [ALG], issuer: config.JWT_ISSUER, audience: config.JWT_ISSUER, typ: "at+jwt" },
    );
    if (typeof payload.sub !== "string" || typeof payload.sid !== "string") throw new AppError("unauthenticated", "Malformed token");
    const authTime = typeof payload.auth_time === "number" && Number.isFinite(payload.auth_time) ? payload.auth_time : 0;
    return { sub: payload.sub, sid: payload.sid, pwx: payload.pwx === true, auth_time: authTime, iat: payload.iat ?? 0, exp: payload.exp ?? 0 };
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof errors.JWTExpired) throw new AppError("token_expired", "Access token expired; refresh it");
    throw new AppError("unauthenticated", "Invalid access token");
  }
}
