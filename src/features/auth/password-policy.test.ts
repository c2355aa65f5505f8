import { beforeAll, describe, expect, it } from "vitest";
import RANKED from "@zxcvbn-ts/language-common/src/passwords.json";
import { COMMON_PASSWORD_COUNT } from "./common-passwords";
import type { PasswordPolicy, PasswordProblem } from "./password-policy";
import { checkPassword, isCommonPassword, loadCommonPasswords } from "./password-policy";

beforeAll(() => loadCommonPasswords());

const NIST: PasswordPolicy = { minLength: 15, maxLength: 64, requireClasses: false };
const LEGACY: PasswordPolicy = { minLength: 8, maxLength: 64, requireClasses: true };
// A long, uncommon passphrase that satisfies every rule including composition.
const GOOD = "Correct-Horse-Battery-Staple-42";

const rules = (problems: PasswordProblem[]) => problems.map((p) => p.rule).sort();

describe("common password list", () => {
  // The source list, prepared as scripts/gen-common-passwords.mjs prepares it (the Worker ships only hashes).
  const listed = [...new Set((RANKED as string[]).slice(0, 10_000).map((p) => p.normalize("NFKC").toLowerCase()))];

  it("holds one hash for each of the 10,000 entries", () => {
    expect(listed).toHaveLength(10_000);
    expect(COMMON_PASSWORD_COUNT).toBe(10_000);
    expect(listed[0]).toBe("123456");
  });

  it("refuses every listed password, in any case", () => {
    expect(listed.filter((p) => !isCommonPassword(p))).toEqual([]);
    expect(listed.filter((p) => !isCommonPassword(p.toUpperCase()) && p.toUpperCase().toLowerCase() === p)).toEqual([]);
  });

  it("refuses a password just past the list only by a rare hash collision (≈ 2.3e-6 each)", () => {
    const outside = (RANKED as string[]).slice(20_000, 30_000).map((p) => p.normalize("NFKC").toLowerCase()).filter((p) => !listed.includes(p));
    expect(outside.length).toBeGreaterThan(9_000);
    expect(outside.filter((p) => isCommonPassword(p)).length).toBeLessThanOrEqual(1);
  });

  it("matches case-insensitively", () => {
    expect(isCommonPassword("password")).toBe(true);
    expect(isCommonPassword("PassWord")).toBe(true);
    expect(isCommonPassword("password1")).toBe(true);
    // Full-width letters fold to ASCII under NFKC.
    expect(isCommonPassword("ｐａｓｓｗｏｒｄ")).toBe(true);
    expect(isCommonPassword(GOOD)).toBe(false);
  });
});

describe("checkPassword", () => {
  it("accepts a good password under both policies", () => {
    expect(checkPassword(GOOD, {}, NIST)).toEqual([]);
    expect(checkPassword(GOOD, { email: "alice@example.com", fullName: "Alice Smith" }, LEGACY)).toEqual([]);
  });

  it("enforces the minimum length with a readable message", () => {
    const problems = checkPassword("tangerine-owl", {}, NIST); // 13 chars
    expect(problems).toEqual([{ rule: "min_length", message: "Password must be at least 15 characters" }]);
    expect(checkPassword("tangerine-owl-x", {}, NIST)).toEqual([]); // exactly 15
  });

  it("enforces the maximum length", () => {
    const long = "tangerine owl ".repeat(5); // 70 chars
    expect(rules(checkPassword(long, {}, NIST))).toEqual(["max_length"]);
    expect(checkPassword(long.slice(0, 64), {}, NIST)).toEqual([]);
    expect(checkPassword(long, {}, NIST)[0]?.message).toBe("Password must be at most 64 characters");
  });

  it("counts Unicode code points, not UTF-16 units", () => {
    const emoji15 = "🦊🐙🌵🍉🚲🎈🧩🪁🦉🍄🌙🎻🧭🪐🐝"; // 15 code points, 30 UTF-16 units
    expect(emoji15.length).toBe(30);
    expect(checkPassword(emoji15, {}, NIST)).toEqual([]);
    expect(rules(checkPassword(emoji15.slice(0, 28), {}, NIST))).toEqual(["min_length"]); // 14
    // 40 emoji = 80 UTF-16 units: within a 64 code point maximum.
    expect(checkPassword(emoji15 + emoji15 + emoji15.slice(0, 20), {}, NIST)).toEqual([]);
  });

  it("measures length after NFKC normalisation", () => {
    // U+FB03 (ﬃ) is one code point that NFKC expands to "ffi" (three).
    const policy = { ...NIST, minLength: 6 };
    expect(rules(checkPassword("ﬃ♣♦", {}, policy))).toEqual(["min_length"]); // 5 after NFKC
    expect(checkPassword("ﬃ♣♦♥", {}, policy)).toEqual([]); // 6 after NFKC, 4 before
  });

  it("rejects common passwords case-insensitively", () => {
    const short = { ...NIST, minLength: 8 };
    for (const pw of ["Password1", "QWERTYUIOP", "1Qaz2Wsx3Edc", "iLoveYou"]) {
      expect(rules(checkPassword(pw, {}, short)), pw).toEqual(["common"]);
    }
    expect(checkPassword("Password1", {}, short)[0]?.message).toMatch(/too common/);
  });

  it("rejects the email local part case-insensitively", () => {
    const ctx = { email: "Marguerite.Duras@example.com" };
    expect(rules(checkPassword("my-MARGUERITE.duras-secret", ctx, NIST))).toEqual(["contains_email"]);
    // The domain alone is fine.
    expect(checkPassword("example.com-is-my-employer", ctx, NIST)).toEqual([]);
  });

  it("ignores email local parts shorter than 3 characters", () => {
    expect(checkPassword("abstract-painting-club", { email: "ab@example.com" }, NIST)).toEqual([]);
    expect(rules(checkPassword("abstract-painting-club", { email: "abs@example.com" }, NIST))).toEqual([
      "contains_email",
    ]);
  });

  it("rejects any 4+ character word of the full name", () => {
    const ctx = { fullName: "Jo Anne Tennyson" };
    expect(rules(checkPassword("i-admire-tennyson-poems", ctx, NIST))).toEqual(["contains_name"]);
    expect(rules(checkPassword("ANNEs-glorious-garden", ctx, NIST))).toEqual(["contains_name"]);
    // "Jo" is too short to count.
    expect(checkPassword("jolly-green-giant-xyz", ctx, NIST)).toEqual([]);
  });

  it("applies composition rules only when requireClasses is on", () => {
    const pw = "lowercase only phrase";
    expect(checkPassword(pw, {}, NIST)).toEqual([]);
    expect(rules(checkPassword(pw, {}, LEGACY))).toEqual(["digit", "uppercase"]);
    expect(rules(checkPassword("zqxvbnmtrk", {}, LEGACY))).toEqual(["digit", "symbol", "uppercase"]);
    expect(rules(checkPassword("ZQXVBNMTRK", {}, LEGACY))).toEqual(["digit", "lowercase", "symbol"]);
    expect(rules(checkPassword("Zqxvbnmtr9", {}, LEGACY))).toEqual(["symbol"]);
    expect(rules(checkPassword("Zqxvbnmtr!", {}, LEGACY))).toEqual(["digit"]);
    expect(checkPassword("Zqxvbnmtr9!", {}, LEGACY)).toEqual([]);
    // Non-ASCII letters count towards the case classes.
    expect(checkPassword("Élan-vital-9ß", {}, LEGACY)).toEqual([]);
  });

  it("reports every broken rule at once", () => {
    const problems = checkPassword("password", { email: "password@example.com", fullName: "Pass Word" }, {
      ...NIST,
      requireClasses: true,
    });
    expect(rules(problems)).toEqual(["common", "contains_email", "contains_name", "digit", "min_length", "symbol", "uppercase"]);
    expect(problems.every((p) => p.message.length > 0)).toBe(true);
  });

  it("property: never throws, and length problems agree with the code point count", () => {
    // Deterministic PRNG (mulberry32) so failures are reproducible.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    // Mix ASCII, Latin-1, BMP, astral code points and lone surrogates.
    const pools: Array<() => string> = [
      () => String.fromCharCode(32 + Math.floor(rand() * 95)),
      () => String.fromCharCode(0xa0 + Math.floor(rand() * 0x60)),
      () => String.fromCharCode(0x100 + Math.floor(rand() * 0xd700)),
      () => String.fromCodePoint(0x1f300 + Math.floor(rand() * 0x300)),
      () => String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)),
    ];
    const policy: PasswordPolicy = { minLength: 10, maxLength: 20, requireClasses: true };
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rand() * 30);
      let pw = "";
      for (let j = 0; j < len; j++) pw += pools[Math.floor(rand() * pools.length)]!();
      const problems = checkPassword(pw, { email: "someone@example.com", fullName: "Some One" }, policy);
      const cps = [...pw.normalize("NFKC")].length;
      const got = rules(problems);
      expect(got.includes("min_length"), JSON.stringify(pw)).toBe(cps < policy.minLength);
      expect(got.includes("max_length"), JSON.stringify(pw)).toBe(cps > policy.maxLength);
    }
  });
});
