import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emailDomain, isPublicMailDomain, normalizeDomain, txtStrings, verificationRecord } from "./domains";

describe("normalizeDomain", () => {
  it("lowercases, trims, drops one trailing dot and turns IDNs into punycode", () => {
    expect(normalizeDomain(" Example.COM. ")).toBe("example.com");
    expect(normalizeDomain("bücher.example")).toBe("xn--bcher-kva.example");
    expect(normalizeDomain("sub.xn--bcher-kva.example")).toBe("sub.xn--bcher-kva.example");
  });

  it("refuses what is no host name of two or more labels", () => {
    for (const bad of ["", ".", "localhost", "com", "1.2.3.4", "[::1]", "a_b.test", "-a.test", "a-.test", "a..test", "a b.test", "user@x.test", "x.test/path", "x.test:80", `${"a".repeat(64)}.test`, "x.123", `${"a.".repeat(127)}test`]) {
      expect(normalizeDomain(bad), bad).toBeNull();
    }
  });

  it("is idempotent, and what it returns is lowercase ASCII without a trailing dot", () => {
    const label = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[a-zA-Z]{2,6}$/), fc.boolean(), (labels, tld, dot) => {
        const d = normalizeDomain(`${[...labels, tld].join(".")}${dot ? "." : ""}`);
        expect(d).not.toBeNull();
        expect(d).toBe(d!.toLowerCase());
        expect(d!.endsWith(".")).toBe(false);
        expect(normalizeDomain(d!)).toBe(d);
      }),
    );
  });

  it("emailDomain takes the part after the last @", () => {
    expect(emailDomain("Jane@Acme.Example")).toBe("acme.example");
    expect(emailDomain("no-at-sign")).toBeNull();
    expect(emailDomain("@acme.example")).toBeNull();
  });
});

describe("isPublicMailDomain", () => {
  it("knows the public mail services, their country variants and their subdomains", () => {
    for (const d of ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me", "gmx.net", "yahoo.co.uk", "hotmail.fr", "gmx.at", "mail.gmail.com"]) {
      expect(isPublicMailDomain(d), d).toBe(true);
    }
    for (const d of ["acme.example", "gmail-partners.example", "mygmail.com", "yahoo.acme.example.com", "outlook.acme.example.com"]) {
      expect(isPublicMailDomain(d), d).toBe(false);
    }
  });
});

describe("txtStrings (DNS-over-HTTPS JSON answers)", () => {
  it("joins a record's character-strings, unescapes quotes and keeps only TXT answers", () => {
    const { value } = verificationRecord("acme.example", "tok");
    const answer = {
      Status: 0,
      Answer: [
        { name: "_keel-verification.acme.example.", type: 16, TTL: 300, data: `"${value}"` },
        { name: "_keel-verification.acme.example.", type: 16, TTL: 300, data: '"part one " "part two"' },
        { name: "_keel-verification.acme.example.", type: 16, TTL: 300, data: '"say \\"hi\\""' },
        { name: "acme.example.", type: 5, TTL: 300, data: "other.example." },
      ],
    };
    expect(txtStrings(answer)).toEqual([value, "part one part two", 'say "hi"']);
  });

  it("yields nothing for anything that is not an answer", () => {
    for (const junk of [null, 1, "x", {}, { Answer: "x" }, { Answer: [null, { type: 16 }, { type: 16, data: 5 }] }]) expect(txtStrings(junk)).toEqual([]);
  });
});
