import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BENCH_NOW, generateAlerts, generateTenders } from "../../../bench/matcher-data";
import type { TenderCriteria } from "../../db/tables";
import type { AlertLike } from "./alert-index";
import { buildAlertIndex, candidatesFor, compileAlerts, describeAlertIndex, matchAlerts, matchAlertsNaive } from "./alert-index";
import type { TenderFields } from "../tenders/match";
import { compileCriteria, matchesTender, prepareTender } from "../tenders/match";

const NOW = new Date("2026-03-02T06:00:00Z");
const DAY = 86_400_000;

/** The reference: every alert checked on its own, with no index involved. */
const naive = (alerts: readonly AlertLike[], tender: TenderFields, now: Date) =>
  alerts.filter((a) => matchesTender(compileCriteria(a.criteria), prepareTender(tender), now)).map((a) => a.id);
/** matchAlerts returns a set, in the order the index finds it; the reference is in alert order. */
const sortedIds = (alerts: readonly AlertLike[]) => alerts.map((a) => a.id).sort(byPosition);
const byPosition = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1)) || a.localeCompare(b);
const viaIndex = (alerts: readonly AlertLike[], tender: TenderFields, now: Date) =>
  sortedIds(matchAlerts(buildAlertIndex(alerts), prepareTender(tender), now));

const alert = (id: string, criteria: TenderCriteria) => ({ id, userId: `user-${id}`, criteria });

describe("buildAlertIndex / matchAlerts", () => {
  const alerts = [
    alert("roads", { keywords: ["road construction"] }),
    alert("roads-bihar", { keywords: ["road*"], states: ["Bihar"] }),
    alert("solar", { keywords: ["solar pump", "rooftop solar"] }),
    alert("pwd", { departments: ["Public Works Department"], min_value: 1_000_000 }),
    alert("big", { min_value: 100_000_000 }),
    alert("kerala", { states: ["Kerala"] }),
    alert("nothing", { keywords: ["***"] }),
  ];
  const index = buildAlertIndex(alerts);
  const ids = (t: TenderFields) => matchAlerts(index, prepareTender(t), NOW).map((a) => a.id).sort();

  it("returns the matching alerts themselves", () => {
    const t = { title: "Construction of roads and road bridges", state: "Bihar", department: "Public Works Department", value: 2e8 };
    expect(ids(t)).toEqual(["big", "pwd", "roads", "roads-bihar"]);
    expect(matchAlerts(index, prepareTender(t), NOW)).toContain(alerts[0]);
  });

  it("files each alert where it can be met: partitions by state, then department, then any", () => {
    const filed = describeAlertIndex(index);
    expect([...filed.keys()].sort()).toEqual(["any", "department:public works department", "state:bihar", "state:kerala"]);
    const any = filed.get("any");
    // "road construction": both words are used once, so the longer one is chosen.
    expect(Object.fromEntries(any?.byWord ?? [])).toEqual({ construction: ["roads"], pump: ["solar"], rooftop: ["solar"] });
    expect(any?.withoutKeywords).toEqual(["big"]);
    expect(Object.fromEntries(filed.get("state:bihar")?.byPrefix ?? [])).toEqual({ road: ["roads-bihar"] });
    expect(filed.get("state:kerala")?.withoutKeywords).toEqual(["kerala"]);
    expect(filed.get("department:public works department")?.withoutKeywords).toEqual(["pwd"]);
  });

  it("gives only plausible candidates, not every alert", () => {
    const solarInKerala = prepareTender({ title: "Solar pump sets", state: "Kerala", value: 10 });
    expect(candidatesFor(index, solarInKerala).map((a) => a.id)).toEqual(["solar", "big", "kerala"]);
    expect(matchAlerts(index, solarInKerala, NOW).map((a) => a.id).sort()).toEqual(["kerala", "solar"]);
  });

  it("answers the same when asked twice (the de-duplication scratch does not leak)", () => {
    const t = prepareTender({ title: "Rooftop solar and solar pump", state: "Kerala" });
    const first = matchAlerts(index, t, NOW).map((a) => a.id);
    expect(matchAlerts(index, t, NOW).map((a) => a.id)).toEqual(first);
    expect(first.sort()).toEqual(["kerala", "solar"]);
  });

  it("files a prefix-only keyword under its longest prefix, and checks the others", () => {
    const long = buildAlertIndex([alert("p", { keywords: ["electrif*"] }), alert("q", { keywords: ["el*"] }), alert("r", { keywords: ["vill* elect*"] })]);
    expect(Object.fromEntries(describeAlertIndex(long).get("any")?.byPrefix ?? [])).toEqual({ el: ["q"], electrif: ["p"], elect: ["r"] });
    const ids2 = (title: string) => matchAlerts(long, prepareTender({ title }), NOW).map((a) => a.id).sort();
    expect(ids2("Village electrification")).toEqual(["p", "q", "r"]);
    expect(ids2("Electrical works")).toEqual(["q"]);
    expect(ids2("Electrical works in villages")).toEqual(["q", "r"]);
    expect(ids2("El")).toEqual(["q"]);
  });

  it("uses the given word frequencies to choose where a keyword is filed", () => {
    const a = [alert("x", { keywords: ["water pipeline"] })];
    const common = (w: string) => (w === "pipeline" ? 1_000 : 1);
    expect([...(describeAlertIndex(buildAlertIndex(a)).get("any")?.byWord.keys() ?? [])]).toEqual(["pipeline"]);
    expect([...(describeAlertIndex(buildAlertIndex(a, { wordFrequency: common })).get("any")?.byWord.keys() ?? [])]).toEqual(["water"]);
  });

  it("answers right across the wrap of its 32-bit pass stamp", () => {
    const wrapping = buildAlertIndex(alerts);
    const t = prepareTender({ title: "Rooftop solar and solar pump", state: "Kerala" });
    const other = prepareTender({ title: "Road construction", state: "Bihar", value: 2e8 });
    wrapping.scratch.stamp = 2 ** 32 - 2;
    for (const tender of [t, other, t, other, t]) {
      expect(matchAlerts(wrapping, tender, NOW).map((a) => a.id).sort()).toEqual(matchAlertsNaive(compileAlerts(alerts), tender, NOW).map((a) => a.id).sort());
    }
    expect(wrapping.scratch.stamp).toBeLessThan(10);
  });

  it("handles no alerts", () => {
    expect(matchAlerts(buildAlertIndex([]), prepareTender({ title: "road" }), NOW)).toEqual([]);
  });
});

// ─── property: the index returns exactly what checking every alert returns ──────────────────

// Short words on purpose: a prefix as long as the word ("it*", "road*") is an edge of the index.
const VOCAB = ["road", "roads", "railroad", "bridge", "construction", "médical", "medical", "solar", "water", "école", "it", "pipe", "pipeline"];
const SEPARATORS = [" ", "-", ", ", "/", " & ", "\n"];
const STATE_NAMES = ["Bihar", " bihar ", "Tamil Nadu", "TAMIL  NADU", "Kérala", "Kerala", "  "];
const DEPARTMENTS = ["PWD", "pwd", "Health", "Railways"];

const casing = fc.constantFrom<(w: string) => string>(
  (w) => w,
  (w) => w.toUpperCase(),
  (w) => w.charAt(0).toUpperCase() + w.slice(1),
);
const textWord = fc.tuple(fc.constantFrom(...VOCAB), casing).map(([w, c]) => c(w));
const text = (max: number) =>
  fc
    .array(fc.tuple(textWord, fc.constantFrom(...SEPARATORS)), { minLength: 0, maxLength: max })
    .map((parts) => parts.map(([w, s]) => w + s).join(""));

const tenderArb: fc.Arbitrary<TenderFields> = fc.record({
  title: text(6),
  description: fc.option(text(8), { nil: null }),
  state: fc.option(fc.constantFrom(...STATE_NAMES), { nil: null }),
  department: fc.option(fc.constantFrom(...DEPARTMENTS), { nil: null }),
  value: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  closingDate: fc.option(
    fc.integer({ min: -5 * 24, max: 100 * 24 }).map((h) => new Date(NOW.getTime() + (h * DAY) / 24)),
    { nil: null },
  ),
});

const keywordPart = fc.oneof(
  { weight: 5, arbitrary: textWord },
  // A prefix of a vocabulary word, from one letter to the whole word, possibly accented.
  { weight: 3, arbitrary: fc.tuple(textWord, fc.nat()).map(([w, n]) => `${w.slice(0, 1 + (n % w.length))}*`) },
  { weight: 1, arbitrary: fc.constantFrom("***", "-", "road *") },
);
const keywordArb = fc.array(keywordPart, { minLength: 1, maxLength: 3 }).map((ws) => ws.join(" "));

const criteriaArb: fc.Arbitrary<TenderCriteria> = fc.record(
  {
    keywords: fc.array(keywordArb, { maxLength: 3 }),
    exclude_keywords: fc.array(keywordArb, { maxLength: 2 }),
    states: fc.array(fc.constantFrom(...STATE_NAMES), { maxLength: 2 }),
    departments: fc.array(fc.constantFrom(...DEPARTMENTS), { maxLength: 2 }),
    min_value: fc.integer({ min: 0, max: 100 }),
    max_value: fc.integer({ min: 0, max: 100 }),
    closing_date_range: fc.constantFrom("next_7_days", "next_30_days", "next_90_days", "any"),
  },
  { requiredKeys: [] },
);

describe("property: matchAlerts equals the naive check of every alert", () => {
  it("for random tenders and criteria", () => {
    let matched = 0;
    let pairs = 0;
    fc.assert(
      fc.property(
        fc.array(criteriaArb, { maxLength: 40 }),
        fc.array(tenderArb, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: -10, max: 10 }),
        (criteria, tenders, shiftDays) => {
          const alerts = criteria.map((c, i) => alert(`a${i}`, c));
          const now = new Date(NOW.getTime() + shiftDays * DAY);
          const index = buildAlertIndex(alerts);
          // Past its size limit the index finds slots by binary search instead of a table.
          const searching = buildAlertIndex(alerts, { slotTableLimit: 0 });
          expect(searching.slotTable).toBeNull();
          // A table however sparse, and hits as ids only (as the consumer builds it).
          const ids = buildAlertIndex(alerts, { slotTableLimit: Number.MAX_SAFE_INTEGER, result: (a) => a.id });
          expect(ids.slotTable).not.toBeNull();
          for (const t of tenders) {
            const expected = naive(alerts, t, now);
            expect(sortedIds(matchAlerts(index, prepareTender(t), now))).toEqual(expected);
            expect(sortedIds(matchAlerts(searching, prepareTender(t), now))).toEqual(expected);
            expect(matchAlerts(ids, prepareTender(t), now).sort(byPosition)).toEqual(expected);
            matched += expected.length;
            pairs += alerts.length;
          }
        },
      ),
      { numRuns: 300 },
    );
    // The property says something only if matches happen, and not always.
    expect(matched).toBeGreaterThan(pairs * 0.02);
    expect(matched).toBeLessThan(pairs * 0.9);
  });

  it("for one index serving many tenders in turn (term cache and marks carried between them)", () => {
    let matched = 0;
    fc.assert(
      fc.property(fc.array(criteriaArb, { maxLength: 30 }), fc.array(tenderArb, { minLength: 5, maxLength: 30 }), (criteria, tenders) => {
        const alerts = criteria.map((c, i) => alert(`a${i}`, c));
        const index = buildAlertIndex(alerts);
        for (const t of [...tenders, ...tenders]) {
          const expected = naive(alerts, t, NOW);
          expect(sortedIds(matchAlerts(index, prepareTender(t), NOW))).toEqual(expected);
          matched += expected.length;
        }
      }),
      { numRuns: 100 },
    );
    expect(matched).toBeGreaterThan(100);
  });

  it("for random keyword-only alerts (where the index does most of its work)", () => {
    let matched = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ keywords: fc.array(keywordArb, { minLength: 1, maxLength: 3 }), exclude_keywords: fc.array(keywordArb, { maxLength: 1 }) }),
          { maxLength: 30 },
        ),
        tenderArb,
        (criteria, tender) => {
          const alerts = criteria.map((c, i) => alert(`a${i}`, c));
          const expected = naive(alerts, tender, NOW);
          expect(viaIndex(alerts, tender, NOW)).toEqual(expected);
          matched += expected.length;
        },
      ),
      { numRuns: 400 },
    );
    expect(matched).toBeGreaterThan(400);
  });

  it("for the benchmark's realistic data, and the index prunes most alerts", () => {
    const alerts = generateAlerts(2_000, 2);
    const tenders = generateTenders(200, 1);
    const index = buildAlertIndex(alerts);
    const compiled = compileAlerts(alerts);
    let candidates = 0;
    let matches = 0;
    for (const t of tenders) {
      const p = prepareTender(t);
      const got = matchAlerts(index, p, BENCH_NOW).map((a) => a.id).sort(byPosition);
      expect(got).toEqual(matchAlertsNaive(compiled, p, BENCH_NOW).map((a) => a.id));
      candidates += candidatesFor(index, p).length;
      matches += got.length;
    }
    expect(matches).toBeGreaterThan(0);
    // A structural check, not a timing: the index must leave most alerts unvisited.
    expect(candidates).toBeLessThan(alerts.length * tenders.length * 0.05);
    expect(viaIndex(alerts.slice(0, 50), tenders[0] ?? { title: "" }, BENCH_NOW)).toEqual(
      naive(alerts.slice(0, 50), tenders[0] ?? { title: "" }, BENCH_NOW),
    );
  });
});
