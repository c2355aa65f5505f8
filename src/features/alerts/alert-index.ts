/**
 * A compiled index of active alerts, so a tender meets only the alerts that could match it
 * (DESIGN.md, Jobs). Pure: built from plain alert objects, no I/O, no clock.
 *
 * How it finds candidates:
 * - Partitions first. An alert that sets states is filed once per state, one that sets only
 *   departments once per department, any other alert once under "any"; a tender visits "any",
 *   its own state and its own department. An alert can only match tenders in its states or
 *   departments, so it is met only by those.
 * - Inside a partition, every keyword of an alert is filed under ONE of its terms: the word least
 *   used across all alerts' keywords (a stand-in for "rarest in tenders"; pass `wordFrequency`
 *   to use real document frequencies), longer first on ties; a keyword made only of prefixes,
 *   under its longest prefix. A tender can match the keyword only if it has that term, so the
 *   tender's own terms give every candidate.
 * - Every word and prefix of every keyword has a number (the index's vocabulary). A tender's
 *   words are looked up in a per-index term cache (word → its number, and the numbers of the
 *   alert prefixes it starts with, found once by walking a trie of the prefixes) and marked in
 *   arrays for the pass.
 * - Alerts without keywords are candidates for every tender that reaches their partition.
 *
 * How a candidate is checked: only what the way it was found has not already proven, from one
 * flat record read front to back (no criteria objects, no hashing).
 * - Reached through a state partition, the alert's states hold; through a department partition,
 *   its departments. (An alert that sets both is filed by state and checks its departments.)
 * - The term a keyword is filed under is in the tender; its record lists only its other terms,
 *   which must all be marked. A one-word keyword has none left to check.
 * - Value bounds and the closing window sit in the record (±∞ when unset); excludes are checked
 *   only for the alerts that set them.
 * So the index decides only speed, never the answer: matchAlerts returns exactly what checking
 * every alert with matchesTender returns (alert-index.test.ts checks this with fast-check).
 *
 * The index is immutable after building except for scratch arrays (marks within one synchronous
 * call) and the term cache, so one index can serve a whole isolate.
 */
import type { TenderCriteria } from "../../db/tables";
import type { CompiledCriteria, CompiledKeyword, PreparedTender } from "../tenders/match";
import { compileCriteria, matchesTender } from "../tenders/match";

/** What the index needs of an alert; any extra fields are carried through to the results. */
export interface AlertLike {
  readonly id: string;
  readonly criteria: TenderCriteria;
}

/** An alert with its compiled criteria. */
export interface IndexedAlert<A extends AlertLike> {
  readonly alert: A;
  readonly compiled: CompiledCriteria;
}

/** What the index knows of one word of a tender: its vocabulary number and the prefixes it starts with. */
interface TermInfo {
  /** Number in `vocabulary`, or -1 when no keyword uses the word. */
  readonly word: number;
  /** Numbers in `prefixes` of the alert prefixes the word starts with (or is), or null. */
  readonly prefixes: readonly number[] | null;
}

/** A trie of the alerts' prefixes by UTF-16 code unit (startsWith compares code units too). */
interface PrefixNode {
  readonly next: Map<number, PrefixNode>;
  /** Number of the prefix that ends here, or -1. */
  prefix: number;
}

export interface AlertIndex<A extends AlertLike> {
  /** The alerts in the order given to {@link buildAlertIndex}. */
  readonly alerts: readonly IndexedAlert<A>[];
  /** The same alerts as given, in one flat array (a hit reads one slot, not an object). */
  readonly refs: readonly A[];
  /**
   * Partition numbers: `any` for alerts that set neither states nor departments;
   * `state:<label>` for alerts that set states (one per state); `department:<label>` for alerts
   * that set departments only.
   */
  readonly partitions: ReadonlyMap<string, number>;
  readonly statePartitions: ReadonlyMap<string, number>;
  readonly departmentPartitions: ReadonlyMap<string, number>;
  readonly partitionCount: number;
  /** Every word of every keyword (and exclude) → its number. Terms: word w is term w. */
  readonly vocabulary: ReadonlyMap<string, number>;
  /** Every prefix of every keyword (without its `*`) → its number, and the same as a trie. Prefix x is term vocabulary.size + x. */
  readonly prefixes: ReadonlyMap<string, number>;
  readonly prefixTrie: PrefixNode;
  /**
   * Where keywords are filed, by term: slots are numbered by term, then partition, so the term's
   * slots are `termSlotStart[t] .. termSlotStart[t + 1]`, one per partition, whose partition
   * numbers are in `slotPartition` (binary search: no hashing on the hot path).
   */
  readonly termSlotStart: Int32Array;
  readonly slotPartition: Int32Array;
  /**
   * The same as a table, when it is small enough (DENSE_SLOT_LIMIT): the slot of term t in
   * partition p is `slotTable[p × termCount + t]`, or -1. One read instead of a search.
   */
  readonly slotTable: Int32Array | null;
  /** Per slot: its term and partition as `term × partitionCount + partition` (for describeAlertIndex). */
  readonly slotKey: Float64Array;
  /** The records of slot s are `records[slotStart[s] .. slotStart[s + 1])` (RECORD numbers each). */
  readonly slotStart: Int32Array;
  readonly records: Float64Array;
  /** Per partition: the records of the alerts without keywords filed there. */
  readonly withoutKeywords: readonly Float64Array[];
  /** The terms left to check, for records and excludes: ranges of this array, of term numbers. */
  readonly terms: Int32Array;
  /** Per alert position: its excludes as a range of `excludes`, which holds pairs (start, end) of `terms` ranges. */
  readonly excludeFrom: Int32Array;
  readonly excludeTo: Int32Array;
  readonly excludes: Int32Array;
  /**
   * Scratch for one synchronous call: `seen[i] === stamp` means alert i is decided for this
   * tender, `termSeen[t] === stamp` that the tender has term t.
   */
  readonly scratch: { seen: Uint32Array; termSeen: Uint32Array; stamp: number };
  /** Tender word → what the index knows of it; grows with the words tenders use, cleared past TERM_CACHE_LIMIT. */
  readonly termCache: Map<string, TermInfo>;
}

const ANY = "any";
/** "any" is numbered first, so it is partition 0 in every index, and first among each term's slots. */
const ANY_PARTITION = 0;
/** Entries of the term cache before it starts over (bounds an isolate's memory). */
const TERM_CACHE_LIMIT = 200_000;
/** Largest partitions × terms for which the slot table is built (4 bytes each: 16 MB). */
const DENSE_SLOT_LIMIT = 4_000_000;

// A record: one filed keyword (or one alert without keywords) with everything a candidate checks.
const RECORD = 8; // 64 bytes
const R_POSITION = 0;
const R_TERMS_FROM = 1;
const R_TERMS_TO = 2;
const R_FLAGS = 3;
const R_MIN = 4; // −∞ when unset
const R_MAX = 5; // +∞ when unset
/** Least time left before closing, in ms: 0 with a closing window, −∞ without. */
const R_CLOSING_FROM = 6;
/** Most time left before closing: the window, or +∞. */
const R_CLOSING_TO = 7;

const FLAG_MIN = 1;
const FLAG_MAX = 2;
const FLAG_CLOSING = 4;
const FLAG_EXCLUDES = 8;
/** Sets departments but is filed by state, so reaching it does not prove its departments. */
const FLAG_DEPARTMENTS = 16;
/** The alert's only record in its partition: it cannot be met twice in a pass, so it needs no mark. */
const FLAG_SOLE = 32;

export interface BuildOptions {
  /**
   * How common a word is in tenders (for example its document count in `tenders_fts`); the index
   * files each keyword under its least common word. Default: how many keywords of these alerts
   * use the word.
   */
  readonly wordFrequency?: (word: string) => number;
  /** Largest partitions × terms for which a slot table is built (default DENSE_SLOT_LIMIT); 0 always searches. */
  readonly slotTableLimit?: number;
}

/** A growing list of numbers in a typed array, to build the flat arrays without knowing their size. */
class NumberList<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(private data: T) {}
  push(...values: number[]): void {
    for (const v of values) {
      if (this.length === this.data.length) {
        const grown = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.data[this.length++] = v;
    }
  }
  toArray(): T {
    return this.data.slice(0, this.length) as T;
  }
}

const numberer = () => {
  const map = new Map<string, number>();
  return { map, of: (key: string) => map.get(key) ?? (map.set(key, map.size), map.size - 1) };
};

/**
 * Compiles alerts into an index. Cost is linear in the total size of the criteria; rebuild it when
 * the set of active alerts changes.
 *
 * @example
 * const index = buildAlertIndex(activeAlerts); // [{ id, userId, criteria, ... }]
 * for (const tender of tenders) {
 *   const hits = matchAlerts(index, prepareTender(tender), now); // the alert objects given
 * }
 */
export function buildAlertIndex<A extends AlertLike>(alerts: readonly A[], options: BuildOptions = {}): AlertIndex<A> {
  const indexed = alerts.map((alert) => ({ alert, compiled: compileCriteria(alert.criteria) }));
  const n = indexed.length;

  let frequency = options.wordFrequency;
  if (frequency === undefined) {
    const counts = new Map<string, number>();
    for (const { compiled } of indexed) {
      for (const k of compiled.keywords ?? []) for (const w of k.words) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    frequency = (w) => counts.get(w) ?? 0;
  }
  const freq = frequency;
  // Least frequent first, then longer (longer words tend to be rarer), then by text for determinism.
  const better = (a: string, b: string): boolean => {
    const fa = freq(a);
    const fb = freq(b);
    if (fa !== fb) return fa < fb;
    if (a.length !== b.length) return a.length > b.length;
    return a < b;
  };

  const partitions = numberer();
  partitions.of(ANY); // ANY_PARTITION
  const statePartitions = new Map<string, number>();
  const departmentPartitions = new Map<string, number>();
  const partitionsOfAlert = indexed.map(({ compiled: c }): number[] => {
    // An alert that sets states can only match a tender in one of them, so it is filed only where
    // such tenders look; likewise departments. States win when both are set (either is correct).
    const file = (labels: ReadonlySet<string>, kind: string, byLabel: Map<string, number>) =>
      [...labels].map((label) => {
        const p = partitions.of(`${kind}:${label}`);
        byLabel.set(label, p);
        return p;
      });
    if (c.states) return file(c.states, "state", statePartitions);
    if (c.departments) return file(c.departments, "department", departmentPartitions);
    return [partitions.of(ANY)];
  });
  const partitionCount = Math.max(partitions.map.size, 1);

  // Words and prefixes are numbered apart; a term is a word, or a prefix after all words.
  const vocabulary = numberer();
  const prefixes = numberer();
  for (const { compiled: c } of indexed) {
    for (const k of [...(c.keywords ?? []), ...c.excludes]) {
      k.words.forEach(vocabulary.of);
      k.prefixes.forEach(prefixes.of);
    }
  }
  const vocabularySize = vocabulary.map.size;
  const termCount = vocabularySize + prefixes.map.size;
  const wordTerm = (w: string) => vocabulary.of(w);
  const prefixTerm = (x: string) => vocabularySize + prefixes.of(x);

  const terms = new NumberList(new Int32Array(64));
  /** Appends the keyword's terms but `filedUnder`; their [start, end) in `terms`. */
  const addTerms = (k: CompiledKeyword, filedUnder = -1): [number, number] => {
    const start = terms.length;
    for (const w of k.words) if (wordTerm(w) !== filedUnder) terms.push(wordTerm(w));
    for (const x of k.prefixes) if (prefixTerm(x) !== filedUnder) terms.push(prefixTerm(x));
    return [start, terms.length];
  };

  const excludeFrom = new Int32Array(n);
  const excludeTo = new Int32Array(n);
  const excludes = new NumberList(new Int32Array(64));
  // Records by slot key (`term × partitionCount + partition`), or by partition for alerts without keywords.
  const filed = new Map<number, number[]>();
  const without: number[][] = Array.from({ length: partitionCount }, () => []);

  indexed.forEach(({ compiled: c }, position) => {
    let flags = 0;
    if (c.minValue !== null) flags |= FLAG_MIN;
    if (c.maxValue !== null) flags |= FLAG_MAX;
    if (c.closingWithinMs !== null) flags |= FLAG_CLOSING;
    if (c.states && c.departments) flags |= FLAG_DEPARTMENTS;
    // Excludes are checked, never filed. One without words excludes nothing.
    excludeFrom[position] = excludes.length;
    for (const k of c.excludes) if (k.words.length + k.prefixes.length > 0) excludes.push(...addTerms(k));
    excludeTo[position] = excludes.length;
    if (excludeTo[position] !== excludeFrom[position]) flags |= FLAG_EXCLUDES;
    const record = (termsFrom: number, termsTo: number, sole: boolean): number[] => [
      position,
      termsFrom,
      termsTo,
      flags | (sole ? FLAG_SOLE : 0),
      c.minValue ?? -Infinity,
      c.maxValue ?? Infinity,
      c.closingWithinMs === null ? -Infinity : 0,
      c.closingWithinMs ?? Infinity,
    ];

    const where = partitionsOfAlert[position] as number[];
    if (c.keywords === null) {
      for (const p of where) without[p]?.push(...record(0, 0, true));
      return;
    }
    // A keyword without words never matches: nothing to file. A tender passes `keywords` only
    // through one of them, so filing each keyword under one term suffices.
    const keywords = c.keywords.filter((k) => k.words.length + k.prefixes.length > 0);
    for (const k of keywords) {
      const term =
        k.words.length > 0
          ? wordTerm(k.words.reduce((best, w) => (better(w, best) ? w : best)))
          : prefixTerm(k.prefixes.reduce((best, x) => (x.length > best.length ? x : best)));
      const [from, to] = addTerms(k, term);
      for (const p of where) {
        const key = term * partitionCount + p;
        const list = filed.get(key);
        const r = record(from, to, keywords.length === 1);
        if (list === undefined) filed.set(key, r);
        else list.push(...r);
      }
    }
  });

  // Lay the slots out one after the other, sorted by term then partition, and index them by term.
  const keys = [...filed.keys()].sort((a, b) => a - b);
  const slotStart = new Int32Array(keys.length + 1);
  const records = new Float64Array(keys.reduce((sum, key) => sum + (filed.get(key) as number[]).length, 0));
  const termSlotStart = new Int32Array(termCount + 1);
  const slotPartition = new Int32Array(keys.length);
  let offset = 0;
  keys.forEach((key, slot) => {
    const list = filed.get(key) as number[];
    slotStart[slot] = offset;
    records.set(byMinValue(list), offset);
    offset += list.length;
    const term = Math.floor(key / partitionCount);
    termSlotStart[term + 1] = slot + 1; // keys are sorted: the last slot of a term sets its end
    slotPartition[slot] = key % partitionCount;
  });
  slotStart[keys.length] = offset;
  // Terms without slots start and end where the previous term ended.
  for (let t = 1; t <= termCount; t++) termSlotStart[t] = Math.max(termSlotStart[t] as number, termSlotStart[t - 1] as number);
  let slotTable: Int32Array | null = null;
  const tableLimit = options.slotTableLimit ?? DENSE_SLOT_LIMIT;
  if (tableLimit > 0 && partitionCount * termCount <= tableLimit) {
    slotTable = new Int32Array(partitionCount * termCount).fill(-1);
    keys.forEach((key, slot) => {
      (slotTable as Int32Array)[(key % partitionCount) * termCount + Math.floor(key / partitionCount)] = slot;
    });
  }

  return {
    alerts: indexed,
    refs: [...alerts],
    partitions: partitions.map,
    statePartitions,
    departmentPartitions,
    partitionCount,
    vocabulary: vocabulary.map,
    prefixes: prefixes.map,
    prefixTrie: prefixTrie(prefixes.map),
    termSlotStart,
    slotPartition,
    slotTable,
    slotKey: Float64Array.from(keys),
    slotStart,
    records,
    withoutKeywords: without.map((list) => Float64Array.from(byMinValue(list))),
    terms: terms.toArray(),
    excludeFrom,
    excludeTo,
    excludes: excludes.toArray(),
    scratch: { seen: new Uint32Array(n), termSeen: new Uint32Array(termCount), stamp: 0 },
    termCache: new Map(),
  };
}

/**
 * Records (flat, RECORD numbers each) sorted by their minimum value, unset (−∞) first: a scan can
 * stop at the first record whose minimum is above the tender's value, since all later ones are too.
 */
function byMinValue(list: readonly number[]): number[] {
  const rows: number[][] = [];
  for (let i = 0; i < list.length; i += RECORD) rows.push(list.slice(i, i + RECORD));
  rows.sort((a, b) => (a[R_MIN] as number) - (b[R_MIN] as number) || (a[R_POSITION] as number) - (b[R_POSITION] as number));
  return rows.flat();
}

function prefixTrie(prefixes: ReadonlyMap<string, number>): PrefixNode {
  const root: PrefixNode = { next: new Map(), prefix: -1 };
  for (const [text, number] of prefixes) {
    let node = root;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      let child = node.next.get(unit);
      if (child === undefined) node.next.set(unit, (child = { next: new Map(), prefix: -1 }));
      node = child;
    }
    node.prefix = number;
  }
  return root;
}

/** What the index knows of a tender's word (cached: tenders repeat their words a lot). */
function termInfo<A extends AlertLike>(index: AlertIndex<A>, word: string): TermInfo {
  let info = index.termCache.get(word);
  if (info !== undefined) return info;
  let prefixes: number[] | null = null;
  // Walk the trie along the word: every prefix met on the way is one the word starts with.
  let node: PrefixNode | undefined = index.prefixTrie;
  for (let i = 0; i < word.length; i++) {
    node = node.next.get(word.charCodeAt(i));
    if (node === undefined) break;
    if (node.prefix >= 0) (prefixes ??= []).push(node.prefix);
  }
  info = { word: index.vocabulary.get(word) ?? -1, prefixes };
  if (index.termCache.size >= TERM_CACHE_LIMIT) index.termCache.clear();
  index.termCache.set(word, info);
  return info;
}

/** A new stamp for one tender's pass: `seen[i] === stamp` and the like mark things within it. */
function nextStamp(scratch: AlertIndex<AlertLike>["scratch"]): number {
  scratch.stamp = (scratch.stamp + 1) >>> 0;
  if (scratch.stamp === 0) {
    // Wrapped after 2^32 passes: old stamps could collide, so start over.
    scratch.seen.fill(0);
    scratch.termSeen.fill(0);
    scratch.stamp = 1;
  }
  return scratch.stamp;
}

/** Marks the tender's terms (its words and the prefixes they start with) with the stamp and lists them, each once. */
function tenderTerms<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender, stamp: number): number[] {
  const { termSeen } = index.scratch;
  const vocabularySize = index.vocabulary.size;
  const out: number[] = [];
  for (const word of tender.sortedWords) {
    const info = termInfo(index, word);
    if (info.word >= 0) {
      termSeen[info.word] = stamp;
      out.push(info.word);
    }
    if (info.prefixes !== null) {
      for (const x of info.prefixes) {
        const term = vocabularySize + x;
        if (termSeen[term] === stamp) continue; // two words with the same prefix
        termSeen[term] = stamp;
        out.push(term);
      }
    }
  }
  return out;
}

/** The partitions the tender visits: any, its state's, its department's (those that exist). */
function tenderPartitions<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): number[] {
  const out = [ANY_PARTITION];
  const state = tender.state === null ? undefined : index.statePartitions.get(tender.state);
  if (state !== undefined) out.push(state);
  const department = tender.department === null ? undefined : index.departmentPartitions.get(tender.department);
  if (department !== undefined) out.push(department);
  return out;
}

/** The slot of a term in a partition (from the table, else by binary search of the term's slots), or -1. */
function slotOf<A extends AlertLike>(index: AlertIndex<A>, term: number, partition: number): number {
  const { termSlotStart, slotPartition, slotTable } = index;
  if (slotTable !== null) return slotTable[partition * index.scratch.termSeen.length + term] as number;
  let lo = termSlotStart[term] as number;
  const to = termSlotStart[term + 1] as number;
  if (partition === ANY_PARTITION) return lo < to && slotPartition[lo] === ANY_PARTITION ? lo : -1; // sorts first
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((slotPartition[mid] as number) < partition) lo = mid + 1;
    else hi = mid;
  }
  return lo < to && slotPartition[lo] === partition ? lo : -1;
}

/** Whether the terms `terms[start .. end)` are all marked with the stamp (all in the tender). */
function termsHold<A extends AlertLike>(index: AlertIndex<A>, stamp: number, start: number, end: number): boolean {
  const { terms } = index;
  const { termSeen } = index.scratch;
  for (let i = start; i < end; i++) if (termSeen[terms[i] as number] !== stamp) return false;
  return true;
}

/**
 * Starts the tender's pass (a new stamp, its terms marked) and calls `visit` with every run of
 * records it reaches: per partition it visits, the alerts without keywords, then the slot of each
 * of its terms, with the pass's stamp.
 */
function forEachReached<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender, visit: (records: Float64Array, from: number, to: number, stamp: number) => void): void {
  const stamp = nextStamp(index.scratch);
  const terms = tenderTerms(index, tender, stamp);
  const { records, slotStart } = index;
  for (const p of tenderPartitions(index, tender)) {
    const without = index.withoutKeywords[p] as Float64Array;
    visit(without, 0, without.length, stamp);
    for (const term of terms) {
      const slot = slotOf(index, term, p);
      if (slot >= 0) visit(records, slotStart[slot] as number, slotStart[slot + 1] as number, stamp);
    }
  }
}

/**
 * The alerts that could match the tender: every match and some alerts that fail on a later
 * check, in the order the alerts were given. For tests and for measuring the index.
 *
 * @example candidatesFor(index, prepareTender(tender)).length // usually a small part of index.alerts.length
 */
export function candidatesFor<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): IndexedAlert<A>[] {
  const { seen } = index.scratch;
  const positions: number[] = [];
  forEachReached(index, tender, (records, from, to, stamp) => {
    for (let j = from; j < to; j += RECORD) {
      const position = records[j + R_POSITION] as number;
      if (seen[position] !== stamp) {
        seen[position] = stamp;
        positions.push(position);
      }
    }
  });
  return Int32Array.from(positions)
    .sort()
    .reduce<IndexedAlert<A>[]>((out, p) => (out.push(index.alerts[p] as IndexedAlert<A>), out), []);
}

/** One tender's pass: what every record is checked against. */
interface Pass<A extends AlertLike> {
  readonly index: AlertIndex<A>;
  readonly tender: PreparedTender;
  /** The tender's value and time left before closing (ms), NaN when it has none. */
  readonly value: number;
  /** The highest minimum value the tender meets: its value, or −∞ without one (it meets no set minimum). */
  readonly minCut: number;
  readonly left: number;
  /** The FLAG_* that fail because the tender has no value or no closing date (NaN compares false). */
  readonly missing: number;
  readonly hits: A[];
}

/** Whether one of the alert's excludes occurs in the tender of the pass. */
function excluded<A extends AlertLike>(index: AlertIndex<A>, stamp: number, position: number): boolean {
  const { excludes } = index;
  const to = index.excludeTo[position] as number;
  for (let e = index.excludeFrom[position] as number; e < to; e += 2) {
    if (termsHold(index, stamp, excludes[e] as number, excludes[e + 1] as number)) return true;
  }
  return false;
}

/** Checks the records `records[from .. to)` and adds the alerts that match to `pass.hits`. */
function scan<A extends AlertLike>(pass: Pass<A>, records: Float64Array, from: number, to: number, stamp: number): void {
  const { index, value, minCut, left, missing } = pass;
  const { seen } = index.scratch;
  for (let j = from; j < to; j += RECORD) {
    // Records are sorted by minimum value (byMinValue): from here on, every one asks for more.
    if ((records[j + R_MIN] as number) > minCut) break;
    const flags = records[j + R_FLAGS] as number;
    const position = records[j + R_POSITION] as number;
    const sole = (flags & FLAG_SOLE) !== 0;
    if (!sole && seen[position] === stamp) continue; // already decided through another keyword
    if ((flags & missing) !== 0) continue;
    if (value > (records[j + R_MAX] as number)) continue;
    if (left < (records[j + R_CLOSING_FROM] as number) || left > (records[j + R_CLOSING_TO] as number)) continue;
    if ((flags & FLAG_DEPARTMENTS) !== 0) {
      const department = pass.tender.department;
      if (department === null || (index.alerts[position] as IndexedAlert<A>).compiled.departments?.has(department) !== true) continue;
    }
    // The keyword's other terms; when they fail, another keyword of the alert may still hold.
    if (!termsHold(index, stamp, records[j + R_TERMS_FROM] as number, records[j + R_TERMS_TO] as number)) continue;
    if (!sole) seen[position] = stamp;
    if ((flags & FLAG_EXCLUDES) !== 0 && excluded(index, stamp, position)) continue;
    pass.hits.push(index.refs[position] as A);
  }
}

/**
 * The alerts the tender matches at `now`: exactly those for which `matchesTender` holds, found
 * through the index, in the order it finds them (deterministic for an index and a tender, but not
 * the order the alerts were given: sorting ~70 hits would cost more than a tenth of the pass, and
 * the consumer records a set).
 *
 * @example const ids = matchAlerts(index, prepareTender(tender), now).map((a) => a.id);
 */
export function matchAlerts<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender, now: Date): A[] {
  const pass: Pass<A> = {
    index,
    tender,
    value: tender.value ?? Number.NaN,
    minCut: tender.value ?? -Infinity,
    left: tender.closingTime === null ? Number.NaN : tender.closingTime - now.getTime(),
    missing: (tender.value === null ? FLAG_MIN | FLAG_MAX : 0) | (tender.closingTime === null ? FLAG_CLOSING : 0),
    hits: [],
  };
  forEachReached(index, tender, (records, from, to, stamp) => scan(pass, records, from, to, stamp));
  return pass.hits;
}

/**
 * The baseline: checks every alert. Same answer as {@link matchAlerts}; for tests and the
 * benchmark's ratio.
 */
export function matchAlertsNaive<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender, now: Date): A[] {
  const out: A[] = [];
  for (const c of index.alerts) if (matchesTender(c.compiled, tender, now)) out.push(c.alert);
  return out;
}

/**
 * A readable view of where the index filed each alert, for tests and debugging: per partition,
 * the word (or prefix) each keyword is filed under → alert ids, and the alerts without keywords.
 */
export function describeAlertIndex<A extends AlertLike>(index: AlertIndex<A>) {
  const count = index.partitionCount;
  const names = (map: ReadonlyMap<string, number>) => new Map([...map].map(([name, n]) => [n, name]));
  const words = names(index.vocabulary);
  const prefixes = names(index.prefixes);
  const partitionNames = names(index.partitions);
  const ids = (records: Float64Array, from: number, to: number) => {
    const out = new Set<string>();
    for (let j = from; j < to; j += RECORD) out.add((index.refs[records[j + R_POSITION] as number] as A).id);
    return [...out];
  };
  const out = new Map<string, { byWord: Map<string, string[]>; byPrefix: Map<string, string[]>; withoutKeywords: string[] }>();
  for (const [name, p] of index.partitions) {
    const without = index.withoutKeywords[p] as Float64Array;
    out.set(name, { byWord: new Map(), byPrefix: new Map(), withoutKeywords: ids(without, 0, without.length) });
  }
  index.slotKey.forEach((key, slot) => {
    const term = Math.floor(key / count);
    const entry = out.get(partitionNames.get(key % count) as string);
    const filed = ids(index.records, index.slotStart[slot] as number, index.slotStart[slot + 1] as number);
    if (term < index.vocabulary.size) entry?.byWord.set(words.get(term) as string, filed);
    else entry?.byPrefix.set(prefixes.get(term - index.vocabulary.size) as string, filed);
  });
  return out;
}
