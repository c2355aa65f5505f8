import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, retryDelaySeconds } from "./events";
import { webhookUrlProblem } from "./webhook-url";

const check = (url: string, allowLocalHttp = false) => webhookUrlProblem(url, { allowLocalHttp });

describe("webhookUrlProblem", () => {
  it("refuses every private, loopback, link-local and reserved IPv4 literal, and allows public ones", () => {
    const blocked = ["0.1.2.3", "10.9.8.7", "127.5.5.5", "100.100.1.1", "169.254.0.1", "172.31.255.255", "192.168.0.1", "192.0.0.8", "198.18.0.1", "224.0.0.1", "255.255.255.255"];
    for (const ip of blocked) expect(check(`https://${ip}/`), ip).not.toBeNull();
    for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34"]) expect(check(`https://${ip}/`), ip).toBeNull();
  });

  it("any 10.x.y.z or 127.x.y.z literal is refused, however it is written", () => {
    fc.assert(
      fc.property(fc.constantFrom(10, 127), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b, c, d) => {
        const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
        expect(check(`https://${a}.${b}.${c}.${d}/`)).not.toBeNull();
        expect(check(`https://${n}/`)).not.toBeNull();
        expect(check(`https://0x${n.toString(16)}/`)).not.toBeNull();
        expect(check(`https://[::ffff:${a}.${b}.${c}.${d}]/`)).not.toBeNull();
      }),
    );
  });

  it("IPv6: loopback, unspecified, unique local, link-local, multicast and mapped private refused; global allowed", () => {
    for (const ip of ["::1", "::", "fc00::1", "fdff::1", "fe80::1", "febf::1", "ff02::1", "::ffff:192.168.1.1", "64:ff9b::10.0.0.1", "2001:db8::1"]) expect(check(`https://[${ip}]/`), ip).not.toBeNull();
    for (const ip of ["2606:4700::1111", "2a00:1450:4001::200e"]) expect(check(`https://[${ip}]/`), ip).toBeNull();
  });

  it("http only to localhost and only when allowed; never credentials", () => {
    expect(check("http://localhost:3000/x", true)).toBeNull();
    expect(check("http://127.0.0.1:3000/x", true)).toBeNull();
    expect(check("http://localhost:3000/x")).not.toBeNull();
    expect(check("http://example.com/x", true)).not.toBeNull();
    expect(check("https://a:b@example.com/x")).not.toBeNull();
    expect(check("https://a@example.com/x")).not.toBeNull();
  });
});

describe("retryDelaySeconds", () => {
  it("grows with each attempt, stays within 80-100% of the schedule, and ends before 24 hours in all", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: MAX_ATTEMPTS, maxLength: MAX_ATTEMPTS }), (randoms) => {
        let total = 0;
        let previous = 0;
        for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
          const d = retryDelaySeconds(attempt, randoms[attempt]!)!;
          if (attempt < 6) expect(d).toBeGreaterThan(previous);
          previous = d;
          total += d;
        }
        expect(retryDelaySeconds(MAX_ATTEMPTS, randoms[0]!)).toBeNull();
        expect(total).toBeLessThanOrEqual(24 * 3600);
      }),
    );
  });
});
