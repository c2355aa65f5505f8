/**
 * A compiled index of active alerts, so a tender meets only the alerts that could match it
 * (DESIGN.md, Jobs). Pure: built from plain alert objects, no I/O, no clock.
 *
 * How it finds candidates:
 * - Partitions first. An alert that sets states is filed once per state, one that sets only
 *   departments once per department, any other alert once under "any"; a tender visits "any",
 *   its own state and its own department. An alert can only match tenders in its states or
 *   departments, so it is met only by those.
 * - Inside a partition, every keyword of an alert is filed under ONE of its words: the one least
 *   used across all alerts' keywords (a stand-in for "rarest in tenders"; pass `wordFrequency`
 *   to use real document frequencies), longer first on ties. A tender can match the keyword only
 *   if it contains that word, so its own words give every candidate.
 * - A keyword made only of prefixes is filed under its longest prefix. The index keeps every
 *   prefix that alerts use in a trie; a tender word walks it once (then the term cache below
 *   remembers the prefixes it starts with).
 * - Alerts without keywords are candidates for every tender that reaches their partition.
 *
 * How a candidate is checked: only what the way it was found has not already proven, and from
 * flat typed arrays rather than the scattered criteria objects.
 * - Reached through a state partition, the alert's states hold; through a department partition,
 *   its departments. (An alert that sets both is filed by state and checks its departments.)
 * - Every word and every prefix of every keyword has a number (the index's vocabulary). A
 *   tender's words are looked up in a per-index term cache (word → its number and the numbers of
 *   the prefixes it starts with), and those numbers are marked in arrays; a keyword holds when
 *   all its numbers are marked.
 * - Value bounds and the closing window are typed arrays; excludes are keywords of the same
 *   table, checked only for alerts that set them.
 * So the index decides only speed, never the answer: matchAlerts returns exactly what checking
 * every alert with matchesTender returns (alert-index.test.ts checks this with fast-check).
 *
 * The index is immutable after building except for scratch arrays (de-duplication within one
 * synchronous call) and the term cache, so one index can serve a whole isolate.
 */
import type { TenderCriteria } from "../../db/schema";
import type { CompiledCriteria, CompiledKeyword, PreparedTender } from "./match";
import { compileCriteria, matchesTender } from "./match";

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
  /** Every word of every keyword (and exclude) → its number. */
  readonly vocabulary: ReadonlyMap<string, number>;
  /** Every prefix of every keyword (without its `*`) → its number, and the same as a trie. */
  readonly prefixes: ReadonlyMap<string, number>;
  readonly prefixTrie: PrefixNode;
  /**
   * Where keywords are filed, by term (word w as w, prefix x as vocabulary size + x): the term's
   * slots are `termSlot[termSlotStart[t] .. termSlotStart[t + 1])`, one per partition, sorted by
   * the partition numbers in `termSlotPartition` (binary search: no hashing on the hot path).
   */
  readonly termSlotStart: Int32Array;
  readonly termSlotPartition: Int32Array;
  readonly termSlot: Int32Array;
  /** Per slot: its term and partition as `term × partitionCount + partition` (for describeAlertIndex). */
  readonly slotKey: Float64Array;
  readonly partitionCount: number;
  /**
   * The keywords filed in slot s are the entries `slotStart[s] .. slotStart[s + 1]` of
   * `postings`, three numbers each: the alert's position, and the start and end of the keyword's
   * terms in `terms`. One flat array, so a slot is read front to back.
   */
  readonly slotStart: Int32Array;
  readonly postings: Int32Array;
  /** Keyword terms: a word number w as w, a prefix number x as -1 - x. A keyword holds when all are in the tender. */
  readonly terms: Int32Array;
  /** Per partition: positions of the alerts without keywords filed there. */
  readonly withoutKeywords: readonly Int32Array[];
  /**
   * Per alert position, ALERT_STRIDE numbers: what a candidate still has to check (FLAG_*), its
   * value bounds and closing window, and its excludes as a range of `excludes` (pairs of
   * `terms` ranges).
   */
  readonly alertData: Float64Array;
  readonly excludes: Int32Array;
  /**
   * Scratch for one synchronous call: `seen[i] === stamp` means alert i is decided for this
   * tender, `wordSeen[w] === stamp` that the tender has word w, `prefixSeen` likewise.
   */
  readonly scratch: { seen: Uint32Array; wordSeen: Uint32Array; prefixSeen: Uint32Array; stamp: number };
  /** Tender word → what the index knows of it; grows with the words tenders use, cleared past TERM_CACHE_LIMIT. */
  readonly termCache: Map<string, TermInfo>;
}

const ANY = "any";
/** Entries of the term cache before it starts over (bounds an isolate's memory). */
const TERM_CACHE_LIMIT = 200_000;

// alertData layout, per alert.
const ALERT_STRIDE = 6;
const AT_FLAGS = 0;
const AT_MIN = 1;
const AT_MAX = 2;
const AT_CLOSING = 3;
const AT_EXCLUDES_FROM = 4;
const AT_EXCLUDES_TO = 5;

const FLAG_MIN = 1;
const FLAG_MAX = 2;
const FLAG_CLOSING = 4;
const FLAG_EXCLUDES = 8;
/** Sets departments but is filed by state, so reaching it does not prove its departments. */
const FLAG_DEPARTMENTS = 16;

export interface BuildOptions {
  /**
   * How common a word is in tenders (for example its document count in `tenders_fts`); the index
   * files each keyword under its least common word. Default: how many keywords of these alerts
   * use the word.
   */
  readonly wordFrequency?: (word: string) => number;
}

/** A growing list of ints, to build the flat arrays without knowing their size. */
class IntList {
  private data = new Int32Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
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

  // Partitions are numbered first, so keys can be `word × partition count + partition`.
  const partitions = numberer();
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

  const vocabulary = numberer();
  const prefixes = numberer();
  const terms = new IntList();
  /** Appends the keyword's terms; their [start, end) in `terms`. */
  const addTerms = (k: CompiledKeyword): [number, number] => {
    const start = terms.length;
    for (const w of k.words) terms.push(vocabulary.of(w));
    for (const x of k.prefixes) terms.push(-1 - prefixes.of(x));
    return [start, terms.length];
  };
  // Filed keywords: "w<word>:<partition>" or "x<prefix>:<partition>" → flat triples (position, terms start, terms end).
  const filed = new Map<string, { term: { word: number } | { prefix: number }; partition: number; triples: number[] }>();
  const withoutKeywords: number[][] = Array.from({ length: partitionCount }, () => []);
  const alertData = new Float64Array(n * ALERT_STRIDE);
  const excludes = new IntList();

  indexed.forEach(({ compiled: c }, position) => {
    const where = partitionsOfAlert[position] as number[];
    if (c.keywords === null) {
      for (const p of where) withoutKeywords[p]?.push(position);
    } else {
      for (const k of c.keywords) {
        // A keyword without words never matches: nothing to file. A tender passes `keywords` only
        // through one of them, so filing each keyword under one word (or prefix) suffices.
        if (k.words.length === 0 && k.prefixes.length === 0) continue;
        const [start, end] = addTerms(k);
        const term =
          k.words.length > 0
            ? { word: vocabulary.of(k.words.reduce((best, w) => (better(w, best) ? w : best))) }
            : { prefix: prefixes.of(k.prefixes.reduce((best, x) => (x.length > best.length ? x : best))) };
        for (const partition of where) {
          const key = "word" in term ? `w${term.word}:${partition}` : `x${term.prefix}:${partition}`;
          const slot = filed.get(key);
          if (slot === undefined) filed.set(key, { term, partition, triples: [position, start, end] });
          else slot.triples.push(position, start, end);
        }
      }
    }
    let f = 0;
    const at = position * ALERT_STRIDE;
    if (c.minValue !== null) (f |= FLAG_MIN), (alertData[at + AT_MIN] = c.minValue);
    if (c.maxValue !== null) (f |= FLAG_MAX), (alertData[at + AT_MAX] = c.maxValue);
    if (c.closingWithinMs !== null) (f |= FLAG_CLOSING), (alertData[at + AT_CLOSING] = c.closingWithinMs);
    if (c.states && c.departments) f |= FLAG_DEPARTMENTS;
    // Excludes are checked, never filed. One without words excludes nothing.
    alertData[at + AT_EXCLUDES_FROM] = excludes.length;
    for (const k of c.excludes) if (k.words.length + k.prefixes.length > 0) for (const bound of addTerms(k)) excludes.push(bound);
    alertData[at + AT_EXCLUDES_TO] = excludes.length;
    if (excludes.length > (alertData[at + AT_EXCLUDES_FROM] as number)) f |= FLAG_EXCLUDES;
    alertData[at + AT_FLAGS] = f;
  });

  // Lay the slots out one after the other in one array, and index them by term, then partition.
  const vocabularySize = vocabulary.map.size;
  const termCount = vocabularySize + prefixes.map.size;
  const slotList = [...filed.values()].map((slot) => ({
    term: "word" in slot.term ? slot.term.word : vocabularySize + slot.term.prefix,
    partition: slot.partition,
    triples: slot.triples,
  }));
  slotList.sort((a, b) => a.term - b.term || a.partition - b.partition);
  const slotStart = new Int32Array(slotList.length + 1);
  const postings = new Int32Array(slotList.reduce((sum, slot) => sum + slot.triples.length, 0));
  const termSlotStart = new Int32Array(termCount + 1);
  const termSlotPartition = new Int32Array(slotList.length);
  const termSlot = new Int32Array(slotList.length);
  const slotKey = new Float64Array(slotList.length);
  let offset = 0;
  slotList.forEach((slot, i) => {
    slotStart[i] = offset;
    postings.set(slot.triples, offset);
    offset += slot.triples.length;
    termSlotStart[slot.term + 1] = i + 1; // slots are sorted by term: the last one of a term sets its end
    termSlotPartition[i] = slot.partition;
    termSlot[i] = i;
    slotKey[i] = slot.term * partitionCount + slot.partition;
  });
  slotStart[slotList.length] = offset;
  // Terms without slots start where the previous term ended.
  for (let t = 1; t <= termCount; t++) termSlotStart[t] = Math.max(termSlotStart[t] as number, termSlotStart[t - 1] as number);

  return {
    alerts: indexed,
    refs: [...alerts],
    partitions: partitions.map,
    statePartitions,
    departmentPartitions,
    vocabulary: vocabulary.map,
    prefixes: prefixes.map,
    prefixTrie: prefixTrie(prefixes.map),
    termSlotStart,
    termSlotPartition,
    termSlot,
    slotKey,
    partitionCount,
    slotStart,
    postings,
    terms: terms.toArray(),
    withoutKeywords: withoutKeywords.map((list) => Int32Array.from(list)),
    alertData,
    excludes: excludes.toArray(),
    scratch: { seen: new Uint32Array(n), wordSeen: new Uint32Array(vocabulary.map.size), prefixSeen: new Uint32Array(prefixes.map.size), stamp: 0 },
    termCache: new Map(),
  };
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

/**
 * Starts one tender's pass: a new stamp, the tender's words and prefixes marked in the scratch
 * arrays, and the slots it can reach (every partition it visits × its words and prefixes).
 */
function startPass<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): { stamp: number; partitions: number[]; slots: number[] } {
  const { scratch } = index;
  scratch.stamp = (scratch.stamp + 1) >>> 0;
  if (scratch.stamp === 0) {
    // Wrapped after 2^32 passes: old stamps could collide, so start over.
    scratch.seen.fill(0);
    scratch.wordSeen.fill(0);
    scratch.prefixSeen.fill(0);
    scratch.stamp = 1;
  }
  const { stamp, wordSeen, prefixSeen } = scratch;
  const partitions: number[] = [];
  const any = index.partitions.get(ANY);
  if (any !== undefined) partitions.push(any);
  const state = tender.state === null ? undefined : index.statePartitions.get(tender.state);
  if (state !== undefined) partitions.push(state);
  const department = tender.department === null ? undefined : index.departmentPartitions.get(tender.department);
  if (department !== undefined) partitions.push(department);

  const slots: number[] = [];
  const { termSlotStart, termSlotPartition, termSlot } = index;
  /** Adds the term's slot in each of the tender's partitions, found by binary search. */
  const reach = (term: number) => {
    const from = termSlotStart[term] as number;
    const to = termSlotStart[term + 1] as number;
    if (from === to) return;
    for (const p of partitions) {
      let lo = from;
      let hi = to;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((termSlotPartition[mid] as number) < p) lo = mid + 1;
        else hi = mid;
      }
      if (lo < to && termSlotPartition[lo] === p) slots.push(termSlot[lo] as number);
    }
  };
  const vocabularySize = wordSeen.length;
  for (const word of tender.sortedWords) {
    const info = termInfo(index, word);
    if (info.word >= 0) {
      wordSeen[info.word] = stamp;
      reach(info.word);
    }
    if (info.prefixes !== null) {
      for (const x of info.prefixes) {
        if (prefixSeen[x] === stamp) continue; // two words with the same prefix
        prefixSeen[x] = stamp;
        reach(vocabularySize + x);
      }
    }
  }
  return { stamp, partitions, slots };
}

/** Whether the terms `terms[start .. end)` are all in the tender of the pass with this stamp. */
function termsHold<A extends AlertLike>(index: AlertIndex<A>, stamp: number, start: number, end: number): boolean {
  const { terms } = index;
  const { wordSeen, prefixSeen } = index.scratch;
  for (let i = start; i < end; i++) {
    const term = terms[i] as number;
    if ((term >= 0 ? wordSeen[term] : prefixSeen[-1 - term]) !== stamp) return false;
  }
  return true;
}

/**
 * The alerts that could match the tender: every match and some alerts that fail on a later
 * check, in the order the alerts were given. For tests and for measuring the index.
 *
 * @example candidatesFor(index, prepareTender(tender)).length // usually a small part of index.alerts.length
 */
export function candidatesFor<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): IndexedAlert<A>[] {
  const { stamp, partitions, slots } = startPass(index, tender);
  const { seen } = index.scratch;
  const positions: number[] = [];
  const add = (position: number) => {
    if (seen[position] !== stamp) {
      seen[position] = stamp;
      positions.push(position);
    }
  };
  for (const p of partitions) (index.withoutKeywords[p] as Int32Array).forEach(add);
  for (const slot of slots) {
    for (let j = index.slotStart[slot] as number; j < (index.slotStart[slot + 1] as number); j += 3) add(index.postings[j] as number);
  }
  return Int32Array.from(positions)
    .sort()
    .reduce<IndexedAlert<A>[]>((out, p) => (out.push(index.alerts[p] as IndexedAlert<A>), out), []);
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
  const { stamp, partitions, slots } = startPass(index, tender);
  const { seen } = index.scratch;
  const { alerts, refs, alertData, excludes, postings, slotStart } = index;
  const value = tender.value;
  const closingLeft = tender.closingTime === null ? null : tender.closingTime - now.getTime();
  const hits: A[] = [];

  /** The checks that do not depend on the keyword the alert was found through. */
  const passesBounds = (position: number, at: number, f: number): boolean => {
    if (f & FLAG_MIN && (value === null || value < (alertData[at + AT_MIN] as number))) return false;
    if (f & FLAG_MAX && (value === null || value > (alertData[at + AT_MAX] as number))) return false;
    if (f & FLAG_CLOSING && (closingLeft === null || closingLeft < 0 || closingLeft > (alertData[at + AT_CLOSING] as number))) return false;
    if (f & FLAG_DEPARTMENTS) {
      const departments = (alerts[position] as IndexedAlert<A>).compiled.departments;
      if (tender.department === null || !departments?.has(tender.department)) return false;
    }
    return true;
  };
  // Decides the alert once its keyword criterion is known to hold: only its excludes are left.
  const decide = (position: number, at: number, f: number): void => {
    seen[position] = stamp;
    if (f & FLAG_EXCLUDES) {
      const to = alertData[at + AT_EXCLUDES_TO] as number;
      for (let e = alertData[at + AT_EXCLUDES_FROM] as number; e < to; e += 2) {
        if (termsHold(index, stamp, excludes[e] as number, excludes[e + 1] as number)) return;
      }
    }
    hits.push(refs[position] as A);
  };

  for (const p of partitions) {
    const without = index.withoutKeywords[p] as Int32Array;
    for (let i = 0; i < without.length; i++) {
      const position = without[i] as number;
      const at = position * ALERT_STRIDE;
      const f = alertData[at + AT_FLAGS] as number;
      if (seen[position] !== stamp && passesBounds(position, at, f)) decide(position, at, f);
      else seen[position] = stamp;
    }
  }
  for (const slot of slots) {
    const end = slotStart[slot + 1] as number;
    for (let j = slotStart[slot] as number; j < end; j += 3) {
      const position = postings[j] as number;
      if (seen[position] === stamp) continue;
      const at = position * ALERT_STRIDE;
      const f = alertData[at + AT_FLAGS] as number;
      if (!passesBounds(position, at, f)) {
        seen[position] = stamp; // fails whichever keyword it was found through
        continue;
      }
      // Not decided when the keyword fails: another of its keywords may be in another slot.
      if (termsHold(index, stamp, postings[j + 1] as number, postings[j + 2] as number)) decide(position, at, f);
    }
  }
  return hits;
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
  const idOf = (position: number) => (index.alerts[position] as IndexedAlert<A>).alert.id;
  const out = new Map<string, { byWord: Map<string, string[]>; byPrefix: Map<string, string[]>; withoutKeywords: string[] }>();
  for (const [name, p] of index.partitions) out.set(name, { byWord: new Map(), byPrefix: new Map(), withoutKeywords: [...(index.withoutKeywords[p] as Int32Array)].map(idOf) });
  const partitionNames = names(index.partitions);
  index.slotKey.forEach((key, slot) => {
    const term = Math.floor(key / count);
    const isWord = term < index.vocabulary.size;
    const entry = out.get(partitionNames.get(key % count) as string);
    const ids = new Set<string>();
    for (let j = index.slotStart[slot] as number; j < (index.slotStart[slot + 1] as number); j += 3) ids.add(idOf(index.postings[j] as number));
    (isWord ? entry?.byWord : entry?.byPrefix)?.set((isWord ? words.get(term) : prefixes.get(term - index.vocabulary.size)) as string, [...ids]);
  });
  return out;
}
