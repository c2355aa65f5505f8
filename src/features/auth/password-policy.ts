/**
 * Password acceptance rules following NIST SP 800-63B-4 §3.1.1.2: length over
 * composition, a blocklist of common passwords, and context-specific words.
 * Composition classes exist only for parity with the seed systems' rules.
 */
import { COMMON_PASSWORDS_TEXT } from "./common-passwords";

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

let commonSet: Set<string> | undefined;

// Built lazily: splitting 10k entries costs a few ms we only want to pay when a password is checked.
function commonPasswords(): Set<string> {
  commonSet ??= new Set(COMMON_PASSWORDS_TEXT.split("\n"));
  return commonSet;
}

function codePointLength(s: string): number {
  let n = 0;
  // for..of iterates by code point, so a surrogate pair counts once.
  for (const _ of s) n++;
  return n;
}

/** True when the password (case-insensitively, after NFKC) is among the 10,000 most common. */
export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(password.normalize("NFKC").toLowerCase());
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
  if (commonPasswords().has(lower)) {
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
