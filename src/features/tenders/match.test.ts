import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenderCriteria } from "../../db/tables";
import { normalizeText } from "./text";
import type { TenderFields } from "./match";
import {
  compileCriteria,
  compileKeyword,
  hasWordWithPrefix,
  matchesKeyword,
  matchesTender,
  prepareTender,
  toFtsQuery,
} from "./match";

const NOW = new Date("2026-03-02T06:00:00Z");
const DAY = 86_400_000;
const inDays = (d: number) => new Date(NOW.getTime() + d * DAY);

const kw = (keyword: string, title: string, description?: string) =>
  matchesKeyword(compileKeyword(keyword), prepareTender({ title, description: description ?? null }));
const matches = (criteria: TenderCriteria, tender: TenderFields) =>
  matchesTender(compileCriteria(criteria), prepareTender(tender), NOW);

describe("compileKeyword", () => {
  it("normalises words, separates prefixes, drops duplicates", () => {
    expect(compileKeyword("Road* CONSTRUCTION road*  Construction")).toEqual({ words: ["construction"], prefixes: ["road"] });
    expect(compileKeyword("e-Procurément")).toEqual({ words: ["e", "procurement"], prefixes: [] });
    // `*` only counts right after a word.
    expect(compileKeyword("road * *bridge")).toEqual({ words: ["road", "bridge"], prefixes: [] });
    expect(compileKeyword("***")).toEqual({ words: [], prefixes: [] });
  });
});

describe("the keyword rule (API.md)", () => {
  it("API.md's examples", () => {
    expect(kw("road construction", "Construction of road and bridge")).toBe(true);
    expect(kw("road construction", "Construction of rural roads")).toBe(false);
    expect(kw("road*", "Construction of rural roads")).toBe(true);
  });

  it("needs whole words", () => {
    expect(kw("road", "Railroad works")).toBe(false);
    expect(kw("road", "Rail-road works")).toBe(true);
    expect(kw("solar", "Solarisation")).toBe(false);
  });

  it("ignores case and accents on both sides", () => {
    expect(kw("ÉCOLE", "Repair of ecole building")).toBe(true);
    expect(kw("ecole", "Réparation de l'E\u0301COLE")).toBe(true);
    expect(kw("médical*", "MEDICALS supply")).toBe(true);
  });

  it("takes words from title and description together, in any order", () => {
    expect(kw("bridge dredging", "Bridge repair", "including dredging of the channel")).toBe(true);
    expect(kw("bridge dredging", "Bridge repair", "including desilting")).toBe(false);
  });

  it("a prefix also matches the word itself and needs a word that starts with it", () => {
    expect(kw("road*", "Road repair")).toBe(true);
    expect(kw("roads*", "Road repair")).toBe(false);
    expect(kw("oad*", "Road repair")).toBe(false);
  });

  it("punctuation in a keyword splits it like the tender text", () => {
    expect(kw("IT/software", "Supply of IT hardware and software")).toBe(true);
    expect(kw("e-procurement", "E procurement portal")).toBe(true);
    expect(kw("e-procurement", "Procurement portal")).toBe(false);
  });

  it("a keyword without words matches nothing", () => {
    expect(kw("***", "anything at all")).toBe(false);
  });
});

describe("hasWordWithPrefix", () => {
  const words = ["apple", "road", "roads", "roadway", "zebra"];
  it("finds prefixes anywhere in the sorted list", () => {
    expect(hasWordWithPrefix(words, "a")).toBe(true);
    expect(hasWordWithPrefix(words, "roadw")).toBe(true);
    expect(hasWordWithPrefix(words, "zebra")).toBe(true);
    expect(hasWordWithPrefix(words, "zebras")).toBe(false);
    expect(hasWordWithPrefix(words, "rob")).toBe(false);
    expect(hasWordWithPrefix([], "a")).toBe(false);
  });
});

describe("matchesTender", () => {
  const tender: TenderFields = {
    title: "Construction of road and bridge",
    description: "Two-lane road with a steel bridge over the canal",
    state: "Bihar",
    department: "Public Works Department",
    value: 5_000_000,
    closingDate: inDays(10),
  };

  it("passes when at least one keyword matches, and an exclude removes it", () => {
    expect(matches({ keywords: ["dredging", "steel bridge"] }, tender)).toBe(true);
    expect(matches({ keywords: ["dredging", "solar"] }, tender)).toBe(false);
    expect(matches({ keywords: ["bridge"], exclude_keywords: ["supply only", "canal"] }, tender)).toBe(false);
    expect(matches({ keywords: ["bridge"], exclude_keywords: ["supply only"] }, tender)).toBe(true);
    expect(matches({ keywords: ["bridge"], exclude_keywords: ["can*"] }, tender)).toBe(false);
  });

  it("matches states and departments ignoring case, accents and extra whitespace", () => {
    expect(matches({ states: ["  bihar "] }, tender)).toBe(true);
    expect(matches({ states: ["Kerala", "BIHÁR"] }, tender)).toBe(true);
    expect(matches({ states: ["Kerala"] }, tender)).toBe(false);
    expect(matches({ departments: ["public  works department"] }, tender)).toBe(true);
    expect(matches({ departments: ["Public Works"] }, tender)).toBe(false);
    expect(matches({ states: ["Bihar"] }, { ...tender, state: null })).toBe(false);
    expect(matches({ states: ["Bihar"] }, { ...tender, state: "  " })).toBe(false);
  });

  it("checks value bounds inclusively, and a tender without a value fails them", () => {
    expect(matches({ min_value: 5_000_000, max_value: 5_000_000 }, tender)).toBe(true);
    expect(matches({ min_value: 5_000_001 }, tender)).toBe(false);
    expect(matches({ max_value: 4_999_999 }, tender)).toBe(false);
    expect(matches({ min_value: 0 }, { ...tender, value: null })).toBe(false);
    expect(matches({ max_value: 1e12 }, { ...tender, value: null })).toBe(false);
  });

  it("checks the closing window against the given now", () => {
    expect(matches({ closing_date_range: "next_30_days" }, tender)).toBe(true);
    expect(matches({ closing_date_range: "next_7_days" }, tender)).toBe(false);
    expect(matches({ closing_date_range: "next_7_days" }, { ...tender, closingDate: inDays(7) })).toBe(true);
    expect(matches({ closing_date_range: "next_7_days" }, { ...tender, closingDate: NOW })).toBe(true);
    expect(matches({ closing_date_range: "next_90_days" }, { ...tender, closingDate: inDays(-0.01) })).toBe(false);
    expect(matches({ closing_date_range: "next_90_days" }, { ...tender, closingDate: null })).toBe(false);
    expect(matches({ keywords: ["road"], closing_date_range: "any" }, { ...tender, closingDate: null })).toBe(true);
    // The same tender and criteria at a later now.
    const c = compileCriteria({ closing_date_range: "next_7_days" });
    expect(matchesTender(c, prepareTender(tender), inDays(4))).toBe(true);
    expect(matchesTender(c, prepareTender(tender), inDays(11))).toBe(false);
  });

  it("needs every criterion that is set; empty lists are not set", () => {
    expect(matches({ keywords: ["bridge"], states: ["Bihar"], min_value: 1 }, tender)).toBe(true);
    expect(matches({ keywords: ["bridge"], states: ["Kerala"], min_value: 1 }, tender)).toBe(false);
    expect(matches({ keywords: [], states: [] }, tender)).toBe(true);
    expect(matches({ keywords: [], states: ["Kerala"] }, tender)).toBe(false);
  });
});

describe("toFtsQuery", () => {
  it("builds an OR of ANDs with quoted words and prefixes", () => {
    expect(toFtsQuery([compileKeyword("road* Construction"), compileKeyword("bridge"), compileKeyword("**")])).toBe(
      '("construction" AND "road"*) OR ("bridge")',
    );
    expect(toFtsQuery([compileKeyword("--")])).toBeNull();
  });

  it("selects in FTS5 exactly the tenders whose keywords match, on normalised text", async () => {
    const titles = [
      "Construction of road and bridge",
      "Construction of rural roads",
      "Réparation de l'école",
      "Supply of IT hardware/software",
      "Solar pumps for drinking water",
      "Railroad signalling",
    ];
    const keywordSets = [["road construction"], ["road*"], ["ecole", "solar water"], ["it software"], ["rail*", "pump"], ["road"]];
    await env.DB.exec("CREATE VIRTUAL TABLE match_probe USING fts5(title, tokenize='unicode61 remove_diacritics 2')");
    try {
      await env.DB.batch(titles.map((t, i) => env.DB.prepare("INSERT INTO match_probe (rowid, title) VALUES (?, ?)").bind(i, normalizeText(t))));
      for (const keywords of keywordSets) {
        const compiled = keywords.map(compileKeyword);
        const { results } = await env.DB.prepare("SELECT rowid AS i FROM match_probe WHERE match_probe MATCH ? ORDER BY rowid")
          .bind(toFtsQuery(compiled))
          .all<{ i: number }>();
        const expected = titles.flatMap((t, i) => (compiled.some((k) => matchesKeyword(k, prepareTender({ title: t }))) ? [i] : []));
        expect(results.map((r) => r.i), keywords.join("|")).toEqual(expected);
        expect(expected.length).toBeGreaterThan(0);
      }
    } finally {
      await env.DB.exec("DROP TABLE match_probe");
    }
  });
});
