import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPasswordExpired, passwordSetAt } from "./password-age";
import { NO_PASSWORD } from "./sign-in-methods";

const DAY = 86_400_000;

describe("isPasswordExpired", () => {
  it("an account without a password (null) never expires, whatever the policy and age", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3650 }), fc.integer({ min: 0, max: 1e13 }), (days, now) => !isPasswordExpired(null, days, new Date(now))));
  });

  it("a password expires exactly at maxAgeDays when the policy is on, never when it is 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3650 }), fc.integer({ min: 0, max: 4000 * DAY }), (days, age) => {
        const changedAt = new Date(1e12);
        const now = new Date(1e12 + age);
        expect(isPasswordExpired(changedAt, days, now)).toBe(age >= days * DAY);
        expect(isPasswordExpired(changedAt, 0, now)).toBe(false);
      }),
    );
  });

  it("passwordSetAt: the NO_PASSWORD marker has no password age; a real hash has its change time", () => {
    const changedAt = new Date(0);
    expect(passwordSetAt({ passwordHash: NO_PASSWORD, passwordChangedAt: changedAt })).toBeNull();
    expect(passwordSetAt({ passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def", passwordChangedAt: changedAt })).toBe(changedAt);
  });
});
