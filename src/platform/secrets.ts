import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Env } from "../env";
import type { Config } from "./config";
import { fromBase64, toBase64url } from "./encoding";
import { AppError } from "./errors";
import { log } from "./log";

let cached: { source: string; master: Uint8Array; aes: Promise<CryptoKey> } | undefined;
/** Development without .dev.vars: a random key per isolate (never a fixed one), with a warning. */
let ephemeral: string | undefined;

/**
 * The service cannot run safely without a secret: log why (once per request that hits it) and
 * answer 503, never fall back to a key someone could guess.
 */
export function missingSecret(name: string): AppError {
  log.error(`${name} secret is not set: refusing to sign or encrypt with a guessable key`, { variable: name });
  return new AppError("service_unavailable", "The service is not configured");
}

function master(env: Env, config: Config): { master: Uint8Array; aes: Promise<CryptoKey> } {
  let source = typeof env.DATA_ENCRYPTION_KEY === "string" ? env.DATA_ENCRYPTION_KEY : "";
  if (!source) {
    if (!config.isDevelopment) throw missingSecret("DATA_ENCRYPTION_KEY");
    if (!ephemeral) {
      log.warn("DATA_ENCRYPTION_KEY is not set: using a random key for this isolate (development only; `npm start` writes one to .dev.vars)");
      ephemeral = toBase64url(crypto.getRandomValues(new Uint8Array(32)));
    }
    source = ephemeral;
  }
  if (cached?.source === source) return cached;
  const key = fromBase64(source);
  if (key.length < 32) throw new Error("DATA_ENCRYPTION_KEY must be base64 of at least 32 bytes");
  const aesKey = hkdf(sha256, key, undefined, utf8ToBytes("keel:aes-gcm:v1"), 32);
  const aes = crypto.subtle.importKey("raw", aesKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  cached = { source, master: key, aes };
  return cached;
}

/** A purpose-bound HMAC key derived from DATA_ENCRYPTION_KEY (HKDF), e.g. for backup codes. */
export function derivedKey(env: Env, config: Config, purpose: string): Uint8Array {
  return hkdf(sha256, master(env, config).master, undefined, utf8ToBytes(`keel:${purpose}`), 32);
}

/** AES-256-GCM encryption of a small secret: `v1.<iv>.<ciphertext>`, bound to `context` (AAD). */
export async function seal(env: Env, config: Config, plaintext: string, context: string): Promise<string> {
  const key = await master(env, config).aes;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return `v1.${toBase64url(iv)}.${toBase64url(new Uint8Array(ct))}`;
}

/**
 * A sealed value that this key cannot open: sealed with another key (a local database kept across
 * a key change), bound to another context, altered, or not a sealed value at all. A caller that
 * opens one value per row of a list catches it and shows that row as unopened, so one bad row
 * does not take the list down.
 */
export class UnopenableSecretError extends Error {
  constructor(reason: string) {
    super(`cannot be opened: ${reason}`);
    this.name = "UnopenableSecretError";
  }
}

/**
 * Opens a value of `seal`. Throws `UnopenableSecretError` when this key cannot open it; a missing
 * key is still the 503 of `missingSecret`.
 */
export async function open(env: Env, config: Config, sealed: string, context: string): Promise<string> {
  const key = await master(env, config).aes;
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new UnopenableSecretError("unknown sealed format");
  let pt: ArrayBuffer;
  try {
    pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv), additionalData: new TextEncoder().encode(context) }, key, fromBase64(ct));
  } catch {
    // AES-GCM tells no more than "not authentic": another key is by far the likeliest cause.
    throw new UnopenableSecretError("sealed with another key");
  }
  return new TextDecoder().decode(pt);
}
