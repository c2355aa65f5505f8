/**
 * API.md's keyword rule and alert criteria as pure functions: the one matcher behind alerts,
 * saved searches and `/tenders?q=`. No I/O, no clock: `now` is passed in.
 *
 * Use: compile each criteria object once ({@link compileCriteria}), prepare each tender once
 * ({@link prepareTender}), then {@link matchesTender} is a handful of set lookups. For many alerts
 * against many tenders use alert-index.ts, which calls this module for every candidate.
 *
 * Decisions where API.md is silent:
 * - Words of a keyword may come from the title or the description, in any order, not adjacent
 *   (the union of both fields, as an FTS5 query over both columns).
 * - A word is what text.ts says; punctuation inside a keyword separates words, so "e-procurement"
 *   needs the words "e" and "procurement", exactly as the tender text is split.
 * - `*` makes a prefix only directly after a word ("road*"); anywhere else it separates. A prefix
 *   also matches the word itself ("road*" matches "road").
 * - A keyword without any word ("***", "--") matches nothing, and as an exclude removes nothing.
 *   The schema rejects such keywords; this is the fail-closed answer for stored rows.
 * - An empty array (`keywords: []`, `states: []`) is the same as not setting the criterion.
 * - States and departments compare by {@link normalizeLabel}: case, accents, surrounding and
 *   repeated whitespace are ignored; punctuation is not.
 * - A tender without a value fails a set `min_value`/`max_value`; a tender without a closing date
 *   fails any `closing_date_range` other than "any". `next_N_days` means
 *   `now <= closing_date <= now + N × 24 h`, so a tender that has closed fails it.
 */
import type { TenderCriteria } from "../../db/tables";
import { normalizeLabel, normalizeText, tokenize, WORD_CHAR_CLASS } from "./text";
import { DAY } from "../../platform/time";

/** Milliseconds of each `closing_date_range`; "any" sets no constraint. */
export const CLOSING_RANGE_MS = {
  next_7_days: 7 * DAY,
  next_30_days: 30 * DAY,
  next_90_days: 90 * DAY,
} as const;

/** One keyword, parsed: the whole words and the prefixes that must all occur in the tender. */
export interface CompiledKeyword {
  /** Whole words, normalised and without duplicates. */
  readonly words: readonly string[];
  /** Prefix words without their `*`, normalised and without duplicates. */
  readonly prefixes: readonly string[];
}

/** Criteria in the form that is cheap to check. `null` means "not set". */
export interface CompiledCriteria {
  readonly keywords: readonly CompiledKeyword[] | null;
  readonly excludes: readonly CompiledKeyword[];
  readonly states: ReadonlySet<string> | null;
  readonly departments: ReadonlySet<string> | null;
  readonly minValue: number | null;
  readonly maxValue: number | null;
  /** Window after `now` in which the tender must close, or null for "any"/unset. */
  readonly closingWithinMs: number | null;
}

/** The tender fields the matcher reads (a tenders row has them all). */
export interface TenderFields {
  readonly title: string;
  readonly description?: string | null;
  readonly state?: string | null;
  readonly department?: string | null;
  readonly value?: number | null;
  readonly closingDate?: Date | null;
}

/** A tender prepared once, then checked against any number of criteria. */
export interface PreparedTender {
  /** Every word of title and description. */
  readonly words: ReadonlySet<string>;
  /** The same words, unique and sorted by UTF-16 code units, for prefix search. */
  readonly sortedWords: readonly string[];
  /** {@link normalizeLabel} of the state, or null when missing or blank. */
  readonly state: string | null;
  readonly department: string | null;
  readonly value: number | null;
  /** Closing date in ms since the epoch, or null. */
  readonly closingTime: number | null;
}

// A word, optionally followed directly by `*` (a prefix). Same word classes as text.ts.
const KEYWORD_WORD = new RegExp(`(${WORD_CHAR_CLASS}+)(\\*?)`, "gu");

/**
 * Parses one keyword.
 *
 * @example compileKeyword("Road* Construction") // { words: ["construction"], prefixes: ["road"] }
 */
export function compileKeyword(keyword: string): CompiledKeyword {
  const words = new Set<string>();
  const prefixes = new Set<string>();
  for (const [, word, star] of normalizeText(keyword).matchAll(KEYWORD_WORD)) {
    if (word) (star ? prefixes : words).add(word);
  }
  return { words: [...words], prefixes: [...prefixes] };
}

const labelSet = (labels: readonly string[] | undefined): ReadonlySet<string> | null =>
  labels && labels.length > 0 ? new Set(labels.map(normalizeLabel)) : null;

const finiteOrNull = (n: number | null | undefined): number | null => (typeof n === "number" && Number.isFinite(n) ? n : null);

/**
 * Compiles alert criteria or a saved search's query. Accepts stored rows as they are (it does not
 * validate: criteria.schema.ts does that on the way in).
 *
 * @example
 * const c = compileCriteria({ keywords: ["road construction", "bridge"], states: ["Bihar"] });
 */
export function compileCriteria(criteria: TenderCriteria): CompiledCriteria {
  const range = criteria.closing_date_range;
  return {
    keywords: criteria.keywords && criteria.keywords.length > 0 ? criteria.keywords.map(compileKeyword) : null,
    excludes: (criteria.exclude_keywords ?? []).map(compileKeyword),
    states: labelSet(criteria.states),
    departments: labelSet(criteria.departments),
    minValue: finiteOrNull(criteria.min_value),
    maxValue: finiteOrNull(criteria.max_value),
    closingWithinMs: range && range !== "any" ? CLOSING_RANGE_MS[range] : null,
  };
}

const labelOrNull = (label: string | null | undefined): string | null => {
  const key = label == null ? "" : normalizeLabel(label);
  return key === "" ? null : key;
};

/**
 * Prepares a tender for matching: tokenises title and description once.
 *
 * @example
 * const t = prepareTender({ title: "Construction of road and bridge", state: "Bihar", value: 5e6, closingDate });
 */
export function prepareTender(tender: TenderFields): PreparedTender {
  const text = tender.description ? `${tender.title}\n${tender.description}` : tender.title;
  const words = new Set(tokenize(text));
  const closing = tender.closingDate?.getTime();
  return {
    words,
    sortedWords: [...words].sort(),
    state: labelOrNull(tender.state),
    department: labelOrNull(tender.department),
    value: finiteOrNull(tender.value),
    closingTime: closing !== undefined && Number.isFinite(closing) ? closing : null,
  };
}

/** Whether some word of the sorted list starts with `prefix` (binary search for the first word ≥ prefix). */
export function hasWordWithPrefix(sortedWords: readonly string[], prefix: string): boolean {
  let lo = 0;
  let hi = sortedWords.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sortedWords[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  // Words that start with `prefix` sort contiguously from the first word ≥ prefix.
  return lo < sortedWords.length && (sortedWords[lo] as string).startsWith(prefix);
}

/**
 * API.md's keyword rule for one keyword: every word occurs as a whole word, every prefix starts
 * some word, in the title or the description.
 *
 * @example matchesKeyword(compileKeyword("road construction"), prepareTender({ title: "Construction of road and bridge" })) // true
 */
export function matchesKeyword(keyword: CompiledKeyword, tender: PreparedTender): boolean {
  if (keyword.words.length === 0 && keyword.prefixes.length === 0) return false;
  for (const w of keyword.words) if (!tender.words.has(w)) return false;
  for (const p of keyword.prefixes) if (!hasWordWithPrefix(tender.sortedWords, p)) return false;
  return true;
}

/**
 * Whether a tender passes every criterion the criteria set, at `now` (used only by
 * `closing_date_range`). The cheap checks run first; keywords last.
 *
 * @example matchesTender(compileCriteria({ keywords: ["road*"] }), prepareTender({ title: "Rural roads" }), now) // true
 */
export function matchesTender(criteria: CompiledCriteria, tender: PreparedTender, now: Date): boolean {
  if (criteria.states && (tender.state === null || !criteria.states.has(tender.state))) return false;
  if (criteria.departments && (tender.department === null || !criteria.departments.has(tender.department))) return false;
  if (criteria.minValue !== null && (tender.value === null || tender.value < criteria.minValue)) return false;
  if (criteria.maxValue !== null && (tender.value === null || tender.value > criteria.maxValue)) return false;
  if (criteria.closingWithinMs !== null) {
    if (tender.closingTime === null) return false;
    const left = tender.closingTime - now.getTime();
    if (left < 0 || left > criteria.closingWithinMs) return false;
  }
  if (criteria.keywords !== null) {
    let any = false;
    for (const k of criteria.keywords) {
      if (matchesKeyword(k, tender)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  for (const k of criteria.excludes) if (matchesKeyword(k, tender)) return false;
  return true;
}

/**
 * An FTS5 MATCH expression for the keywords (OR of the keywords, each an AND of its words), for
 * fetching candidates from `tenders_fts`; null when no keyword has a word. Run
 * {@link matchesTender} on what it returns: FTS5 agrees with this module exactly only on text it
 * indexed through `normalizeText` (see text.ts), and excludes are left to it.
 *
 * @example toFtsQuery([compileKeyword("road* construction")]) // '("construction" AND "road"*)'
 */
export function toFtsQuery(keywords: readonly CompiledKeyword[]): string | null {
  const groups = keywords
    .filter((k) => k.words.length + k.prefixes.length > 0)
    // Words hold only letters and digits (no quotes), so quoting each one is safe.
    .map((k) => `(${[...k.words.map((w) => `"${w}"`), ...k.prefixes.map((p) => `"${p}"*`)].join(" AND ")})`);
  return groups.length > 0 ? groups.join(" OR ") : null;
}
