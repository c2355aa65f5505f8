import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Env } from "../env";
import type { Config } from "./config";
import { base64url, fromBase64 } from "./crypto";

// A fixed key for development only, so local 2FA secrets survive restarts without .dev.vars.
const DEVELOPMENT_KEY = "a2VlbC1kZXZlbG9wbWVudC1vbmx5LWtleS0wMDAwMDA=";

let cached: { source: string; master: Uint8Array; aes: Promise<CryptoKey> } | undefined;

function master(env: Env, config: Config): { master: Uint8Array; aes: Promise<CryptoKey> } {
  let source = typeof env.DATA_ENCRYPTION_KEY === "string" ? env.DATA_ENCRYPTION_KEY : "";
  if (!source) {
    if (!config.isDevelopment) throw new Error("DATA_ENCRYPTION_KEY secret is not set");
    source = DEVELOPMENT_KEY;
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
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

export async function open(env: Env, config: Config, sealed: string, context: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unknown sealed format");
  const key = await master(env, config).aes;
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: new TextEncoder().encode(context) },
    key,
    fromBase64(ct),
  );
  return new TextDecoder().decode(pt);
}
