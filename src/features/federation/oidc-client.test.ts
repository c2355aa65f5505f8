import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { providerMfaSatisfies } from "./oidc-client";

describe("providerMfaSatisfies", () => {
  it("an untrusted provider never stands in for the second factor, whatever its amr", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom("mfa", "pwd", "otp", "hwk", "fpt", "sms")), (amr) => !providerMfaSatisfies({ trust_amr: false }, amr)));
  });

  it("a trusted provider does when amr says mfa or names two methods", () => {
    expect(providerMfaSatisfies({ trust_amr: true }, ["mfa"])).toBe(true);
    expect(providerMfaSatisfies({ trust_amr: true }, ["pwd", "otp"])).toBe(true);
    expect(providerMfaSatisfies({ trust_amr: true }, ["pwd"])).toBe(false);
    expect(providerMfaSatisfies({ trust_amr: true }, ["pwd", "pwd"])).toBe(false);
    expect(providerMfaSatisfies({ trust_amr: true }, [])).toBe(false);
  });
});
