/**
 * Password acceptance rules following NIST SP 800-63B-4 §3.1.1.2: length over
 * composition, a blocklist of common passwords, and context-specific words.
 * Composition classes exist only for parity with the seed systems' rules.
 */
import { fromBase64, utf8Bytes } from "../../platform/encoding";

/** Tunable limits; lengths are counted in Unicode code points after NFKC. */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** Require upper, lower, digit and symbol (legacy composition rules). */
  requireClasses: boolean;
}

/** One broken rule, with a message suitable for showing to the user. */
export interface PasswordProblem {
  rule:
    | "min_length"
    | "max_length"
    | "common"
    | "contains_email"
    | "contains_name"
    | "uppercase"
    | "lowercase"
    | "digit"
    | "symbol";
  message: string;
}

/** Optional facts about the account, used to reject context-specific passwords. */
export interface PasswordContext {
  email?: string;
  fullName?: string;
}

// Shorter fragments (e.g. "jo", "li") would reject too many unrelated passwords.
const MIN_EMAIL_LOCAL_LENGTH = 3;
const MIN_NAME_WORD_LENGTH = 4;

let commonHashes: Uint32Array | undefined;

/** 32-bit FNV-1a of the UTF-8 bytes; must match scripts/gen-common-passwords.mjs (a test checks every entry). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8Bytes(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Loads and decodes the common-password hashes (~34 KB of Rice-coded gaps, its own chunk, so it is
 * no part of the cold start: docs/performance.md) into a sorted Uint32Array, once per isolate.
 * checkPassword needs it: callers await this first (passwords.service's assertPasswordAcceptable).
 * The encoding and its false-positive rate (≈ 2.3e-6) are described in scripts/gen-common-passwords.mjs.
 */
export async function loadCommonPasswords(): Promise<void> {
  if (commonHashes) return;
  const { COMMON_PASSWORD_COUNT, COMMON_PASSWORD_HASHES, COMMON_PASSWORD_RICE_K } = await import("./common-passwords");
  const bytes = fromBase64(COMMON_PASSWORD_HASHES);
  const out = new Uint32Array(COMMON_PASSWORD_COUNT);
  let bit = 0;
  const next = () => (bytes[bit >> 3]! >> (7 - (bit++ & 7))) & 1;
  let value = 0;
  for (let i = 0; i < out.length; i++) {
    let quotient = 0;
    while (next() === 1) quotient++;
    let remainder = 0;
    for (let b = 0; b < COMMON_PASSWORD_RICE_K; b++) remainder = remainder * 2 + next();
    value += quotient * 2 ** COMMON_PASSWORD_RICE_K + remainder;
    out[i] = value;
  }
  commonHashes = out;
}

/** `lower` is already NFKC and lowercase. */
function isListed(lower: string): boolean {
  const hashes = commonHashes;
  // Fail closed: a caller that forgot loadCommonPasswords() gets an error, never an unchecked password.
  if (!hashes) throw new Error("loadCommonPasswords() must be awaited before checking a password");
  const h = fnv1a32(lower);
  let lo = 0;
  let hi = hashes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = hashes[mid]!;
    if (v === h) return true;
    if (v < h) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

function codePointLength(s: string): number {
  let n = 0;
  // for..of iterates by code point, so a surrogate pair counts once.
  for (const _ of s) n++;
  return n;
}

/** True when the password (case-insensitively, after NFKC) is among the 10,000 most common (after loadCommonPasswords()). */
export function isCommonPassword(password: string): boolean {
  return isListed(password.normalize("NFKC").toLowerCase());
}

/** Returns every rule the password breaks (empty array = acceptable). */
export function checkPassword(
  password: string,
  context: PasswordContext,
  policy: PasswordPolicy,
): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  // NFKC so that visually identical inputs (full-width, ligatures) count and compare the same.
  const normalized = password.normalize("NFKC");
  const lower = normalized.toLowerCase();
  const length = codePointLength(normalized);

  if (length < policy.minLength) {
    problems.push({
      rule: "min_length",
      message: `Password must be at least ${policy.minLength} characters`,
    });
  }
  if (length > policy.maxLength) {
    problems.push({
      rule: "max_length",
      message: `Password must be at most ${policy.maxLength} characters`,
    });
  }
  if (isListed(lower)) {
    problems.push({
      rule: "common",
      message: "Password is too common; choose something less predictable",
    });
  }

  const local = emailLocalPart(context.email);
  if (local !== undefined && lower.includes(local)) {
    problems.push({
      rule: "contains_email",
      message: "Password must not contain your email address",
    });
  }
  if (nameWords(context.fullName).some((word) => lower.includes(word))) {
    problems.push({
      rule: "contains_name",
      message: "Password must not contain your name",
    });
  }

  if (policy.requireClasses) {
    if (!/\p{Lu}/u.test(normalized)) {
      problems.push({
        rule: "uppercase",
        message: "Password must contain an uppercase letter",
      });
    }
    if (!/\p{Ll}/u.test(normalized)) {
      problems.push({
        rule: "lowercase",
        message: "Password must contain a lowercase letter",
      });
    }
    if (!/\p{Nd}/u.test(normalized)) {
      problems.push({ rule: "digit", message: "Password must contain a digit" });
    }
    // Anything that is neither a letter nor a number (punctuation, space, emoji) is a symbol.
    if (!/[^\p{L}\p{N}]/u.test(normalized)) {
      problems.push({
        rule: "symbol",
        message: "Password must contain a symbol",
      });
    }
  }

  return problems;
}

function emailLocalPart(email: string | undefined): string | undefined {
  if (email === undefined) return undefined;
  const at = email.lastIndexOf("@");
  const local = (at === -1 ? email : email.slice(0, at)).normalize("NFKC").toLowerCase();
  return codePointLength(local) >= MIN_EMAIL_LOCAL_LENGTH ? local : undefined;
}

function nameWords(fullName: string | undefined): string[] {
  if (fullName === undefined) return [];
  return fullName
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => codePointLength(word) >= MIN_NAME_WORD_LENGTH);
}
