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
 *   if it contains that word, so its own words, looked up in a Map, give every candidate.
 * - A keyword made only of prefixes is filed under the first PREFIX_KEY_LENGTH (4) characters of
 *   its longest prefix; a tender's words are cut to at most that length and looked up, so a word
 *   costs at most four Map lookups however many prefixes alerts use.
 * - Alerts without keywords are candidates for every tender that reaches their partition.
 * Each candidate is then checked in full with matchesTender, so the index decides only speed,
 * never the answer: matchAlerts returns exactly what checking every alert returns
 * (alert-index.test.ts checks this with fast-check).
 *
 * The index is immutable after building except for a scratch array used to de-duplicate
 * candidates within one synchronous call, so one index can serve a whole isolate.
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

/** The alerts filed under one partition (any tender, one state, or one department). */
export interface Partition {
  /** Word → positions (in `AlertIndex.alerts`) of alerts with a keyword filed under that word. */
  readonly byWord: ReadonlyMap<string, readonly number[]>;
  /** Prefix cut to PREFIX_KEY_LENGTH → positions of alerts with a prefix-only keyword filed under it. */
  readonly byPrefix: ReadonlyMap<string, readonly number[]>;
  /** The distinct lengths of the keys of `byPrefix`, ascending. */
  readonly prefixLengths: readonly number[];
  /** Alerts without keywords: candidates for every tender that reaches this partition. */
  readonly withoutKeywords: readonly number[];
}

export interface AlertIndex<A extends AlertLike> {
  /** The alerts in the order given to {@link buildAlertIndex}. */
  readonly alerts: readonly IndexedAlert<A>[];
  /**
   * `ANY` for alerts that set neither states nor departments; `state:<label>` for alerts that set
   * states (one entry per state); `department:<label>` for alerts that set departments only.
   */
  readonly partitions: ReadonlyMap<string, Partition>;
  /** Scratch for de-duplication: `seen[i] === stamp` means alert i is already a candidate. */
  readonly scratch: { seen: Uint32Array; stamp: number };
}

const ANY = "any";
/** Prefixes are filed by their first characters; candidates are then checked in full. */
export const PREFIX_KEY_LENGTH = 4;
const stateKey = (label: string) => `state:${label}`;
const departmentKey = (label: string) => `department:${label}`;

export interface BuildOptions {
  /**
   * How common a word is in tenders (for example its document count in `tenders_fts`); the index
   * files each keyword under its least common word. Default: how many keywords of these alerts
   * use the word.
   */
  readonly wordFrequency?: (word: string) => number;
}

interface MutablePartition {
  byWord: Map<string, number[]>;
  byPrefix: Map<string, number[]>;
  prefixLengths: number[];
  withoutKeywords: number[];
}

function push(map: Map<string, number[]>, key: string, position: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [position]);
  // An alert may file several keywords under one key; keep it once (positions arrive in order).
  else if (list[list.length - 1] !== position) list.push(position);
}

/**
 * Compiles alerts into an index. Cost is linear in the total size of the criteria; rebuild it when
 * the set of active alerts changes.
 *
 * @example
 * const index = buildAlertIndex(activeAlerts); // [{ id, userId, criteria, ... }]
 * for (const tender of tenders) {
 *   const hits = matchAlerts(index, prepareTender(tender), now); // the alerts, as given
 * }
 */
export function buildAlertIndex<A extends AlertLike>(alerts: readonly A[], options: BuildOptions = {}): AlertIndex<A> {
  const indexed = alerts.map((alert) => ({ alert, compiled: compileCriteria(alert.criteria) }));

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
  const keyOf = (k: CompiledKeyword): { word: string } | { prefix: string } | null => {
    if (k.words.length > 0) return { word: k.words.reduce((best, w) => (better(w, best) ? w : best)) };
    if (k.prefixes.length > 0) {
      const longest = k.prefixes.reduce((best, p) => (p.length > best.length ? p : best));
      return { prefix: longest.slice(0, PREFIX_KEY_LENGTH) };
    }
    return null; // A keyword without words never matches: nothing to file.
  };

  const partitions = new Map<string, MutablePartition>();
  const partition = (key: string): MutablePartition => {
    let p = partitions.get(key);
    if (p === undefined) {
      p = { byWord: new Map(), byPrefix: new Map(), prefixLengths: [], withoutKeywords: [] };
      partitions.set(key, p);
    }
    return p;
  };

  indexed.forEach(({ compiled }, position) => {
    // An alert that sets states can only match a tender in one of them, so it is filed only where
    // such tenders look; likewise departments. States win when both are set (either is correct).
    const keys = compiled.states
      ? [...compiled.states].map(stateKey)
      : compiled.departments
        ? [...compiled.departments].map(departmentKey)
        : [ANY];
    for (const key of keys) {
      const p = partition(key);
      if (compiled.keywords === null) {
        p.withoutKeywords.push(position);
        continue;
      }
      // A tender passes `keywords` only through one of them, so filing each keyword suffices.
      for (const k of compiled.keywords) {
        const filed = keyOf(k);
        if (filed === null) continue;
        if ("word" in filed) push(p.byWord, filed.word, position);
        else push(p.byPrefix, filed.prefix, position);
      }
    }
  });
  for (const p of partitions.values()) {
    p.prefixLengths = [...new Set([...p.byPrefix.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  return { alerts: indexed, partitions, scratch: { seen: new Uint32Array(indexed.length), stamp: 0 } };
}

/** Positions (in `index.alerts`) of the candidates, each once, in no particular order. */
function candidatePositions<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): number[] {
  const { scratch } = index;
  scratch.stamp = (scratch.stamp + 1) >>> 0;
  if (scratch.stamp === 0) {
    // Wrapped after 2^32 calls: old stamps could collide, so start over.
    scratch.seen.fill(0);
    scratch.stamp = 1;
  }
  const { seen, stamp } = scratch;
  const positions: number[] = [];
  const add = (list: readonly number[] | undefined): void => {
    if (list === undefined) return;
    for (const p of list) {
      if (seen[p] !== stamp) {
        seen[p] = stamp;
        positions.push(p);
      }
    }
  };
  const words = tender.sortedWords;

  const visit = (p: Partition | undefined): void => {
    if (p === undefined) return;
    add(p.withoutKeywords);
    if (p.byWord.size > 0) {
      // Walk the smaller side: the tender's words, or the words filed here.
      if (p.byWord.size < words.length) {
        for (const [word, list] of p.byWord) if (tender.words.has(word)) add(list);
      } else {
        for (const word of words) add(p.byWord.get(word));
      }
    }
    if (p.byPrefix.size > 0) {
      for (const word of words) {
        for (const length of p.prefixLengths) {
          if (length > word.length) break;
          add(p.byPrefix.get(length === word.length ? word : word.slice(0, length)));
        }
      }
    }
  };
  visit(index.partitions.get(ANY));
  if (tender.state !== null) visit(index.partitions.get(stateKey(tender.state)));
  if (tender.department !== null) visit(index.partitions.get(departmentKey(tender.department)));
  return positions;
}

/**
 * The alerts that could match the tender: every match and some alerts that fail on a later
 * check, in the order the alerts were given. For tests and for measuring the index.
 *
 * @example candidatesFor(index, prepareTender(tender)).length // usually a small part of index.alerts.length
 */
export function candidatesFor<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender): IndexedAlert<A>[] {
  return Int32Array.from(candidatePositions(index, tender))
    .sort()
    .reduce<IndexedAlert<A>[]>((out, p) => (out.push(index.alerts[p] as IndexedAlert<A>), out), []);
}

/**
 * The alerts the tender matches at `now`, in the order the alerts were given: exactly those for
 * which `matchesTender` holds, found through the index.
 *
 * @example const ids = matchAlerts(index, prepareTender(tender), now).map((a) => a.id);
 */
export function matchAlerts<A extends AlertLike>(index: AlertIndex<A>, tender: PreparedTender, now: Date): A[] {
  const hits: number[] = [];
  for (const p of candidatePositions(index, tender)) {
    if (matchesTender((index.alerts[p] as IndexedAlert<A>).compiled, tender, now)) hits.push(p);
  }
  // Sort only the hits (typed-array sort is numeric and needs no comparator).
  const sorted = Int32Array.from(hits).sort();
  const out = new Array<A>(sorted.length);
  for (let i = 0; i < sorted.length; i++) out[i] = (index.alerts[sorted[i] as number] as IndexedAlert<A>).alert;
  return out;
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
