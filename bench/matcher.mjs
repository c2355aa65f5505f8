#!/usr/bin/env node
// `npm run bench:matcher` (issues 7 and 20): 1,000 new tenders against 10,000 and against 100,000
// active alerts, timed inside workerd by bench/matcher-worker.ts under its own `wrangler dev`
// (bench/matcher.wrangler.toml, scratch D1 in .wrangler/bench-matcher, wiped at start, port
// 8900–8909), and the index's memory measured in Node (bench/matcher-memory.ts: heap + array
// buffers it keeps alive, after global.gc(); see there).
//
//   (a) building the compiled alert index, (b) matching the batch through it, in steady state (an
//   index that already served another batch) and as the first batch after a rebuild, (c) the naive
//   loop (every alert checked in full), the ratios (c)/(b), the match rate and candidates per tender;
//   then an ESTIMATE of seed 000's one-SQL-query-per-alert approach: the mean latency of one
//   per-alert tender search (FTS5 MATCH + filters) on a local D1 holding the 1,000 tenders × 10,000.
//
// Each repetition times the naive loop and the index back to back, and the ratios are medians of
// per-repetition ratios, so a burst of load elsewhere on the machine moves both sides of a ratio.
//
// Knobs (env): BENCH_REPS (default 9; at 100,000 alerts BENCH_REPS_LARGE, default 5), BENCH_SQL_QUERIES (default 500),
// BENCH_SEED (default 1; alerts use seed + 1). Writes bench/results-matcher.md. Not part of `npm test`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, fetchJson, freePort, root, startServer, stopServer, waitFor } from "./lib/server.mjs";
import { median, mean } from "./lib/stats.mjs";

const stateDir = path.join(root, ".wrangler", "bench-matcher");
const persist = path.join(stateDir, "state");
const config = path.join(root, "bench", "matcher.wrangler.toml");
const resultsFile = path.join(root, "bench", "results-matcher.md");
const REPS = Number(process.env.BENCH_REPS ?? 9);
const SQL_QUERIES = Number(process.env.BENCH_SQL_QUERIES ?? 500);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const REPS_LARGE = Number(process.env.BENCH_REPS_LARGE ?? 5);
const TENDERS = 1_000;
const ALERTS = 10_000;
const SIZES = [ALERTS, 100_000];
const log = (msg) => console.error(`[bench:matcher] ${msg}`);



const get = (base, pathname, method = "GET") => fetchJson(base, pathname, { method, timeoutMs: 600_000 });

const f = (v, d = 1) => v.toFixed(d);

/** The index's memory per size, from a Node run of bench/matcher-memory.ts with --expose-gc. */
function measureMemory() {
  const tsx = path.join(root, "node_modules", ".bin", "tsx");
  const res = spawnSync(tsx, ["--expose-gc", path.join("bench", "matcher-memory.ts"), ...SIZES.map(String)], { cwd: root, encoding: "utf8", timeout: 600_000 });
  if (res.status !== 0) throw new Error(`matcher-memory failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

async function main() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  log("measuring the index's memory (Node, --expose-gc)");
  const memory = measureMemory();
  log("applying migrations to the scratch D1");
  applyMigrations(persist, ["--config", config]);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting the bench worker on ${base}`);
  const server = startServer(
    "matcher",
    ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
      "--persist-to", persist, "--show-interactive-dev-session=false", "--log-level", "warn"],
    { logFile: path.join(stateDir, "worker.log") },
  );
  try {
    await waitFor(`${base}/ping`, { server, what: "the bench worker" });
    const runs = [];
    for (const alerts of SIZES) {
      const reps = alerts === ALERTS ? REPS : REPS_LARGE;
      log(`matching against ${alerts} alerts (${reps} repetitions)`);
      // At 100,000 alerts one request per repetition (each builds and warms its own index), so no
      // request waits past the HTTP client's 300 s header timeout on a loaded machine.
      const path1 = (r) => `/run?tenders=${TENDERS}&alerts=${alerts}&seed=${SEED}&reps=${r}`;
      let run;
      if (alerts === ALERTS) run = await get(base, path1(reps));
      else {
        for (let i = 0; i < reps; i++) {
          const one = await get(base, path1(1));
          if (!run) run = one;
          else for (const key of ["build_ms", "prepare_ms", "index_ms", "first_batch_ms", "naive_ms"]) run[key].push(...one[key]);
        }
      }
      if (run.matches !== run.naive_matches) throw new Error(`index and naive loop disagree at ${alerts}: ${run.matches} vs ${run.naive_matches}`);
      runs.push({ alerts, reps, run, memory: { ids: memory[`${alerts}:ids`], rows: memory[`${alerts}:rows`] } });
    }
    const q = `tenders=${TENDERS}&alerts=${ALERTS}&seed=${SEED}`;
    log("seeding D1 with the tenders");
    const seeded = await get(base, `/seed?${q}`, "POST");
    log(`${SQL_QUERIES} per-alert SQL searches`);
    await get(base, `/sql?${q}&n=20`); // warm-up
    const sqlRun = await get(base, `/sql?${q}&n=${SQL_QUERIES}`);

    const n = (v) => v.toLocaleString("en-US");
    const cols = runs.map(({ alerts, run, memory: m }) => {
      const index = median(run.index_ms);
      const pairs = TENDERS * alerts;
      return {
        alerts,
        index,
        cells: [
          `${f(median(run.build_ms))} ms`,
          `${f(median(run.prepare_ms))} ms`,
          `**${f(index)} ms**`,
          `${f(median(run.first_batch_ms))} ms`,
          `${f(median(run.naive_ms))} ms`,
          `**${f(median(run.naive_ms.map((ms, i) => ms / run.index_ms[i])))}×**`,
          `${f(median(run.naive_ms.map((ms, i) => ms / run.first_batch_ms[i])))}×`,
          `${n(run.matches)} / ${n(pairs)} = ${f((100 * run.matches) / pairs, 2)} %`,
          `${f(run.candidates / TENDERS)} (${f((100 * run.candidates) / TENDERS / alerts, 1)} %), matches ${f(run.matches / TENDERS)}`,
          `**${f(m.ids.index_mb)} MB**`,
          `${f(m.ids.after_batches_mb)} MB`,
          `${f(m.rows.index_mb)} MB`,
          `${f(m.ids.rows_mb)} MB`,
        ],
      };
    });
    const labels = [
      "Build the compiled index",
      "Prepare 1,000 tenders (tokenise once)",
      "**Match the batch through the index**, steady state (target < 1 s)",
      "Match the batch as the first one after a rebuild",
      "Match the batch naively (every alert fully checked)",
      "**Naive ÷ index**, steady state (target ≥ 50×; median of per-repetition ratios)",
      "Naive ÷ index, first batch after a rebuild",
      "Matches / (tenders × alerts)",
      "Candidates per tender, matches per tender",
      "**Index memory** as the consumer holds it (hits are ids; target ≤ 48 MB at 100,000)",
      "The same after 2 batches of 1,000 tenders (term cache filled)",
      "Index memory when hits are the rows (keeps rows and criteria alive)",
      "The D1 rows themselves (held only while building)",
    ];
    const sqlMean = mean(sqlRun.query_ms);
    const sqlEstimate = sqlMean * ALERTS;
    const head = `| Measure | ${cols.map((c) => `${n(c.alerts)} alerts`).join(" | ")} |`;
    const table = [
      `Alert matching, ${new Date().toISOString().slice(0, 10)}: ${n(TENDERS)} tenders × ${SIZES.map(n).join(" and ")} alerts (bench/matcher-data.ts, seeds ${SEED}/${SEED + 1}). Times inside local workerd, medians of ${runs.map((r) => r.reps).join(" and ")} repetitions; memory in Node (bench/matcher-memory.ts: V8 heap used + array buffers the index keeps alive, after global.gc()); load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(", ")} on ${os.cpus().length} cores`,
      "",
      head,
      `| --- | ${cols.map(() => "---").join(" | ")} |`,
      ...labels.map((label, i) => `| ${label} | ${cols.map((c) => c.cells[i]).join(" | ")} |`),
      "",
      `Seed 000 (one SQL search per alert): mean of ${sqlRun.queries} on a local D1 with ${n(seeded.tenders)} tenders ${f(sqlMean, 2)} ms per query; × 10,000 alerts ≈ ${f(sqlEstimate / 1000, 1)} s (${f(sqlEstimate / (cols[0]?.index ?? 1), 0)}× the index; an estimate, not measured end to end).`,
      "",
      ...runs.map(({ alerts, run }) => `Raw ms at ${n(alerts)} — build: ${run.build_ms.map((x) => f(x)).join(", ")}; index (steady, mean of 5 passes each): ${run.index_ms.map((x) => f(x)).join(", ")}; first batch: ${run.first_batch_ms.map((x) => f(x)).join(", ")}; naive: ${run.naive_ms.map((x) => f(x)).join(", ")}.`),
      `SQL median ${f(median(sqlRun.query_ms), 2)} ms, p95 ${f([...sqlRun.query_ms].sort((a, b) => a - b)[Math.floor(sqlRun.query_ms.length * 0.95)], 2)} ms.`,
      "",
    ].join("\n");
    process.stdout.write(`${table}\n`);
    fs.writeFileSync(resultsFile, table);
    log(`wrote ${path.relative(root, resultsFile)}`);
  } finally {
    await stopServer(server.pid);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
