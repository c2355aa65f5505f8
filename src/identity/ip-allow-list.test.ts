import { describe, expect, it } from "vitest";
import { ipAllowed, isValidIpOrCidr, parseIp } from "./ip-allow-list";

describe("IP allow-lists", () => {
  it("allows everything when the list is empty or missing", () => {
    expect(ipAllowed("198.51.100.1", null)).toBe(true);
    expect(ipAllowed("198.51.100.1", [])).toBe(true);
  });

  it("matches exact IPv4 addresses and CIDR ranges", () => {
    expect(ipAllowed("203.0.113.9", ["203.0.113.9"])).toBe(true);
    expect(ipAllowed("203.0.113.10", ["203.0.113.9"])).toBe(false);
    expect(ipAllowed("203.0.113.200", ["203.0.113.0/24"])).toBe(true);
    expect(ipAllowed("203.0.114.1", ["203.0.113.0/24"])).toBe(false);
    expect(ipAllowed("8.8.8.8", ["0.0.0.0/0"])).toBe(true);
  });

  it("matches IPv6, compressed forms and IPv4-mapped addresses", () => {
    expect(ipAllowed("2001:db8::1", ["2001:db8::/32"])).toBe(true);
    expect(ipAllowed("2001:0db8:0000:0000:0000:0000:0000:0001", ["2001:db8::1"])).toBe(true);
    expect(ipAllowed("2001:db9::1", ["2001:db8::/32"])).toBe(false);
    expect(ipAllowed("::ffff:203.0.113.5", ["203.0.113.0/24"])).toBe(true);
    expect(ipAllowed("203.0.113.5", ["2001:db8::/32"])).toBe(false);
  });

  it("never matches an unparseable client address", () => {
    expect(ipAllowed("unknown", ["0.0.0.0/0"])).toBe(false);
  });

  it("validates entries", () => {
    for (const ok of ["10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/48", "::ffff:1.2.3.4"]) expect(isValidIpOrCidr(ok), ok).toBe(true);
    for (const bad of ["300.1.1.1", "10.0.0.0/33", "1.2.3", "2001:db8::/129", "1::2::3", "abc", "10.0.0.1/8/2"]) expect(isValidIpOrCidr(bad), bad).toBe(false);
  });

  it("a /n range contains exactly the addresses sharing n leading bits (property)", () => {
    for (let i = 0; i < 300; i++) {
      const a = crypto.getRandomValues(new Uint8Array(4));
      const b = crypto.getRandomValues(new Uint8Array(4));
      const prefix = i % 33;
      const ipA = a.join(".");
      const ipB = b.join(".");
      const va = parseIp(ipA)!.value;
      const vb = parseIp(ipB)!.value;
      const shift = BigInt(32 - prefix);
      const same = va >> shift === vb >> shift;
      expect(ipAllowed(ipB, [`${ipA}/${prefix}`])).toBe(same);
    }
  });
});
