import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TenderCriteria } from "../../db/tables";
import { compileCriteria, compileKeyword, matchesKeyword, matchesTender, prepareTender } from "../tenders/match";
import { explainMatch } from "./explain";

const now = new Date("2026-11-23T00:00:00Z");
const DAY = 86_400_000;

describe("explainMatch", () => {
  it("names the keywords that hit, the state, department, value range and closing window", () => {
    const reasons = explainMatch(
      { keywords: ["road construction", "bridge", "canal"], states: ["bihar"], departments: ["PWD"], min_value: 1e6, max_value: 5e6, closing_date_range: "next_30_days" },
      { title: "Construction of a road and a bridge", state: " Bihar ", department: "pwd", value: 2.5e6, closingDate: new Date(now.getTime() + 10 * DAY) },
      now,
    );
    expect(reasons).toEqual([
      { kind: "keyword", keyword: "road construction" },
      { kind: "keyword", keyword: "bridge" },
      { kind: "state", state: "Bihar" },
      { kind: "department", department: "pwd" },
      { kind: "value", min: 1e6, max: 5e6, value: 2.5e6 },
      { kind: "closing", days: 30 },
    ]);
  });

  it("a keyword in the description counts; prefixes work as in matching", () => {
    expect(explainMatch({ keywords: ["road*"] }, { title: "Works", description: "Rural roads" }, now)).toEqual([{ kind: "keyword", keyword: "road*" }]);
  });

  it("an alert without criteria says it takes every tender", () => {
    expect(explainMatch({}, { title: "Anything" }, now)).toEqual([{ kind: "any" }]);
  });

  const words = fc.constantFrom("road", "bridge", "canal", "school", "repair", "supply", "water");
  const criteria: fc.Arbitrary<TenderCriteria> = fc.record(
    {
      keywords: fc.array(fc.array(words, { minLength: 1, maxLength: 2 }).map((w) => w.join(" ")), { maxLength: 3 }),
      states: fc.array(fc.constantFrom("Bihar", "Kerala", "Goa"), { maxLength: 2 }),
      min_value: fc.integer({ min: 0, max: 1000 }),
      max_value: fc.integer({ min: 500, max: 2000 }),
      closing_date_range: fc.constantFrom("next_7_days", "next_30_days", "any" as const),
    },
    { requiredKeys: [] },
  );
  const tender = fc.record({
    title: fc.array(words, { minLength: 1, maxLength: 5 }).map((w) => w.join(" ")),
    state: fc.option(fc.constantFrom("Bihar", "Kerala", "Goa"), { nil: null }),
    value: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
    closingDate: fc.option(fc.integer({ min: -5, max: 60 }).map((d) => new Date(now.getTime() + d * DAY)), { nil: null }),
  });

  it("property: every matched tender gets at least one reason, and each reason is true of it", () => {
    fc.assert(
      fc.property(criteria, tender, (c, t) => {
        const reasons = explainMatch(c, t, now);
        const prepared = prepareTender(t);
        if (matchesTender(compileCriteria(c), prepared, now)) expect(reasons.length).toBeGreaterThan(0);
        for (const r of reasons) {
          if (r.kind === "keyword") {
            expect(c.keywords).toContain(r.keyword);
            expect(matchesKeyword(compileKeyword(r.keyword), prepared)).toBe(true);
          }
          if (r.kind === "state") expect(c.states?.map((s) => s.toLowerCase())).toContain(r.state.toLowerCase());
          if (r.kind === "value") expect((c.min_value ?? -Infinity) <= r.value && r.value <= (c.max_value ?? Infinity)).toBe(true);
          if (r.kind === "any") expect(reasons).toHaveLength(1);
        }
        // A matched tender with keywords set names at least one of them.
        if (matchesTender(compileCriteria(c), prepared, now) && (c.keywords?.length ?? 0) > 0) expect(reasons.some((r) => r.kind === "keyword")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
