import { describe, expect, it } from "vitest";
import type { ScryptParams } from "./password-hash";
import { DEFAULT_SCRYPT, hashPassword, verifyDummy, verifyPassword } from "./password-hash";

// Cheap parameters keep the suite fast; DEFAULT is exercised once.
const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

// Vectors computed independently (Python hashlib / OpenBSD test suite), not by this code.
const VECTORS = {
  // Python: base64 of hashlib.scrypt("pässwörd".encode(), salt=bytes(range(16)), n=1024, r=8, p=1, dklen=32)
  phc: "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$+klCkubs0ckYiTbZO4MWS3k2LxOt6MCvuou+ZUKyyp4",
  // OpenBSD/crypt_blowfish published vector for "U*U".
  bcrypt2a: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
  // hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 1000).hex()
  pbkdf2Sha256: "pbkdf2:sha256:1000$salt$0a38253555ce37f5c72a6b703f996814ebf241f203af146e93dcdeb031c5567e",
  // hashlib.pbkdf2_hmac('sha512', b'pw', b'salt', 1000).hex()
  pbkdf2Sha512:
    "pbkdf2:sha512:1000$salt$dba2956d5d8f05e6f06dc9732ca6037d32a4fcbcdde4b35e62594b632d059275a4612b69ad28703b5340833cb47d99636d088ef65309684ac39b5c45372b025e",
  // hashlib.scrypt(b'pw', salt=b'salt', n=16384, r=8, p=1, dklen=64).hex()
  werkzeugScrypt:
    "scrypt:16384:8:1$salt$c0b515908e61334cae6d6003c00be60e2e675878c9ac8ba282e1d70c335d30122c27fc18aa9ead7f347f6862e8479bae89782535af6eb12155727589b66cb51c",
};

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Flips one character of the base64 digest (last segment) to another valid one. */
function tamperDigest(stored: string): string {
  const i = stored.lastIndexOf("$") + 3;
  const c = stored[i] === "A" ? "B" : "A";
  return stored.slice(0, i) + c + stored.slice(i + 1);
}

describe("hashPassword / verifyPassword (scrypt PHC)", () => {
  it("round-trips with DEFAULT params", async () => {
    const t0 = performance.now();
    const stored = await hashPassword("correct horse battery staple");
    const ms = performance.now() - t0;
    console.log(`DEFAULT scrypt hashPassword: ${ms.toFixed(0)} ms`);
    expect(stored).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
    expect(await verifyPassword("correct horse battery staple", stored)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("correct horse battery stapler", stored)).toEqual({ ok: false, needsRehash: false });
  });

  it("produces a PHC string with a 16-byte salt and 32-byte key", async () => {
    const stored = await hashPassword("pw", FAST);
    const m = PHC.exec(stored);
    expect(m).not.toBeNull();
    const [, ln, r, p, salt, hash] = m!;
    expect([ln, r, p]).toEqual(["10", "8", "1"]);
    expect(salt).toHaveLength(22); // ceil(16 * 4 / 3), unpadded
    expect(hash).toHaveLength(43); // ceil(32 * 4 / 3), unpadded
    expect(`${salt}${hash}`).not.toContain("="); // no base64 padding
  });

  it("uses a fresh salt each time", async () => {
    const [a, b] = await Promise.all([hashPassword("pw", FAST), hashPassword("pw", FAST)]);
    expect(a).not.toBe(b);
  });

  it("rejects a wrong password", async () => {
    const stored = await hashPassword("hunter2-but-longer", FAST);
    expect(await verifyPassword("hunter2-but-longer", stored, FAST)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("Hunter2-but-longer", stored, FAST)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword("", stored, FAST)).toEqual({ ok: false, needsRehash: false });
  });

  it("verifies an independently computed PHC vector, after NFKC", async () => {
    expect(await verifyPassword("pässwörd", VECTORS.phc, FAST)).toEqual({ ok: true, needsRehash: false });
    // Decomposed "a + combining diaeresis" normalises to the same bytes.
    expect(await verifyPassword("pa\u0308sswo\u0308rd", VECTORS.phc, FAST)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("passwort", VECTORS.phc, FAST)).toEqual({ ok: false, needsRehash: false });
  });

  it("flags needsRehash when stored params differ from current", async () => {
    const stored = await hashPassword("pw", FAST);
    expect(await verifyPassword("pw", stored, DEFAULT_SCRYPT)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("pw", stored, { ...FAST, p: 2 })).toEqual({ ok: true, needsRehash: true });
    // A failed verification never asks for a rehash.
    expect(await verifyPassword("nope", stored, DEFAULT_SCRYPT)).toEqual({ ok: false, needsRehash: false });
  });

  it("fails on a tampered digest, salt or parameters", async () => {
    const stored = await hashPassword("pw", FAST);
    expect(await verifyPassword("pw", tamperDigest(stored), FAST)).toMatchObject({ ok: false });
    const saltAt = stored.indexOf("$", 8) + 1; // first char of the salt
    const badSalt = stored.slice(0, saltAt) + (stored[saltAt] === "A" ? "B" : "A") + stored.slice(saltAt + 1);
    expect(await verifyPassword("pw", badSalt, FAST)).toMatchObject({ ok: false });
    expect(await verifyPassword("pw", stored.replace("ln=10", "ln=11"), FAST)).toMatchObject({ ok: false });
    expect(await verifyPassword("pw", stored.replace(",r=8,", ",r=7,"), FAST)).toMatchObject({ ok: false });
    // Truncated digest, non-base64 junk and padding are refused outright.
    expect(await verifyPassword("pw", stored.slice(0, -10), FAST)).toMatchObject({ ok: false });
    expect(await verifyPassword("pw", stored + "!", FAST)).toMatchObject({ ok: false });
    expect(await verifyPassword("pw", stored + "=", FAST)).toMatchObject({ ok: false });
  });

  it("rejects invalid params when hashing", async () => {
    await expect(hashPassword("pw", { N: 1000, r: 8, p: 1 })).rejects.toThrow(RangeError);
    await expect(hashPassword("pw", { N: 2 ** 20, r: 8, p: 1 })).rejects.toThrow(RangeError);
  });
});

describe("legacy formats from the seed systems", () => {
  it("verifies bcrypt $2a$ (OpenBSD vector) and its $2b$/$2y$ spellings", async () => {
    expect(await verifyPassword("U*U", VECTORS.bcrypt2a)).toEqual({ ok: true, needsRehash: true });
    // For short ASCII passwords 2a, 2b and 2y are the same algorithm, so the digest is identical.
    for (const v of ["$2b$", "$2y$"]) {
      const stored = v + VECTORS.bcrypt2a.slice(4);
      expect(await verifyPassword("U*U", stored), v).toEqual({ ok: true, needsRehash: true });
      expect(await verifyPassword("U*V", stored), v).toEqual({ ok: false, needsRehash: false });
    }
    expect(await verifyPassword("U*V", VECTORS.bcrypt2a)).toEqual({ ok: false, needsRehash: false });
    // $2b$ vector generated with python `bcrypt` skipped: module not installed here.
  });

  it("verifies Werkzeug pbkdf2:sha256 and pbkdf2:sha512", async () => {
    expect(await verifyPassword("pw", VECTORS.pbkdf2Sha256)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("pw", VECTORS.pbkdf2Sha512)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("PW", VECTORS.pbkdf2Sha256)).toEqual({ ok: false, needsRehash: false });
    // Digest and algorithm must agree.
    const swapped = VECTORS.pbkdf2Sha256.replace("sha256", "sha512");
    expect(await verifyPassword("pw", swapped)).toMatchObject({ ok: false });
    expect(await verifyPassword("pw", VECTORS.pbkdf2Sha256.replace(":1000$", ":1001$"))).toMatchObject({ ok: false });
  });

  it("verifies Werkzeug scrypt", async () => {
    expect(await verifyPassword("pw", VECTORS.werkzeugScrypt)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("pv", VECTORS.werkzeugScrypt)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword("pw", VECTORS.werkzeugScrypt.replace("$salt$", "$salu$"))).toMatchObject({ ok: false });
  });

  it("rejects unknown or malformed formats", async () => {
    for (const stored of [
      "",
      "pw",
      "plain$$pw",
      "sha256$salt$" + "0".repeat(64),
      "pbkdf2:md5:1000$salt$" + "0".repeat(32),
      "pbkdf2:sha256$salt$" + VECTORS.pbkdf2Sha256.split("$")[2],
      "pbkdf2:sha256:1000$$" + VECTORS.pbkdf2Sha256.split("$")[2],
      "pbkdf2:sha256:1000$salt$xyz",
      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
      "$scrypt$ln=10,r=8,p=1$$",
    ]) {
      expect(await verifyPassword("pw", stored), stored).toEqual({ ok: false, needsRehash: false });
    }
  });

  it("refuses excessive work factors quickly instead of computing them", async () => {
    const t0 = performance.now();
    const hex64 = "00".repeat(64);
    const results = await Promise.all([
      verifyPassword("pw", "pbkdf2:sha256:1000001$salt$" + "00".repeat(32)),
      verifyPassword("pw", "pbkdf2:sha256:999999999999$salt$" + "00".repeat(32)),
      verifyPassword("pw", "scrypt:1048576:8:1$salt$" + hex64), // 1 GiB of memory
      verifyPassword("pw", "scrypt:16384:8:1000$salt$" + hex64), // N·r·p far too high
      verifyPassword("pw", "scrypt:1000:8:1$salt$" + hex64), // N not a power of two
      verifyPassword("pw", "$scrypt$ln=30,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" + "A".repeat(43)),
      verifyPassword("pw", "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
      verifyPassword("pw", "$2b$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
      verifyPassword("pw", "scrypt:131072:8:1$salt$" + hex64), // 128 MiB: over the 64 MiB cap
    ]);
    for (const r of results) expect(r).toEqual({ ok: false, needsRehash: false });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("verifyDummy", () => {
  // It exists so that an unknown email costs what a wrong password costs: a verification against
  // a DEFAULT_SCRYPT hash. Measured against the real thing (median of interleaved runs, after the
  // first call has built the dummy hash); skipping or cheapening the work makes it far faster.
  it("costs about as much as verifying a wrong password against a DEFAULT hash", async () => {
    const stored = await hashPassword("the-real-password", DEFAULT_SCRYPT);
    await verifyDummy("warm-up");
    const time = async (f: () => Promise<unknown>) => {
      const t0 = performance.now();
      await f();
      return performance.now() - t0;
    };
    const real: number[] = [];
    const dummy: number[] = [];
    for (let i = 0; i < 5; i++) {
      real.push(await time(() => verifyPassword("a-wrong-password", stored)));
      dummy.push(await time(() => verifyDummy("a-wrong-password")));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`verifyPassword (wrong, DEFAULT): ${median(real).toFixed(0)} ms; verifyDummy: ${median(dummy).toFixed(0)} ms`);
    expect(median(real)).toBeGreaterThan(20); // the clock advances and DEFAULT is real work
    expect(median(dummy)).toBeGreaterThan(0.5 * median(real));
    expect(median(dummy)).toBeLessThan(2 * median(real));
  });
});
