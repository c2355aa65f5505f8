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
 * Memory (issue 20: 100,000 active alerts must fit a Worker's 128 MB with room to spare): the index
 * keeps no per-alert objects and no strings but one per distinct word, prefix and label. Per
 * filed keyword a record of four int32 (16 bytes); per alert its bounds (three float64) and CSR
 * offsets into shared int32 arrays for excludes and departments; per alert what it
 * returns for a hit (`result`: the alert itself by default; the consumer keeps only the id). The
 * criteria are compiled during the build and dropped: `compileAlerts` + `matchAlertsNaive` is the
 * separate baseline. `npm run bench:matcher` measures the heap it retains.
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

/** An alert with its compiled criteria: the naive baseline's input ({@link compileAlerts}). */
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

/** An index of alerts whose hits are `R`s (the alerts themselves unless built with `result`). */
export interface AlertIndex<R> {
  /** Number of alerts indexed. */
  readonly size: number;
  /** Per alert position, in the order given to {@link buildAlertIndex}: what a hit returns. */
  readonly refs: readonly R[];
  /**
   * Partition numbers: `any` for alerts that set neither states nor departments;
   * `state:<label>` for alerts that set states (one per state); `department:<label>` for alerts
   * that set departments only.
   */
  readonly partitions: ReadonlyMap<string, number>;
  readonly statePartitions: ReadonlyMap<string, number>;
  readonly departmentPartitions: ReadonlyMap<string, number>;
  readonly partitionCount: number;
  /** Every department label an alert filed by state also sets → its number in `departments`. */
  readonly departmentNumbers: ReadonlyMap<string, number>;
  /** Every word of every keyword (and exclude) → its number. Terms: word w is term w. */
  readonly vocabulary: ReadonlyMap<string, number>;
  /** Every prefix of every keyword (without its `*`) → its number, and the same as a trie. Prefix x is term vocabulary.size + x. */
  readonly prefixes: ReadonlyMap<string, number>;
  readonly prefixTrie: PrefixNode;
  readonly termCount: number;
  /**
   * Where keywords are filed, by term: slots are numbered by term, then partition, so the term's
   * slots are `termSlotStart[t] .. termSlotStart[t + 1]`, one per partition, whose partition
   * numbers are in `slotPartition` (binary search: no hashing on the hot path).
   */
  readonly termSlotStart: Int32Array;
  readonly slotPartition: Int32Array;
  /**
   * The same as a table, when it is small enough (by default at most DENSE_SLOT_LIMIT entries and
   * at most SLOT_TABLE_PER_SLOT entries per slot that exists; else `slotTableLimit` entries): the slot of term t in partition p is
   * `slotTable[p × termCount + t]`, or -1. One read instead of a search.
   */
  readonly slotTable: Int32Array | null;
  /**
   * The records of slot s are `records[slotStart[s] .. slotStart[s + 1])`, RECORD int32 each: the
   * alert's position, its other terms (from, to) in `terms`, and its FLAG_* in the low 8 bits with
   * the rank of its minimum value above them (0: unset; r: `minimums[r - 1]`).
   */
  readonly slotStart: Int32Array;
  readonly records: Int32Array;
  /** Per partition: the records of the alerts without keywords filed there. */
  readonly withoutKeywords: readonly Int32Array[];
  /** The terms left to check, for records and excludes: ranges of this array, of term numbers. */
  readonly terms: Int32Array;
  /** Per alert position p: minimum value at 3p (−∞ unset), maximum at 3p + 1 (+∞), closing window in ms at 3p + 2 (+∞). */
  readonly bounds: Float64Array;
  /** The distinct minimum values the alerts set, ascending: a record's minimum is checked by its rank. */
  readonly minimums: Float64Array;
  /** Alert p's excludes are the pairs (start, end) of `terms` ranges at `excludes[excludeStart[p] .. excludeStart[p + 1])`. */
  readonly excludeStart: Int32Array;
  readonly excludes: Int32Array;
  /** Alert p's departments (when FLAG_DEPARTMENTS) are `departments[departmentStart[p] .. departmentStart[p + 1])`. */
  readonly departmentStart: Int32Array;
  readonly departments: Int32Array;
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
/** Entries of the term cache before it starts over (bounds an isolate's memory: a few MB at most). */
const TERM_CACHE_LIMIT = 50_000;
/** What the term cache holds for the many tender words no alert uses: one shared object. */
const UNKNOWN_TERM: TermInfo = { word: -1, prefixes: null };
/** Largest partitions × terms for which the slot table is built by default (4 bytes each: 4 MB). */
const DENSE_SLOT_LIMIT = 1_000_000;
/**
 * Entries of the slot table per slot that exists: a sparse table (many terms, each used in few
 * partitions) would cost more than the records it points to, so it is searched instead.
 */
const SLOT_TABLE_PER_SLOT = 16;

// A record: one filed keyword (or one alert without keywords): the alert, the keyword's other
// terms, the alert's flags and the rank of its minimum value (read in sequence; the alert's
// bounds only when a flag says it sets a maximum or a closing window).
const RECORD = 4; // 16 bytes
const R_POSITION = 0;
const R_TERMS_FROM = 1;
const R_TERMS_TO = 2;
const R_FLAGS = 3;
/** Bits of R_FLAGS below the minimum's rank. */
const RANK_SHIFT = 8;
// Per alert, in `bounds`.
const B_MIN = 0;
const B_MAX = 1;
/** Most time left before closing, in ms (a set window also needs at least 0 left). */
const B_CLOSING = 2;

const FLAG_MIN = 1;
const FLAG_MAX = 2;
const FLAG_CLOSING = 4;
const FLAG_EXCLUDES = 8;
/** Sets departments but is filed by state, so reaching it does not prove its departments. */
const FLAG_DEPARTMENTS = 16;
/** One record per partition (one keyword, or none): it cannot be met twice in a pass, so it needs no mark. */
const FLAG_SOLE = 32;
/** The flags that need the alert's `bounds`. */
const FLAG_BOUNDS = FLAG_MAX | FLAG_CLOSING;

export interface BuildOptions<A extends AlertLike = AlertLike, R = A> {
  /**
   * How common a word is in tenders (for example its document count in `tenders_fts`); the index
   * files each keyword under its least common word. Default: how many keywords of these alerts
   * use the word.
   */
  readonly wordFrequency?: (word: string) => number;
  /** Largest partitions × terms for which a slot table is built (default: see `slotTable`); 0 always searches. */
  readonly slotTableLimit?: number;
  /**
   * What a hit returns for an alert (default: the alert itself). Return only what the caller
   * needs (the consumer: the id), so the index does not keep the rows and their criteria alive.
   */
  readonly result?: (alert: A) => R;
}

/** A growing list of numbers in a typed array, to build the flat arrays without knowing their size. */
class NumberList {
  length = 0;
  private data = new Int32Array(64);
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

const numberer = () => {
  const map = new Map<string, number>();
  return { map, of: (key: string) => map.get(key) ?? (map.set(key, map.size), map.size - 1) };
};

/**
 * Compiles alerts into an index. Cost is linear in the total size of the criteria; rebuild it when
 * the set of active alerts changes. Each alert's criteria are compiled once and dropped: peak
 * memory is the index plus one alert's compiled criteria and the build's own lists.
 *
 * @example
 * const index = buildAlertIndex(activeAlerts); // [{ id, userId, criteria, ... }]
 * for (const tender of tenders) {
 *   const hits = matchAlerts(index, prepareTender(tender), now); // the alert objects given
 * }
 * const byId = buildAlertIndex(activeAlerts, { result: (a) => a.id }); // hits are ids
 */
export function buildAlertIndex<A extends AlertLike, R = A>(alerts: readonly A[], options: BuildOptions<A, R> = {}): AlertIndex<R> {
  const n = alerts.length;
  const partitions = numberer();
  partitions.of(ANY); // ANY_PARTITION
  const statePartitions = new Map<string, number>();
  const departmentPartitions = new Map<string, number>();
  const departmentNumbers = numberer();
  const vocabulary = numberer();
  const prefixes = numberer();
  /** Per alert, its FLAG_* (copied into its records). */
  const flags = new Uint8Array(n);
  const bounds = new Float64Array(3 * n);
  const departmentStart = new Int32Array(n + 1);
  const departments = new NumberList();
  /** How many keywords use each word (by vocabulary number), for the default frequency. */
  const uses: number[] = [];

  // Pass 1: compile each alert and write it as numbers into one flat list (the compiled criteria
  // become garbage at once, and the build holds no object per alert). Per alert, in order: its
  // partitions (count, numbers), its keywords (count, or -1 when unset; each as word count, words,
  // prefix count, prefixes), its excludes (the same). Pass 2 reads it back in the same order.
  const shape = new NumberList();
  const pushKeyword = (k: CompiledKeyword) => {
    shape.push(k.words.length);
    for (const w of k.words) shape.push(vocabulary.of(w));
    shape.push(k.prefixes.length);
    for (const x of k.prefixes) shape.push(prefixes.of(x));
  };
  const hasWords = (k: CompiledKeyword) => k.words.length + k.prefixes.length > 0;
  for (let position = 0; position < n; position++) {
    const c = compileCriteria((alerts[position] as A).criteria);
    // An alert that sets states can only match a tender in one of them, so it is filed only where
    // such tenders look; likewise departments. States win when both are set (either is correct).
    const file = (labels: ReadonlySet<string>, kind: string, byLabel: Map<string, number>) =>
      [...labels].map((label) => {
        const p = partitions.of(`${kind}:${label}`);
        byLabel.set(label, p);
        return p;
      });
    const where = c.states ? file(c.states, "state", statePartitions) : c.departments ? file(c.departments, "department", departmentPartitions) : [ANY_PARTITION];
    shape.push(where.length);
    for (const p of where) shape.push(p);
    let f = 0;
    if (c.minValue !== null) f |= FLAG_MIN;
    if (c.maxValue !== null) f |= FLAG_MAX;
    if (c.closingWithinMs !== null) f |= FLAG_CLOSING;
    if (c.states && c.departments) {
      f |= FLAG_DEPARTMENTS;
      for (const label of c.departments) departments.push(departmentNumbers.of(label));
    }
    departmentStart[position + 1] = departments.length;
    bounds[3 * position + B_MIN] = c.minValue ?? -Infinity;
    bounds[3 * position + B_MAX] = c.maxValue ?? Infinity;
    bounds[3 * position + B_CLOSING] = c.closingWithinMs ?? Infinity;
    // A keyword without words never matches (nothing to file), and as an exclude removes nothing.
    const keywords = c.keywords?.filter(hasWords) ?? null;
    shape.push(keywords === null ? -1 : keywords.length);
    for (const k of keywords ?? []) {
      pushKeyword(k);
      for (const w of k.words) {
        const number = vocabulary.of(w);
        uses[number] = (uses[number] ?? 0) + 1;
      }
    }
    // A tender passes `keywords` only through one of them: one keyword, or none, means one record
    // per partition.
    if (keywords === null || keywords.length === 1) f |= FLAG_SOLE;
    const excluding = c.excludes.filter(hasWords);
    shape.push(excluding.length);
    for (const k of excluding) pushKeyword(k);
    if (excluding.length > 0) f |= FLAG_EXCLUDES;
    flags[position] = f;
  }
  const partitionCount = Math.max(partitions.map.size, 1);
  const vocabularySize = vocabulary.map.size;
  const termCount = vocabularySize + prefixes.map.size;
  const words = [...vocabulary.map.keys()];
  const prefixTexts = [...prefixes.map.keys()];
  const freq = words.map((w, i) => (options.wordFrequency ? options.wordFrequency(w) : (uses[i] ?? 0)));
  // Least frequent first, then longer (longer words tend to be rarer), then by text for determinism.
  const better = (a: number, b: number): boolean => {
    const fa = freq[a] as number;
    const fb = freq[b] as number;
    if (fa !== fb) return fa < fb;
    const wa = words[a] as string;
    const wb = words[b] as string;
    if (wa.length !== wb.length) return wa.length > wb.length;
    return wa < wb;
  };

  // Minimum values by rank (ascending), so a record carries its minimum as an int: 0 when unset.
  const minimumSet = new Set<number>();
  for (let p = 0; p < n; p++) if (bounds[3 * p + B_MIN] !== -Infinity) minimumSet.add(bounds[3 * p + B_MIN] as number);
  const minimums = Float64Array.from(minimumSet).sort();
  if (minimums.length >= 2 ** (32 - RANK_SHIFT)) throw new Error("alert index: too many distinct minimum values for a record");
  const rankOf = new Map<number, number>();
  minimums.forEach((v, i) => rankOf.set(v, i + 1));
  /** Per alert, R_FLAGS of its records. */
  const word = Int32Array.from(flags, (f, p) => f | ((rankOf.get(bounds[3 * p + B_MIN] as number) ?? 0) << RANK_SHIFT));

  const terms = new NumberList();
  const flat = shape.toArray();
  let at = 0;
  const next = () => flat[at++] as number;
  /**
   * Reads the next keyword of `flat`, appends its terms but the one it is filed under (its least
   * common word, else its longest prefix; none with `file` false) to `terms`; returns that term
   * (-1 with `file` false) and the [start, end) of the others.
   */
  const readKeyword = (file: boolean): [number, number, number] => {
    const wordsAt = at + 1;
    const wordCount = flat[at] as number;
    const prefixesAt = wordsAt + wordCount + 1;
    const prefixCount = flat[prefixesAt - 1] as number;
    at = prefixesAt + prefixCount;
    let term = -1;
    if (file && wordCount > 0) {
      let best = flat[wordsAt] as number;
      for (let i = 1; i < wordCount; i++) if (better(flat[wordsAt + i] as number, best)) best = flat[wordsAt + i] as number;
      term = best;
    } else if (file) {
      let best = flat[prefixesAt] as number;
      for (let i = 1; i < prefixCount; i++) if ((prefixTexts[flat[prefixesAt + i] as number] as string).length > (prefixTexts[best] as string).length) best = flat[prefixesAt + i] as number;
      term = vocabularySize + best;
    }
    const start = terms.length;
    for (let i = 0; i < wordCount; i++) if (flat[wordsAt + i] !== term) terms.push(flat[wordsAt + i] as number);
    for (let i = 0; i < prefixCount; i++) if (vocabularySize + (flat[prefixesAt + i] as number) !== term) terms.push(vocabularySize + (flat[prefixesAt + i] as number));
    return [term, start, terms.length];
  };

  // Pass 2: file. Records by slot key (`term × partitionCount + partition`), or by partition for alerts without keywords.
  const excludeStart = new Int32Array(n + 1);
  const excludes = new NumberList();
  const filed = new Map<number, number[]>();
  const without: number[][] = Array.from({ length: partitionCount }, () => []);
  for (let position = 0; position < n; position++) {
    const whereCount = next();
    const whereAt = at;
    at += whereCount;
    const keywordCount = next();
    if (keywordCount === -1) {
      for (let i = 0; i < whereCount; i++) without[flat[whereAt + i] as number]?.push(position, 0, 0, word[position] as number);
    }
    for (let k = 0; k < keywordCount; k++) {
      const [term, from, to] = readKeyword(true);
      for (let i = 0; i < whereCount; i++) {
        const key = term * partitionCount + (flat[whereAt + i] as number);
        const list = filed.get(key);
        if (list === undefined) filed.set(key, [position, from, to, word[position] as number]);
        else list.push(position, from, to, word[position] as number);
      }
    }
    const excludeCount = next();
    for (let k = 0; k < excludeCount; k++) {
      const [, from, to] = readKeyword(false);
      excludes.push(from);
      excludes.push(to);
    }
    excludeStart[position + 1] = excludes.length;
  }

  // Lay the slots out one after the other, sorted by term then partition, and index them by term.
  const keys = [...filed.keys()].sort((a, b) => a - b);
  const slotStart = new Int32Array(keys.length + 1);
  const records = new Int32Array(keys.reduce((sum, key) => sum + (filed.get(key) as number[]).length, 0));
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
  const tableLimit = options.slotTableLimit ?? Math.min(DENSE_SLOT_LIMIT, SLOT_TABLE_PER_SLOT * Math.max(keys.length, 1));
  if (tableLimit > 0 && partitionCount * termCount <= tableLimit) {
    slotTable = new Int32Array(partitionCount * termCount).fill(-1);
    keys.forEach((key, slot) => {
      (slotTable as Int32Array)[(key % partitionCount) * termCount + Math.floor(key / partitionCount)] = slot;
    });
  }

  const result = options.result;
  return {
    size: n,
    refs: result ? alerts.map(result) : (alerts.slice() as unknown as R[]),
    partitions: partitions.map,
    statePartitions,
    departmentPartitions,
    partitionCount,
    departmentNumbers: departmentNumbers.map,
    vocabulary: vocabulary.map,
    prefixes: prefixes.map,
    prefixTrie: prefixTrie(prefixes.map),
    termCount,
    termSlotStart,
    slotPartition,
    slotTable,
    slotStart,
    records,
    withoutKeywords: without.map((list) => Int32Array.from(byMinValue(list))),
    terms: terms.toArray(),
    bounds,
    minimums,
    excludeStart,
    excludes: excludes.toArray(),
    departmentStart,
    departments: departments.toArray(),
    scratch: { seen: new Uint32Array(n), termSeen: new Uint32Array(termCount), stamp: 0 },
    termCache: new Map(),
  };
}

/**
 * Records (flat, RECORD numbers each) sorted by their alert's minimum value (its rank), unset
 * first: a scan can stop at the first record whose minimum is above the tender's value, since all
 * later ones are too.
 */
function byMinValue(list: readonly number[]): number[] {
  const count = list.length / RECORD;
  const order = Array.from({ length: count }, (_, i) => i);
  const rank = (i: number) => (list[i * RECORD + R_FLAGS] as number) >>> RANK_SHIFT;
  order.sort((a, b) => rank(a) - rank(b) || (list[a * RECORD + R_POSITION] as number) - (list[b * RECORD + R_POSITION] as number));
  const out: number[] = new Array(list.length);
  order.forEach((i, k) => {
    for (let j = 0; j < RECORD; j++) out[k * RECORD + j] = list[i * RECORD + j] as number;
  });
  return out;
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
function termInfo<R>(index: AlertIndex<R>, word: string): TermInfo {
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
  const number = index.vocabulary.get(word) ?? -1;
  info = number === -1 && prefixes === null ? UNKNOWN_TERM : { word: number, prefixes };
  if (index.termCache.size >= TERM_CACHE_LIMIT) index.termCache.clear();
  index.termCache.set(word, info);
  return info;
}

/** A new stamp for one tender's pass: `seen[i] === stamp` and the like mark things within it. */
function nextStamp(scratch: AlertIndex<unknown>["scratch"]): number {
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
function tenderTerms<R>(index: AlertIndex<R>, tender: PreparedTender, stamp: number): number[] {
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
function tenderPartitions<R>(index: AlertIndex<R>, tender: PreparedTender): number[] {
  const out = [ANY_PARTITION];
  const state = tender.state === null ? undefined : index.statePartitions.get(tender.state);
  if (state !== undefined) out.push(state);
  const department = tender.department === null ? undefined : index.departmentPartitions.get(tender.department);
  if (department !== undefined) out.push(department);
  return out;
}

/** The slot of a term in a partition (from the table, else by binary search of the term's slots), or -1. */
function slotOf<R>(index: AlertIndex<R>, term: number, partition: number): number {
  const { termSlotStart, slotPartition, slotTable } = index;
  if (slotTable !== null) return slotTable[partition * index.termCount + term] as number;
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
function termsHold<R>(index: AlertIndex<R>, stamp: number, start: number, end: number): boolean {
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
function forEachReached<R>(index: AlertIndex<R>, tender: PreparedTender, visit: (records: Int32Array, from: number, to: number, stamp: number) => void): void {
  const stamp = nextStamp(index.scratch);
  const terms = tenderTerms(index, tender, stamp);
  const { records, slotStart } = index;
  for (const p of tenderPartitions(index, tender)) {
    const without = index.withoutKeywords[p] as Int32Array;
    visit(without, 0, without.length, stamp);
    for (const term of terms) {
      const slot = slotOf(index, term, p);
      if (slot >= 0) visit(records, slotStart[slot] as number, slotStart[slot + 1] as number, stamp);
    }
  }
}

/**
 * The alerts that could match the tender: every match and some alerts that fail on a later
 * check, in the order the alerts were given (as the index returns them). For tests and for
 * measuring the index.
 *
 * @example candidatesFor(index, prepareTender(tender)).length // usually a small part of index.size
 */
export function candidatesFor<R>(index: AlertIndex<R>, tender: PreparedTender): R[] {
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
  return Array.from(Int32Array.from(positions).sort(), (p) => index.refs[p] as R);
}

/** One tender's pass: what every record is checked against. */
interface Pass<R> {
  readonly index: AlertIndex<R>;
  /** The tender's value and time left before closing (ms), NaN when it has none. */
  readonly value: number;
  /** The highest rank of a minimum value the tender meets (`minimums`): 0 without a value (it meets no set minimum). */
  readonly minCut: number;
  readonly left: number;
  /** The tender's department number among the alerts' (`departmentNumbers`), or -1. */
  readonly department: number;
  /** The FLAG_* that fail because the tender has no value or no closing date (NaN compares false). */
  readonly missing: number;
  readonly hits: R[];
}

/** How many of the ascending `values` are ≤ `value` (binary search). */
function ranksAtMost(values: Float64Array, value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether one of the alert's excludes occurs in the tender of the pass. */
function excluded<R>(index: AlertIndex<R>, stamp: number, position: number): boolean {
  const { excludes } = index;
  const to = index.excludeStart[position + 1] as number;
  for (let e = index.excludeStart[position] as number; e < to; e += 2) {
    if (termsHold(index, stamp, excludes[e] as number, excludes[e + 1] as number)) return true;
  }
  return false;
}

/** Whether the alert (filed by state) sets the tender's department. */
function inDepartment<R>(index: AlertIndex<R>, position: number, department: number): boolean {
  const { departments } = index;
  const to = index.departmentStart[position + 1] as number;
  for (let d = index.departmentStart[position] as number; d < to; d++) if (departments[d] === department) return true;
  return false;
}

/** Checks the records `records[from .. to)` and adds the alerts that match to `pass.hits`. */
function scan<R>(pass: Pass<R>, records: Int32Array, from: number, to: number, stamp: number): void {
  const { index, value, minCut, left, missing } = pass;
  const { seen } = index.scratch;
  const { bounds } = index;
  for (let j = from; j < to; j += RECORD) {
    const flags = records[j + R_FLAGS] as number;
    // Records are sorted by minimum value, unset first (byMinValue): from here on, every one asks for more.
    if (flags >>> RANK_SHIFT > minCut) break;
    const position = records[j + R_POSITION] as number;
    if ((flags & missing) !== 0) continue;
    if ((flags & FLAG_BOUNDS) !== 0) {
      const b = 3 * position;
      if ((flags & FLAG_MAX) !== 0 && value > (bounds[b + B_MAX] as number)) continue;
      if ((flags & FLAG_CLOSING) !== 0 && (left < 0 || left > (bounds[b + B_CLOSING] as number))) continue;
    }
    const sole = (flags & FLAG_SOLE) !== 0;
    if (!sole && seen[position] === stamp) continue; // already decided through another keyword
    if ((flags & FLAG_DEPARTMENTS) !== 0 && (pass.department < 0 || !inDepartment(index, position, pass.department))) continue;
    // The keyword's other terms; when they fail, another keyword of the alert may still hold.
    if (!termsHold(index, stamp, records[j + R_TERMS_FROM] as number, records[j + R_TERMS_TO] as number)) continue;
    if (!sole) seen[position] = stamp;
    if ((flags & FLAG_EXCLUDES) !== 0 && excluded(index, stamp, position)) continue;
    pass.hits.push(index.refs[position] as R);
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
export function matchAlerts<R>(index: AlertIndex<R>, tender: PreparedTender, now: Date): R[] {
  const pass: Pass<R> = {
    index,
    value: tender.value ?? Number.NaN,
    minCut: tender.value === null ? 0 : ranksAtMost(index.minimums, tender.value),
    left: tender.closingTime === null ? Number.NaN : tender.closingTime - now.getTime(),
    department: tender.department === null ? -1 : (index.departmentNumbers.get(tender.department) ?? -1),
    missing: (tender.value === null ? FLAG_MIN | FLAG_MAX : 0) | (tender.closingTime === null ? FLAG_CLOSING : 0),
    hits: [],
  };
  forEachReached(index, tender, (records, from, to, stamp) => scan(pass, records, from, to, stamp));
  return pass.hits;
}

/** The alerts with their compiled criteria: the input of the naive baseline. */
export function compileAlerts<A extends AlertLike>(alerts: readonly A[]): IndexedAlert<A>[] {
  return alerts.map((alert) => ({ alert, compiled: compileCriteria(alert.criteria) }));
}

/**
 * The baseline: checks every alert. Same answer as {@link matchAlerts}; for tests and the
 * benchmark's ratio.
 *
 * @example matchAlertsNaive(compileAlerts(alerts), prepareTender(tender), now)
 */
export function matchAlertsNaive<A extends AlertLike>(alerts: readonly IndexedAlert<A>[], tender: PreparedTender, now: Date): A[] {
  const out: A[] = [];
  for (const c of alerts) if (matchesTender(c.compiled, tender, now)) out.push(c.alert);
  return out;
}

/**
 * A readable view of where the index filed each alert, for tests and debugging: per partition,
 * the word (or prefix) each keyword is filed under → alert ids, and the alerts without keywords.
 */
export function describeAlertIndex<R extends { readonly id: string }>(index: AlertIndex<R>) {
  const names = (map: ReadonlyMap<string, number>) => new Map([...map].map(([name, n]) => [n, name]));
  const words = names(index.vocabulary);
  const prefixes = names(index.prefixes);
  const partitionNames = names(index.partitions);
  const ids = (records: Int32Array, from: number, to: number) => {
    const out = new Set<string>();
    for (let j = from; j < to; j += RECORD) out.add((index.refs[records[j + R_POSITION] as number] as R).id);
    return [...out];
  };
  const out = new Map<string, { byWord: Map<string, string[]>; byPrefix: Map<string, string[]>; withoutKeywords: string[] }>();
  for (const [name, p] of index.partitions) {
    const without = index.withoutKeywords[p] as Int32Array;
    out.set(name, { byWord: new Map(), byPrefix: new Map(), withoutKeywords: ids(without, 0, without.length) });
  }
  for (let term = 0; term < index.termCount; term++) {
    for (let slot = index.termSlotStart[term] as number; slot < (index.termSlotStart[term + 1] as number); slot++) {
      const entry = out.get(partitionNames.get(index.slotPartition[slot] as number) as string);
      const filed = ids(index.records, index.slotStart[slot] as number, index.slotStart[slot + 1] as number);
      if (term < index.vocabulary.size) entry?.byWord.set(words.get(term) as string, filed);
      else entry?.byPrefix.set(prefixes.get(term - index.vocabulary.size) as string, filed);
    }
  }
  return out;
}
