import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyImportedHash, verifyPassword } from "./password-hash";

// Independent vectors (see password-hash.test.ts for their provenance).
const GOOD = {
  bcrypt2a: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
  pbkdf2Sha256: "pbkdf2:sha256:1000$salt$0a38253555ce37f5c72a6b703f996814ebf241f203af146e93dcdeb031c5567e",
  pbkdf2Sha512:
    "pbkdf2:sha512:1000$salt$dba2956d5d8f05e6f06dc9732ca6037d32a4fcbcdde4b35e62594b632d059275a4612b69ad28703b5340833cb47d99636d088ef65309684ac39b5c45372b025e",
  werkzeugScrypt:
    "scrypt:16384:8:1$salt$c0b515908e61334cae6d6003c00be60e2e675878c9ac8ba282e1d70c335d30122c27fc18aa9ead7f347f6862e8479bae89782535af6eb12155727589b66cb51c",
  phc: "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$+klCkubs0ckYiTbZO4MWS3k2LxOt6MCvuou+ZUKyyp4",
};

describe("classifyImportedHash", () => {
  it("recognises every supported format", () => {
    expect(classifyImportedHash(GOOD.bcrypt2a)).toBe("bcrypt");
    expect(classifyImportedHash(GOOD.bcrypt2a.replace("$2a$", "$2b$"))).toBe("bcrypt");
    expect(classifyImportedHash(GOOD.bcrypt2a.replace("$2a$", "$2y$"))).toBe("bcrypt");
    expect(classifyImportedHash(GOOD.bcrypt2a.replace("$05$", "$12$"))).toBe("bcrypt");
    expect(classifyImportedHash(GOOD.pbkdf2Sha256)).toBe("werkzeug_pbkdf2");
    expect(classifyImportedHash(GOOD.pbkdf2Sha512)).toBe("werkzeug_pbkdf2");
    expect(classifyImportedHash(GOOD.werkzeugScrypt)).toBe("werkzeug_scrypt");
    expect(classifyImportedHash(GOOD.phc)).toBe("keel_scrypt");
  });

  it.each([
    ["empty", ""],
    ["plain text", "hunter2"],
    ["bcrypt cost 3", GOOD.bcrypt2a.replace("$05$", "$03$")],
    ["bcrypt cost 32", GOOD.bcrypt2a.replace("$05$", "$32$")],
    ["bcrypt $2x$", GOOD.bcrypt2a.replace("$2a$", "$2x$")],
    ["bcrypt one char short", GOOD.bcrypt2a.slice(0, -1)],
    ["bcrypt one char long", `${GOOD.bcrypt2a}A`],
    ["bcrypt non-bcrypt-base64 char", `${GOOD.bcrypt2a.slice(0, -1)}+`],
    ["pbkdf2 without iterations", "pbkdf2:sha256$salt$0a38253555ce37f5c72a6b703f996814ebf241f203af146e93dcdeb031c5567e"],
    ["pbkdf2 zero iterations", GOOD.pbkdf2Sha256.replace(":1000$", ":0$")],
    ["pbkdf2 without salt", GOOD.pbkdf2Sha256.replace("$salt$", "$$")],
    ["pbkdf2 sha1", GOOD.pbkdf2Sha256.replace("sha256", "sha1")],
    ["pbkdf2 sha256 with a sha512-length digest", GOOD.pbkdf2Sha512.replace("sha512", "sha256")],
    ["pbkdf2 non-hex digest", GOOD.pbkdf2Sha256.replace(/.$/, "g")],
    ["werkzeug scrypt N not a power of two", GOOD.werkzeugScrypt.replace("16384", "16383")],
    ["werkzeug scrypt short digest", GOOD.werkzeugScrypt.slice(0, -2)],
    ["werkzeug scrypt missing p", GOOD.werkzeugScrypt.replace(":8:1$", ":8$")],
    ["phc bad base64", GOOD.phc.replace("$+kl", "$*kl")],
    ["phc missing hash", GOOD.phc.slice(0, GOOD.phc.lastIndexOf("$"))],
    ["keel marker of a password-less account", "!no-password"],
    ["argon2", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"],
  ])("rejects %s", (_name, hash) => {
    expect(classifyImportedHash(hash)).toBeNull();
  });

  // Login verifies only up to the CPU caps: a costlier hash could never sign in, and each try would burn a Worker's CPU.
  it.each([
    ["bcrypt cost 13", GOOD.bcrypt2a.replace("$05$", "$13$")],
    ["bcrypt cost 31", GOOD.bcrypt2a.replace("$05$", "$31$")],
    ["pbkdf2 over 1,000,000 iterations", GOOD.pbkdf2Sha256.replace(":1000$", ":1000001$")],
    ["pbkdf2 absurd iterations", GOOD.pbkdf2Sha256.replace(":1000$", ":9999999999$")],
    ["werkzeug scrypt N=2^20 (128 MiB)", GOOD.werkzeugScrypt.replace("16384", "1048576")],
    ["werkzeug scrypt N·r·p over 2^20", GOOD.werkzeugScrypt.replace(":8:1$", ":8:16$")],
    ["phc excessive cost", GOOD.phc.replace("ln=10", "ln=30")],
  ])("classifies %s as too costly", (_name, hash) => {
    expect(classifyImportedHash(hash)).toBe("too_costly");
  });

  it("never throws and only accepts strings that start like a supported format", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const kind = classifyImportedHash(s);
        if (kind !== null && kind !== "too_costly") expect(/^(\$2[aby]\$|pbkdf2:|scrypt:|\$scrypt\$)/.test(s)).toBe(true);
      }),
    );
  });

  it("every accepted vector actually verifies (the classifier agrees with the verifier)", async () => {
    expect((await verifyPassword("U*U", GOOD.bcrypt2a)).ok).toBe(true);
    expect((await verifyPassword("pw", GOOD.pbkdf2Sha256)).ok).toBe(true);
    expect((await verifyPassword("pw", GOOD.werkzeugScrypt)).ok).toBe(true);
  });
});
