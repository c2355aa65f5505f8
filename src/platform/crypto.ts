import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { toBase64url } from "./encoding";

/** A random opaque token with `bytes` bytes of entropy (default 32 = 256 bits). */
export function randomToken(bytes = 32): string {
  return toBase64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * SHA-256 hex of a high-entropy token (refresh tokens, one-time tokens, API keys). A fast hash
 * is right here: the input has 256 random bits, so there is nothing to brute-force, and lookups
 * by hash must be cheap.
 */
export function sha256Hex(value: string): string {
  return bytesToHex(sha256(utf8ToBytes(value)));
}

/** HMAC-SHA-256 hex under a server key: for low-entropy secrets such as backup codes. */
export function hmacHex(key: Uint8Array, value: string): string {
  return bytesToHex(hmac(sha256, key, utf8ToBytes(value)));
}

/** Constant-time string comparison (length leaks, content does not). */
export function timingSafeEqualStr(a: string, b: string): boolean {
  const x = utf8ToBytes(a);
  const y = utf8ToBytes(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
