#!/usr/bin/env node
// `npm run bench:matcher` (issue 7): 1,000 new tenders against 10,000 active alerts, timed inside
// workerd by bench/matcher-worker.ts under its own `wrangler dev` (bench/matcher.wrangler.toml,
// scratch D1 in .wrangler/bench-matcher, wiped at start, port 8900–8909).
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
// Knobs (env): BENCH_REPS (default 9), BENCH_SQL_QUERIES (default 500),
// BENCH_SEED (default 1; alerts use seed + 1). Writes bench/results-matcher.md. Not part of `npm test`.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { applyMigrations, root, startServer, stopServer, waitFor } from "./lib/server.mjs";
import { median, mean } from "./lib/stats.mjs";

const stateDir = path.join(root, ".wrangler", "bench-matcher");
const persist = path.join(stateDir, "state");
const config = path.join(root, "bench", "matcher.wrangler.toml");
const resultsFile = path.join(root, "bench", "results-matcher.md");
const REPS = Number(process.env.BENCH_REPS ?? 9);
const SQL_QUERIES = Number(process.env.BENCH_SQL_QUERIES ?? 500);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const TENDERS = 1_000;
const ALERTS = 10_000;
const log = (msg) => console.error(`[bench:matcher] ${msg}`);


function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function pickPort() {
  for (let p = 8900; p <= 8909; p++) if (await portFree(p)) return p;
  throw new Error("no free port in 8900–8909");
}

async function get(base, pathname, method = "GET") {
  const res = await fetch(base + pathname, { method, signal: AbortSignal.timeout(600_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${pathname} → ${res.status}: ${text.slice(0, 400)}`);
  return JSON.parse(text);
}

const f = (v, d = 1) => v.toFixed(d);

async function main() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  log("applying migrations to the scratch D1");
  applyMigrations(persist, ["--config", config]);

  const port = await pickPort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting the bench worker on ${base}`);
  const server = startServer(
    "matcher",
    ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 10),
      "--persist-to", persist, "--show-interactive-dev-session=false", "--log-level", "warn"],
    { logFile: path.join(stateDir, "worker.log") },
  );
  try {
    await waitFor(`${base}/ping`, { server, what: "the bench worker" });
    const q = `tenders=${TENDERS}&alerts=${ALERTS}&seed=${SEED}`;
    log(`matching (${REPS} repetitions)`);
    const run = await get(base, `/run?${q}&reps=${REPS}`);
    if (run.matches !== run.naive_matches) throw new Error(`index and naive loop disagree: ${run.matches} vs ${run.naive_matches}`);
    log("seeding D1 with the tenders");
    const seeded = await get(base, `/seed?${q}`, "POST");
    log(`${SQL_QUERIES} per-alert SQL searches`);
    await get(base, `/sql?${q}&n=20`); // warm-up
    const sqlRun = await get(base, `/sql?${q}&n=${SQL_QUERIES}`);

    const build = median(run.build_ms);
    const prepare = median(run.prepare_ms);
    const index = median(run.index_ms);
    const firstBatch = median(run.first_batch_ms);
    const naive = median(run.naive_ms);
    const steadyRatio = median(run.naive_ms.map((ms, i) => ms / run.index_ms[i]));
    const firstRatio = median(run.naive_ms.map((ms, i) => ms / run.first_batch_ms[i]));
    const pairs = TENDERS * ALERTS;
    const sqlMean = mean(sqlRun.query_ms);
    const sqlEstimate = sqlMean * ALERTS;
    const rows = [
      ["Build the compiled index (10,000 alerts)", `${f(build)} ms`],
      ["Prepare 1,000 tenders (tokenise once)", `${f(prepare)} ms`],
      ["**Match the batch through the index**, steady state (target < 1 s)", `**${f(index)} ms**`],
      ["Match the batch as the first one after a rebuild", `${f(firstBatch)} ms`],
      ["Match the batch naively (every alert fully checked)", `${f(naive)} ms`],
      ["**Naive ÷ index**, steady state (target ≥ 50×; median of per-repetition ratios)", `**${f(steadyRatio)}×**`],
      ["Naive ÷ index, first batch after a rebuild", `${f(firstRatio)}×`],
      ["Matches / (tenders × alerts)", `${run.matches.toLocaleString("en-US")} / ${pairs.toLocaleString("en-US")} = ${f((100 * run.matches) / pairs, 2)} %`],
      ["Candidates per tender (of 10,000 alerts)", `${f(run.candidates / TENDERS)} (${f((100 * run.candidates) / TENDERS / ALERTS, 1)} %), matches per tender ${f(run.matches / TENDERS)}`],
      [`Seed 000: one SQL search per alert, mean of ${sqlRun.queries} on a local D1 with ${seeded.tenders.toLocaleString("en-US")} tenders`, `${f(sqlMean, 2)} ms per query`],
      ["Seed 000 estimate: × 10,000 alerts (not measured end to end)", `≈ ${f(sqlEstimate / 1000, 1)} s (${f(sqlEstimate / index, 0)}× the index)`],
    ];
    const table = [
      `Alert matching, ${new Date().toISOString().slice(0, 10)}: ${TENDERS.toLocaleString("en-US")} tenders × ${ALERTS.toLocaleString("en-US")} alerts (bench/matcher-data.ts, seeds ${SEED}/${SEED + 1}), inside local workerd, median of ${REPS} repetitions`,
      "",
      "| Measure | Result |",
      "| --- | --- |",
      ...rows.map(([a, b]) => `| ${a} | ${b} |`),
      "",
      `Raw ms — build: ${run.build_ms.map((x) => f(x)).join(", ")}; index (steady, mean of 5 passes each): ${run.index_ms.map((x) => f(x)).join(", ")}; first batch: ${run.first_batch_ms.map((x) => f(x)).join(", ")}; naive: ${run.naive_ms.map((x) => f(x)).join(", ")}; SQL median ${f(median(sqlRun.query_ms), 2)} ms, p95 ${f([...sqlRun.query_ms].sort((a, b) => a - b)[Math.floor(sqlRun.query_ms.length * 0.95)], 2)} ms.`,
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
