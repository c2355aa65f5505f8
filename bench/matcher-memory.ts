/**
 * Memory of the compiled alert index, measured in Node (bench/matcher.mjs runs it as
 * `tsx --expose-gc bench/matcher-memory.ts 10000 100000`; prints JSON on stdout).
 *
 * How: the alerts are made as D1 returns them (fresh strings per row: 30-character ids like
 * `alr_…`, criteria parsed from their JSON text). The index is built from them, the rows are
 * dropped, and the heap is collected (`global.gc()`, twice). Memory = V8 heap used + array buffers
 * with only the index held, minus the same before the rows existed. So it counts everything the
 * index keeps alive (typed arrays, maps, strings, what hits return), as an isolate holding only
 * the cached index pays. Then 2 batches of 1,000 tenders go through it (the term cache fills)
 * and it is measured again. Two ways to build it:
 * - `ids`: as the consumer does (alert-matching.service.ts `matchingIndex`: hits are alert ids);
 * - `rows`: hits are the rows themselves, so the index keeps them and their criteria alive.
 * Node's V8, not workerd's build of it; the same module and object layouts.
 */
import { buildAlertIndex, type AlertIndex } from "../src/features/alerts/alert-index";
import { prepareTender } from "../src/features/tenders/match";
import { BENCH_NOW, generateAlerts, generateTenders } from "./matcher-data";
import { matchAlerts } from "../src/features/alerts/alert-index";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

/** Heap + array buffers after full collections (with pauses: array buffers are freed by a concurrent sweeper). */
const used = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

type Row = { id: string; userId: string; criteria: Parameters<typeof buildAlertIndex>[0][number]["criteria"] };
/** Rows as D1 would give them: every string fresh, criteria parsed from its JSON column. */
const rows = (n: number, seed: number): Row[] =>
  generateAlerts(n, seed).map((a, i) =>
    JSON.parse(JSON.stringify({ id: `alr_${String(i).padStart(26, "0")}`, userId: `usr_${String(Math.floor(i / 5)).padStart(26, "0")}`, criteria: a.criteria })),
  );

const batches = [generateTenders(1_000, 1), generateTenders(1_000, 1_001)].map((b) => b.map(prepareTender));
const MB = 1024 * 1024;
const out: Record<string, Record<string, number>> = {};
for (const n of process.argv.slice(2).map(Number)) {
  for (const kind of ["ids", "rows"] as const) {
    const before = await used();
    let input: Row[] | null = rows(n, 2);
    const rowsBytes = await used() - before;
    let index: AlertIndex<unknown> | null = kind === "ids" ? buildAlertIndex(input, { result: (a) => a.id }) : buildAlertIndex(input);
    input = null;
    const built = await used() - before;
    for (const batch of batches) for (const t of batch) matchAlerts(index, t, BENCH_NOW);
    const steady = await used() - before;
    index = null;
    out[`${n}:${kind}`] = { alerts: n, rows_mb: rowsBytes / MB, index_mb: built / MB, after_batches_mb: steady / MB };
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
