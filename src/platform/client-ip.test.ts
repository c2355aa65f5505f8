import { describe, expect, it } from "vitest";
import { ipLimitKey } from "./client-ip";

describe("ipLimitKey", () => {
  it("keeps IPv4 addresses as they are", () => {
    expect(ipLimitKey("203.0.113.9", 64)).toBe("203.0.113.9");
  });
  it("counts IPv6 addresses per /64, whatever their spelling", () => {
    const a = ipLimitKey("2001:db8:1:2::99", 64);
    expect(a).toBe("2001:db8:1:2::/64");
    expect(ipLimitKey("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", 64)).toBe(a);
    expect(ipLimitKey("[2001:db8:1:2:0:0:0:1]", 64)).toBe(a);
    expect(ipLimitKey("2001:db8:1:3::1", 64)).not.toBe(a);
  });
  it("honours other prefixes and embedded IPv4", () => {
    expect(ipLimitKey("2001:db8:1:2::1", 48)).toBe("2001:db8:1::/48");
    expect(ipLimitKey("2001:db8:1:2::1", 128)).toBe("2001:db8:1:2::1/128");
    expect(ipLimitKey("::ffff:192.0.2.1", 128)).toBe("::ffff:c000:201/128");
  });
  it("leaves garbage verbatim", () => {
    expect(ipLimitKey("unknown", 64)).toBe("unknown");
    expect(ipLimitKey("1:2:3", 64)).toBe("1:2:3");
  });
});
