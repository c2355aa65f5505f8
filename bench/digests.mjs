#!/usr/bin/env node
// `npm run bench:digests` (issue 19): the digest job (sendDueDigests, src/features/alert-delivery/
// digests.service.ts, run by each 15-minute cron tick) at BENCH_USERS users (default 100,000), every
// one with pending matches, over one simulated hour: 4 ticks at 15-minute steps with an injected
// `now`. Runs bench/digests-worker.ts under its own `wrangler dev` (bench/digests.wrangler.toml,
// scratch D1 in .wrangler/bench-digests, wiped at start), which seeds users with a spread of time
// zones and digest times (daily 70 %, weekly 30 %) in bulk and runs the real job; emails go to the
// D1 outbox and a local EMAIL_QUEUE (no consumer).
//
// Measures per tick: users looked at, digests sent, batches, wall ms inside workerd
// (performance.now around the job; local D1's SQLite runs in the same workerd process), and CPU
// of the wrangler process group (/proc utime+stime of workerd + the wrangler node process, the
// latter near idle during a tick), hence digests/s and CPU ms per digest.
//
// Knobs (env): BENCH_SCHEDULE (spread | same: everyone daily at 09:00 Asia/Kolkata, the column
// defaults, so all are due at once; writes bench/results-digests-same-slot.md), BENCH_USERS (100000), BENCH_MATCHES (pending matches per user, 5), BENCH_TENDERS
// (500), BENCH_START (ISO instant of the first tick, 2026-12-07T06:00:00Z, a Monday), BENCH_BATCH
// and BENCH_BUDGET_MS (DIGEST_BATCH_SIZE / DIGEST_TICK_BUDGET_MS; default: the config's defaults).
// Writes bench/results-digests.md. Not part of `npm test`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, fetchJson, freePort, groupCpu, root, serverPids, startServer, stopServer, waitFor, writeSecrets } from "./lib/server.mjs";
import { table } from "./lib/report.mjs";

const stateDir = path.join(root, ".wrangler", "bench-digests");
const persist = path.join(stateDir, "state");
const config = path.join(root, "bench", "digests.wrangler.toml");
const resultsFile = () => path.join(root, "bench", SCHEDULE === "same" ? "results-digests-same-slot.md" : "results-digests.md");
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const MATCHES = Number(process.env.BENCH_MATCHES ?? 5);
const TENDERS = Number(process.env.BENCH_TENDERS ?? 500);
// spread: 12 zones × quarter hours × daily/weekly; same: everyone on the column defaults (daily
// 09:00 Asia/Kolkata, = 03:30Z), the worst case: every digest due at the hour's first tick.
const SCHEDULE = process.env.BENCH_SCHEDULE === "same" ? "same" : "spread";
const START = Date.parse(process.env.BENCH_START ?? (SCHEDULE === "same" ? "2026-12-07T03:30:00Z" : "2026-12-07T06:00:00Z"));
const BATCH = process.env.BENCH_BATCH;
const BUDGET = process.env.BENCH_BUDGET_MS;
const TICKS = 4;
const TICK_MS = 15 * 60_000;
const SEED_CHUNK = 20_000;
const log = (msg) => console.error(`[bench:digests] ${msg}`);


const call = (base, pathname, method = "GET") => fetchJson(base, pathname, { method });


async function main() {
  const load = os.loadavg().map((x) => x.toFixed(1)).join(", ");
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  log("applying migrations to the scratch D1");
  applyMigrations(persist, ["--config", config]);
  const envFile = writeSecrets(path.join(stateDir, "bench.env"), "bench-digests");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting the bench worker on ${base}`);
  const server = startServer(
    "digests",
    ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
      "--persist-to", persist, "--env-file", envFile, "--show-interactive-dev-session=false", "--log-level", "warn"],
    { logFile: path.join(stateDir, "worker.log") },
  );
  try {
    await waitFor(`${base}/ping`, { server, what: "the bench worker" });
    const seedStarted = Date.now();
    let matches = 0;
    for (let from = 0; from < USERS; from += SEED_CHUNK) {
      const to = Math.min(USERS, from + SEED_CHUNK);
      const r = await call(base, `/seed?users=${USERS}&matches=${MATCHES}&tenders=${TENDERS}&start=${START}&from=${from}&to=${to}&schedule=${SCHEDULE}`, "POST");
      matches += r.matches;
      log(`seeded users ${from}–${to - 1} (${(r.ms / 1000).toFixed(1)} s)`);
    }
    const seedS = (Date.now() - seedStarted) / 1000;
    const before = await call(base, `/due?at=${START + (TICKS - 1) * TICK_MS}`);
    log(`${before.users} users, ${before.unclaimed_matches} pending matches, ${before.due} with a slot in the hour; ticking`);
    const ticks = [];
    for (let k = 0; k < TICKS; k++) {
      const at = START + k * TICK_MS;
      const q = [`at=${at}`, BATCH ? `batch=${BATCH}` : "", BUDGET ? `budget=${BUDGET}` : ""].filter(Boolean).join("&");
      const cpu0 = groupCpu(serverPids()).all;
      const w0 = performance.now();
      const r = await call(base, `/tick?${q}`, "POST");
      const wall = performance.now() - w0;
      const cpuMs = (groupCpu(serverPids()).all - cpu0) * 1000;
      ticks.push({ at, ...r, wall, cpuMs });
      log(`tick ${new Date(at).toISOString()}: sent ${r.sent}, looked ${r.looked}, ${r.batches} batches, ${(r.ms / 1000).toFixed(2)} s`);
    }
    const after = await call(base, `/due?at=${START + (TICKS - 1) * TICK_MS}`);

    const n = (v) => v.toLocaleString("en-US");
    const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "–");
    const rows = ticks.map((t) => [
      new Date(t.at).toISOString().slice(11, 16) + "Z",
      n(t.looked),
      n(t.sent),
      n(t.batches),
      f(t.ms / 1000, 2),
      f(t.sent / (t.ms / 1000), 0),
      f(t.cpuMs / 1000, 2),
      f(t.cpuMs / t.sent, 2),
    ]);
    const sum = (key) => ticks.reduce((a, t) => a + t[key], 0);
    const sent = sum("sent");
    const ms = sum("ms");
    const cpuMs = sum("cpuMs");
    rows.push(["**hour**", n(sum("looked")), `**${n(sent)}**`, n(sum("batches")), f(ms / 1000, 2), `**${f(sent / (ms / 1000), 0)}**`, f(cpuMs / 1000, 2), `**${f(cpuMs / sent, 2)}**`]);
    const out = [
      `Digest job, ${new Date().toISOString().slice(0, 10)}: ${n(USERS)} users (${SCHEDULE === "same" ? "all on the column defaults: daily at 09:00 Asia/Kolkata, one slot" : "12 time zones, digest times on every quarter hour, 70 % daily / 30 % weekly"}), ${MATCHES} pending matches each (${n(matches)}), ${n(TENDERS)} tenders; one hour of ticks from ${new Date(START).toISOString()} (4 × 15 min, injected now), sendDueDigests with ${BATCH ? `batch ${BATCH}` : "the default batch (DIGEST_BATCH_SIZE 200)"} and ${BUDGET ? `budget ${BUDGET} ms` : "the default tick budget (DIGEST_TICK_BUDGET_MS 10 s)"}. Local workerd + local D1 (wrangler dev). Seeding took ${f(seedS, 0)} s. Load average at start ${load} on ${os.cpus().length} cores (shared machine).`,
      "",
      table(["Tick (UTC)", "Users looked at", "Digests sent", "Batches", "Wall s (in workerd)", "Digests / s", "CPU s (workerd group)", "CPU ms / digest"], rows),
      "",
      `Wall: performance.now() around sendDueDigests inside workerd (local D1's SQLite runs in the same process, so it includes the queries). CPU: /proc utime+stime of the wrangler dev process group (workerd + wrangler's node process) across each tick request. Users with a slot in the hour: ${n(before.due)}; still due after the last tick: ${n(after.due)}; outbox rows written: ${n(after.outbox)}.`,
      "",
    ].join("\n");
    process.stdout.write(`${out}\n`);
    fs.writeFileSync(resultsFile(), out);
    log(`wrote ${path.relative(root, resultsFile())}`);
  } finally {
    await stopServer(server.pid);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
