import { describe, expect, it } from "vitest";
import { compileSignals, scoreTender, WEIGHTS, type Signals } from "./score";

const base: Signals = {
  keywords: [],
  operatingStates: [],
  minValue: null,
  maxValue: null,
  favoriteDepartments: new Map(),
  favoriteStates: new Map(),
  viewedDepartments: new Map(),
};

describe("scoreTender", () => {
  it("uses the keyword rule of the matcher: whole words, accents ignored, prefixes", () => {
    const s = compileSignals({ ...base, keywords: ["Road construction", "café*", "  ", "road construction"] });
    expect(s.keywords.map((k) => k.label)).toEqual(["Road construction", "café*"]);
    expect(scoreTender(s, { title: "Construction of road and bridge" }, 0).reasons).toEqual(["keyword: Road construction"]);
    expect(scoreTender(s, { title: "Construction of rural roads" }, 0).reasons).toEqual([]);
    expect(scoreTender(s, { title: "Cafeteria block" }, 0).reasons).toEqual(["keyword: café*"]);
  });

  it("adds state, value range and behaviour, each with a reason; more matches score more", () => {
    const s = compileSignals({
      ...base,
      keywords: ["bridge", "road"],
      operatingStates: ["Bihar"],
      minValue: 10,
      maxValue: 100,
      favoriteDepartments: new Map([["PWD", 3]]),
      favoriteStates: new Map([["bihar", 1]]),
      viewedDepartments: new Map([["PWD", 1]]),
    });
    const full = scoreTender(s, { title: "Road bridge", state: "BIHAR", department: "pwd", value: 50 }, 1);
    expect(full.reasons).toEqual([
      "keyword: bridge",
      "keyword: road",
      "state: Bihar",
      "value: within your range",
      "department of your favorites: PWD",
      "state of your favorites: bihar",
      "department you viewed: PWD",
    ]);
    const one = scoreTender(s, { title: "Bridge", state: "Goa", value: 500 }, 1);
    expect(one).toEqual({ score: WEIGHTS.keyword + WEIGHTS.relevance, reasons: ["keyword: bridge"] });
    expect(full.score).toBeGreaterThan(one.score);
    expect(scoreTender(s, { title: "Nothing", state: "Goa" }, 0)).toEqual({ score: 0, reasons: [] });
  });
});
