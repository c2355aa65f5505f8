import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode, generateBackupCodes, hotp, matchTotpStep, normalizeBackupCode, otpauthUrl, totp } from "./totp";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("RFC 6238 test vectors (Appendix B)", () => {
  // The RFC's seeds: 20, 32 and 64 ASCII bytes for SHA-1, SHA-256 and SHA-512.
  const seeds = {
    SHA1: ascii("12345678901234567890"),
    SHA256: ascii("12345678901234567890123456789012"),
    SHA512: ascii("1234567890123456789012345678901234567890123456789012345678901234"),
  } as const;
  const vectors: [number, string, string, string][] = [
    [59, "94287082", "46119246", "90693936"],
    [1111111109, "07081804", "68084774", "25091201"],
    [1111111111, "14050471", "67062674", "99943326"],
    [1234567890, "89005924", "91819424", "93441116"],
    [2000000000, "69279037", "90698825", "38618901"],
    [20000000000, "65353130", "77737706", "47863826"],
  ];
  for (const [time, sha1, sha256, sha512] of vectors) {
    it(`T=${time}`, () => {
      expect(totp(seeds.SHA1, time, 8, "SHA1")).toBe(sha1);
      expect(totp(seeds.SHA256, time, 8, "SHA256")).toBe(sha256);
      expect(totp(seeds.SHA512, time, 8, "SHA512")).toBe(sha512);
    });
  }
});

describe("RFC 4226 HOTP vectors (Appendix D)", () => {
  it("counters 0..9", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expect(expected.map((_, i) => hotp(ascii("12345678901234567890"), i))).toEqual(expected);
  });
});

describe("base32", () => {
  it("matches RFC 4648 vectors (without padding)", () => {
    expect(base32Encode(ascii("foobar"))).toBe("MZXW6YTBOI");
    expect(base32Encode(ascii("f"))).toBe("MY");
    expect(new TextDecoder().decode(base32Decode("mzxw6ytboi"))).toBe("foobar");
  });

  it("round-trips random bytes (property)", () => {
    for (let i = 0; i < 200; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 40)));
      expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    }
  });

  it("rejects characters outside the alphabet", () => {
    expect(() => base32Decode("ABC1")).toThrow();
  });
});

describe("matchTotpStep", () => {
  const secret = ascii("12345678901234567890");
  const t = 1_700_000_000;

  it("accepts the current step and ±1 for clock drift, nothing further", () => {
    const step = Math.floor(t / 30);
    expect(matchTotpStep(secret, hotp(secret, step), t)).toBe(step);
    expect(matchTotpStep(secret, hotp(secret, step - 1), t)).toBe(step - 1);
    expect(matchTotpStep(secret, hotp(secret, step + 1), t)).toBe(step + 1);
    expect(matchTotpStep(secret, hotp(secret, step - 2), t)).toBeNull();
    expect(matchTotpStep(secret, hotp(secret, step + 2), t)).toBeNull();
  });

  it("rejects malformed codes", () => {
    expect(matchTotpStep(secret, "12345", t)).toBeNull();
    expect(matchTotpStep(secret, "abcdef", t)).toBeNull();
  });
});

describe("provisioning and backup codes", () => {
  it("builds the Key Uri Format URL", () => {
    expect(otpauthUrl({ secretBase32: "JBSWY3DPEHPK3PXP", account: "ada@example.com", issuer: "keel" })).toBe(
      "otpauth://totp/keel:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=keel&algorithm=SHA1&digits=6&period=30",
    );
  });

  it("generates 10 distinct, normalisable backup codes", () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
      expect(normalizeBackupCode(` ${c.toUpperCase()} `)).toBe(c.replace("-", ""));
    }
  });
});
