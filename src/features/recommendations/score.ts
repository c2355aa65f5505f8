/**
 * Recommendation scoring: profile fit plus past behaviour, each point with a reason. Pure; the
 * keyword rule is the matcher's (match.ts), so "keyword: bridge" means exactly what an alert with
 * that keyword would match.
 */
import { compileKeyword, matchesKeyword, prepareTender, type CompiledKeyword, type TenderFields } from "../tenders/match";
import { normalizeLabel } from "../tenders/text";

export interface Signals {
  /** Industry sectors, specializations and preferred tender types, used as keywords. */
  keywords: string[];
  operatingStates: string[];
  minValue: number | null;
  maxValue: number | null;
  /** Departments and states of the user's favorites, with how many favorites each. */
  favoriteDepartments: Map<string, number>;
  favoriteStates: Map<string, number>;
  /** Departments of tenders the user viewed, with how many views each. */
  viewedDepartments: Map<string, number>;
}

export const WEIGHTS = {
  keyword: 3,
  relevance: 2,
  state: 2,
  value: 1.5,
  favoriteDepartment: 1.5,
  favoriteState: 1,
  viewedDepartment: 0.5,
} as const;

export interface Scored {
  score: number;
  reasons: string[];
}

/** Signals as compiled once per request: keywords parsed, labels normalised (display form kept). */
export interface CompiledSignals {
  keywords: { label: string; compiled: CompiledKeyword }[];
  states: Map<string, string>;
  minValue: number | null;
  maxValue: number | null;
  favoriteDepartments: Map<string, { label: string; count: number }>;
  favoriteStates: Map<string, { label: string; count: number }>;
  viewedDepartments: Map<string, { label: string; count: number }>;
}

const byLabel = (counts: Map<string, number>) => {
  const out = new Map<string, { label: string; count: number }>();
  for (const [label, count] of counts) {
    const key = normalizeLabel(label);
    if (key) out.set(key, { label, count: (out.get(key)?.count ?? 0) + count });
  }
  return out;
};

export function compileSignals(s: Signals): CompiledSignals {
  const seen = new Set<string>();
  const keywords: CompiledSignals["keywords"] = [];
  for (const label of s.keywords) {
    const compiled = compileKeyword(label);
    const key = [...compiled.words, "|", ...compiled.prefixes].join(" ");
    if (compiled.words.length + compiled.prefixes.length === 0 || seen.has(key)) continue;
    seen.add(key);
    keywords.push({ label: label.trim(), compiled });
  }
  return {
    keywords: keywords.slice(0, 30),
    states: new Map(s.operatingStates.map((st) => [normalizeLabel(st), st.trim()] as const).filter(([k]) => k !== "")),
    minValue: s.minValue,
    maxValue: s.maxValue,
    favoriteDepartments: byLabel(s.favoriteDepartments),
    favoriteStates: byLabel(s.favoriteStates),
    viewedDepartments: byLabel(s.viewedDepartments),
  };
}

/** Diminishing weight for repeated behaviour: 1 favorite → 1×, 3 → ~1.6×, 10 → ~2.2×. */
const repeat = (count: number) => 1 + Math.log10(Math.max(1, count)) * 1.2;

/**
 * Scores one tender. `relevance` is its bm25 strength in [0, 1] among the candidates (1 = best
 * text match), 0 when it was not a text match.
 *
 * @example scoreTender(compileSignals({ keywords: ["bridge"], operatingStates: ["Bihar"], … }), tender, 1)
 * // { score: 7, reasons: ["keyword: bridge", "state: Bihar"] }
 */
export function scoreTender(signals: CompiledSignals, tender: TenderFields, relevance: number): Scored {
  const reasons: string[] = [];
  let score = 0;
  const prepared = prepareTender(tender);
  const matched = signals.keywords.filter((k) => matchesKeyword(k.compiled, prepared));
  for (const k of matched) reasons.push(`keyword: ${k.label}`);
  if (matched.length > 0) score += WEIGHTS.keyword * (1 + Math.log2(matched.length)) + WEIGHTS.relevance * relevance;
  const state = prepared.state && signals.states.get(prepared.state);
  if (state) {
    score += WEIGHTS.state;
    reasons.push(`state: ${state}`);
  }
  const value = prepared.value;
  if (value !== null && (signals.minValue !== null || signals.maxValue !== null) && value >= (signals.minValue ?? 0) && value <= (signals.maxValue ?? Infinity)) {
    score += WEIGHTS.value;
    reasons.push("value: within your range");
  }
  const favDept = prepared.department && signals.favoriteDepartments.get(prepared.department);
  if (favDept) {
    score += WEIGHTS.favoriteDepartment * repeat(favDept.count);
    reasons.push(`department of your favorites: ${favDept.label}`);
  }
  const favState = prepared.state && signals.favoriteStates.get(prepared.state);
  if (favState) {
    score += WEIGHTS.favoriteState * repeat(favState.count);
    reasons.push(`state of your favorites: ${favState.label}`);
  }
  const viewed = prepared.department && signals.viewedDepartments.get(prepared.department);
  if (viewed) {
    score += WEIGHTS.viewedDepartment * repeat(viewed.count);
    reasons.push(`department you viewed: ${viewed.label}`);
  }
  return { score: Math.round(score * 100) / 100, reasons };
}
