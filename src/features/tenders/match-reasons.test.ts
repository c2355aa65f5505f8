import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchReasons } from "./match-reasons";
import { compileCriteria, matchesTender, prepareTender } from "./match";

describe("matchReasons", () => {
  it("names the keywords that hit, the state, the department and the value range", () => {
    expect(
      matchReasons(
        { keywords: ["bridge", "road*", "canal"], states: ["bihar"], departments: ["PUBLIC WORKS"], min_value: 1_000_000, max_value: 5_000_000 },
        { title: "Roads and a bridge in Patna", state: "Bihar", department: "Public Works", value: 2_500_000 },
      ),
    ).toEqual(['keyword "bridge"', 'keyword "road*"', "state Bihar", "department Public Works", "value 25,00,000, between 10,00,000 and 50,00,000"]);
    expect(matchReasons({ min_value: 10 }, { title: "x", value: 20 })).toEqual(["value 20, at least 10"]);
    expect(matchReasons({ max_value: 10, closing_date_range: "next_7_days" }, { title: "x", value: 5 })).toEqual(["value 5, at most 10", "closes within the next 7 days"]);
  });

  it("a matching tender always has at least one reason (property)", () => {
    const words = fc.constantFrom("road", "bridge", "canal", "school", "water");
    fc.assert(
      fc.property(fc.array(words, { minLength: 1, maxLength: 3 }), fc.array(words, { maxLength: 5 }), fc.option(fc.constantFrom("Bihar", "Goa")), (keywords, title, state) => {
        const criteria = { keywords };
        const tender = { title: title.join(" "), state: state ?? null };
        if (matchesTender(compileCriteria(criteria), prepareTender(tender), new Date())) expect(matchReasons(criteria, tender).length).toBeGreaterThan(0);
      }),
    );
  });
});
