/**
 * Every base64 of keel, on @scure/base (audited, no dependencies, strict decoders):
 *
 * - `toBase64url`: URL-safe, no padding: random tokens, sealed values (`v1.<iv>.<ct>`), cursors.
 * - `toBase64`: standard alphabet, padded: MIME bodies and encoded-word headers.
 * - `toBase64NoPad`: standard alphabet, no padding: the salt and key of keel's scrypt hashes.
 * - `fromBase64`: either alphabet, padded or not.
 *
 * The outputs are those of the `btoa`/`Buffer` code they replace, byte for byte (stored hashes,
 * sealed columns and tokens in emails already sent keep working; encoding.test.ts compares both on
 * random input). Hex is @noble/hashes' `bytesToHex`.
 */
import { base64, base64nopad, base64urlnopad } from "@scure/base";

export const toBase64url = (bytes: Uint8Array): string => base64urlnopad.encode(bytes);
export const toBase64 = (bytes: Uint8Array): string => base64.encode(bytes);
export const toBase64NoPad = (bytes: Uint8Array): string => base64nopad.encode(bytes);

/**
 * Bytes of base64 in either alphabet (`+/` or `-_`), with or without its `=` padding: what keel's
 * encoders, Node's `toString("base64")` and `openssl rand -base64` write. Throws on anything else,
 * including white space and non-zero trailing bits (which no encoder writes); whatever it accepts,
 * the `atob` code it replaced decoded to the same bytes.
 */
export function fromBase64(text: string): Uint8Array {
  const url = text.replace(/\+/g, "-").replace(/\//g, "_");
  return base64urlnopad.decode(url.length % 4 === 0 ? url.replace(/={1,2}$/, "") : url);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export const utf8Bytes = (text: string): Uint8Array => encoder.encode(text);
/** The string of UTF-8 bytes (invalid sequences become U+FFFD, as TextDecoder does). */
export const utf8Text = (bytes: Uint8Array): string => decoder.decode(bytes);

/** URL-safe base64 (no padding) of a string's UTF-8 bytes. */
export const textToBase64url = (text: string): string => toBase64url(utf8Bytes(text));
/** The string whose UTF-8 bytes `fromBase64` gives; throws on malformed base64. */
export const textFromBase64 = (value: string): string => utf8Text(fromBase64(value));
