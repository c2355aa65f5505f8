import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMPLETION_PARTS, GSTIN_PATTERN, HHMM_PATTERN, isIanaTimeZone, PAN_PATTERN, profileCompletion, type CompletionInput } from "./profile.rules";

const empty: CompletionInput = {
  companyName: null,
  designation: null,
  industrySector: [],
  gstNumber: null,
  panNumber: null,
  companyRegistrationNumber: null,
  annualTurnoverRange: null,
  employeeCountRange: null,
  yearsInBusiness: null,
  operatingStates: [],
  headOfficeCity: null,
  headOfficeState: null,
  preferredTenderTypes: [],
  minTenderValue: null,
  maxTenderValue: null,
  specializations: [],
};

const full: CompletionInput = {
  companyName: "Acme Infra",
  designation: "Director",
  industrySector: ["construction"],
  gstNumber: "27ABCDE1234F1Z5",
  panNumber: "ABCDE1234F",
  companyRegistrationNumber: "U45200MH2001PTC123456",
  annualTurnoverRange: "5-10cr",
  employeeCountRange: "50-100",
  yearsInBusiness: 0,
  operatingStates: ["Bihar"],
  headOfficeCity: "Patna",
  headOfficeState: "Bihar",
  preferredTenderTypes: ["works"],
  minTenderValue: null,
  maxTenderValue: 5_000_000,
  specializations: ["bridges"],
};

describe("profileCompletion", () => {
  it("is 0 for an empty profile and 100 for a full one (years_in_business 0 counts as filled)", () => {
    expect(profileCompletion(empty)).toBe(0);
    expect(profileCompletion(full)).toBe(100);
  });

  it("counts each part once, the value range when either bound is set", () => {
    expect(profileCompletion({ ...empty, companyName: "Acme" })).toBe(Math.floor(100 / COMPLETION_PARTS.length));
    expect(profileCompletion({ ...empty, minTenderValue: 1, maxTenderValue: 2 })).toBe(profileCompletion({ ...empty, minTenderValue: 1 }));
    expect(profileCompletion({ ...empty, companyName: "" })).toBe(0);
  });

  it("only grows when a field is filled (property)", () => {
    const keys = Object.keys(full) as (keyof CompletionInput)[];
    fc.assert(
      fc.property(fc.subarray(keys), fc.constantFrom(...keys), (filled, extra) => {
        const pick = (ks: (keyof CompletionInput)[]) => Object.fromEntries(ks.map((k) => [k, full[k]])) as Partial<CompletionInput>;
        const before = profileCompletion({ ...empty, ...pick(filled) });
        const after = profileCompletion({ ...empty, ...pick([...filled, extra]) });
        expect(after).toBeGreaterThanOrEqual(before);
        expect(before).toBeGreaterThanOrEqual(0);
        expect(after).toBeLessThanOrEqual(100);
        expect(after === 100).toBe(COMPLETION_PARTS.every((p) => p({ ...empty, ...pick([...filled, extra]) })));
      }),
    );
  });
});

describe("formats", () => {
  it("PAN and GSTIN", () => {
    expect(PAN_PATTERN.test("ABCDE1234F")).toBe(true);
    for (const bad of ["ABCD1234F", "abcde1234f", "ABCDE12345", "ABCDE1234FG"]) expect(PAN_PATTERN.test(bad)).toBe(false);
    expect(GSTIN_PATTERN.test("27ABCDE1234F1Z5")).toBe(true);
    for (const bad of ["27ABCDE1234F1Y5", "2ABCDE1234F1Z5", "27ABCDE1234F0Z5", "27ABCDE1234F1Z"]) expect(GSTIN_PATTERN.test(bad)).toBe(false);
  });

  it("HH:MM from 00:00 to 23:59 only", () => {
    for (let h = 0; h < 24; h++) expect(HHMM_PATTERN.test(`${String(h).padStart(2, "0")}:59`)).toBe(true);
    for (const bad of ["24:00", "9:00", "09:60", "09:5", "0900", "09:00:00", " 09:00"]) expect(HHMM_PATTERN.test(bad)).toBe(false);
  });

  it("IANA time zones, aliases included, offsets and junk refused", () => {
    for (const tz of ["Asia/Kolkata", "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Asia/Calcutta"]) expect(isIanaTimeZone(tz), tz).toBe(true);
    for (const tz of ["Mars/Olympus", "", "+05:30", "Asia/Kolkata ", "x".repeat(65)]) expect(isIanaTimeZone(tz), tz).toBe(false);
  });
});
