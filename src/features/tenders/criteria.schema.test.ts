import { describe, expect, expectTypeOf, it } from "vitest";
import type { TenderCriteria as StoredCriteria } from "../../db/tables";
import { zodFieldErrors } from "../../platform/problem";
import { TenderCriteria } from "./criteria.schema";

const errors = (input: unknown) => {
  const r = TenderCriteria.safeParse(input);
  return r.success ? [] : zodFieldErrors(r.error.issues);
};
const paths = (input: unknown) => errors(input).map((e) => e.path);

describe("TenderCriteria schema", () => {
  it("has the shape stored in alerts.criteria and saved_searches.query", () => {
    expectTypeOf<TenderCriteria>().toEqualTypeOf<StoredCriteria>();
  });

  it("accepts API.md's example and trims strings", () => {
    const r = TenderCriteria.parse({
      keywords: ["  road construction ", "bridge*"],
      exclude_keywords: ["supply only"],
      states: [" Bihar"],
      departments: ["PWD"],
      min_value: 0,
      max_value: 0,
      closing_date_range: "next_30_days",
    });
    expect(r.keywords).toEqual(["road construction", "bridge*"]);
    expect(r.states).toEqual(["Bihar"]);
  });

  it("accepts each positive criterion on its own", () => {
    for (const c of [
      { keywords: ["solar"] },
      { states: ["Kerala"] },
      { departments: ["Railways"] },
      { min_value: 10 },
      { max_value: 10 },
      { closing_date_range: "next_7_days" },
    ]) {
      expect(errors(c), JSON.stringify(c)).toEqual([]);
    }
  });

  it("requires a positive criterion: excludes, empty lists or 'any' alone are not one", () => {
    for (const c of [{}, { exclude_keywords: ["supply"] }, { keywords: [], states: [] }, { closing_date_range: "any" }]) {
      expect(paths(c), JSON.stringify(c)).toEqual(["(root)"]);
    }
  });

  it("rejects min_value above max_value on max_value", () => {
    expect(paths({ min_value: 10, max_value: 9 })).toEqual(["max_value"]);
    expect(paths({ min_value: -1 })).toEqual(["min_value"]);
  });

  it("caps keywords at 20 of at most 100 characters, with the index in the path", () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `word${i}`);
    expect(errors({ keywords: twenty })).toEqual([]);
    expect(paths({ keywords: [...twenty, "one more"] })).toEqual(["keywords"]);
    expect(errors({ keywords: ["x".repeat(100)] })).toEqual([]);
    expect(paths({ keywords: ["ok", "x".repeat(101)] })).toEqual(["keywords.1"]);
    expect(paths({ keywords: ["solar"], exclude_keywords: ["x".repeat(101)] })).toEqual(["exclude_keywords.0"]);
  });

  it("rejects blank keywords and keywords without a letter or digit", () => {
    expect(paths({ keywords: ["solar", "   "] })).toEqual(["keywords.1"]);
    expect(paths({ keywords: ["*", "-- !"] })).toEqual(["keywords.0", "keywords.1"]);
  });

  it("caps states and departments", () => {
    expect(paths({ states: Array.from({ length: 51 }, (_, i) => `S${i}`) })).toEqual(["states"]);
    expect(paths({ departments: [""] })).toEqual(["departments.0"]);
  });

  it("rejects unknown fields, wrong types and unknown ranges", () => {
    expect(paths({ keywords: ["solar"], keyword: "typo" })).toEqual(["(root)"]);
    expect(paths({ keywords: "solar" })).toEqual(["keywords"]);
    expect(paths({ closing_date_range: "next_year" })).toEqual(["closing_date_range"]);
    expect(paths({ min_value: Number.POSITIVE_INFINITY })).toEqual(["min_value"]);
  });
});
