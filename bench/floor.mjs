#!/usr/bin/env node
// `npm run bench:floor`: keel's no-I/O floor, the guard against per-request regressions (issue 20,
// point 0). What every request pays (middleware chain, request context, logging, problem+json)
// shows in the CPU of an unknown path → 404; GET /health adds one D1, one KV read (the DO probe
// is cached per isolate).
//
// Each version is bundled once (`wrangler deploy --dry-run`) and served by its own `wrangler dev
// --no-bundle` (development mode, as the side-by-side harness runs keel; wrangler's log level
// warn: no access log line per request). Then ROUNDS rounds, in each every version gets SECONDS
// of autocannon on each path; the order of versions alternates per round (A B, B A, …) so the
// shared machine's drift hits every version alike. Server CPU is utime + stime of the server's
// whole process group (wrangler's node processes and workerd, like bench/run.mjs and the
// side-by-side harness) over the window, divided by the requests completed.
//
//   npm run bench:floor                       the working tree (uncommitted edits included)
//   npm run bench:floor -- --ab main          main vs the working tree, interleaved, with B ÷ A
//   npm run bench:floor -- REF_OR_DIR ...     any versions: a git ref (served with its own
//                                             wrangler.toml), "." (the working tree) or a
//                                             directory holding a bundle (index.js) and
//                                             optionally the wrangler.toml to serve it with
//
// Knobs (env): FLOOR_SECONDS (per window, default 3), FLOOR_ROUNDS (default 4),
// FLOOR_CONNECTIONS (default 10), FLOOR_PATHS (e.g. "404" or "/health": only those); PROFILE=file.cpuprofile writes a V8 CPU profile of the first
// version's worker isolate under the 404 load (before the measured rounds). Prints a markdown table; exits 1 if a request got an
// unexpected status.
import autocannon from "autocannon";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { table } from "./lib/report.mjs";
import { checkoutOf, groupCpu, startProfiler, freePort, HOST, root, sleep, startServer, stopAll, varArgs, waitFor, wranglerOnce, writeSecrets } from "./lib/server.mjs";
import { fmt, quantile } from "./lib/stats.mjs";

const num = (name, def, min, max) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number in [${min}, ${max}]`);
  return v;
};
const SECONDS = num("FLOOR_SECONDS", 3, 1, 60);
const ROUNDS = num("FLOOR_ROUNDS", 4, 1, 20);
const CONNECTIONS = num("FLOOR_CONNECTIONS", 10, 1, 100);
const UA = "keel-bench/1";
const SCENARIOS = [
  { name: "unknown path → 404", path: "/api/v1/floor-no-such-route", expect: 404 },
  { name: "GET /health", path: "/health", expect: 200 },
].filter((s) => !process.env.FLOOR_PATHS || process.env.FLOOR_PATHS.split(",").some((p) => s.path.includes(p) || s.name.includes(p)));
const log = (m) => console.error(`[bench:floor] ${m}`);

const args = process.argv.slice(2);
let versions;
if (args[0] === "--ab") {
  if (!args[1]) throw new Error("usage: npm run bench:floor -- --ab <git-ref>");
  versions = [args[1], "."];
} else {
  versions = args.length ? args : ["."];
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-floor-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * The directory of a version's bundle (index.js): its own, or one built from the working tree or
 * a git ref; and the wrangler.toml to serve it with: the directory's own if it has one, the ref's
 * (its [assets] and bindings are part of what is measured), else the working tree's.
 */
function bundleOf(version, i) {
  if (fs.existsSync(path.join(version, "index.js"))) {
    const own = path.join(version, "wrangler.toml");
    return { bundle: version, config: fs.existsSync(own) ? own : path.join(root, "wrangler.toml") };
  }
  const out = path.join(scratch, `bundle-${i}`);
  let cwd = root;
  if (version !== ".") {
    // The ref's src/, scripts/ (the zod alias) and config, beside this checkout's node_modules.
    cwd = checkoutOf(version, path.join(scratch, `tree-${i}`));
  }
  wranglerOnce(["deploy", "--dry-run", "--outdir", out], `bundling ${version}`, { cwd });
  return { bundle: out, config: path.join(cwd, "wrangler.toml") };
}

async function start(version, i) {
  const { bundle, config } = bundleOf(version, i);
  const persist = path.join(scratch, `state-${i}`);
  const envFile = writeSecrets(path.join(scratch, `env-${i}`), `floor-${i}`);
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://${HOST}:${port}`;
  const argv = ["dev", path.join(bundle, "index.js"), "--no-bundle", "--config", config, "--ip", HOST, "--port", String(port)];
  argv.push("--inspector-port", String(inspectorPort), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false");
  argv.push(...varArgs({ ENVIRONMENT: "development", PUBLIC_BASE_URL: base }));
  const server = startServer(`floor-${i}`, argv, { logFile: path.join(scratch, `server-${i}.log`) });
  await waitFor(`${base}/health`, { server, timeoutMs: 120_000, what: `server for ${version}` });
  const size = fs.statSync(path.join(bundle, "index.js")).size;
  return { version, base, pgid: server.pid, size, inspectorPort };
}


async function window(server, scenario, seconds) {
  const cpu0 = groupCpu(server.pgid);
  const res = await new Promise((resolve, reject) =>
    autocannon(
      { url: server.base + scenario.path, method: "GET", headers: { "user-agent": UA }, connections: CONNECTIONS, duration: seconds, timeout: 10 },
      (err, r) => (err ? reject(err) : resolve(r)),
    ),
  );
  const cpu1 = groupCpu(server.pgid);
  const n = res.totalCompletedRequests ?? res.requests.total;
  const unexpected = Object.entries(res.statusCodeStats ?? {}).reduce((k, [code, { count }]) => (Number(code) === scenario.expect ? k : k + count), 0);
  const perReq = (s) => (n ? (s * 1000) / n : NaN);
  return { rps: res.requests.average, cpuMs: perReq(cpu1.all - cpu0.all), workerdMs: perReq(cpu1.workerd - cpu0.workerd), n, unexpected: unexpected + res.errors + res.timeouts };
}


const servers = [];
for (const [i, v] of versions.entries()) {
  log(`bundling and starting ${v === "." ? "the working tree" : v}`);
  servers.push(await start(v, i));
}
log(`warm-up, then ${ROUNDS} rounds × ${SECONDS}s per path and version, ${CONNECTIONS} connections, versions interleaved`);
for (const s of servers) for (const sc of SCENARIOS) await window(s, sc, 1);
if (process.env.PROFILE) {
  // PROFILE=file.cpuprofile: the first version's isolate under the 404 load, nothing measured.
  const profiler = await startProfiler(servers[0].inspectorPort);
  await window(servers[0], SCENARIOS[0], SECONDS);
  fs.writeFileSync(process.env.PROFILE, JSON.stringify(await profiler.stop()));
  log(`wrote ${process.env.PROFILE}`);
}
const samples = servers.map(() => SCENARIOS.map(() => []));
for (let round = 0; round < ROUNDS; round++) {
  const order = servers.map((_, k) => k);
  if (round % 2 === 1) order.reverse();
  for (const [j, sc] of SCENARIOS.entries()) {
    for (const k of order) {
      samples[k][j].push(await window(servers[k], sc, SECONDS));
      await sleep(200);
    }
  }
}
await stopAll();

const label = (v) => (v === "." ? "working tree" : v);
const rows = [];
let bad = 0;
for (const [j, sc] of SCENARIOS.entries()) {
  const cpuA = quantile(samples[0][j].map((x) => x.cpuMs), 0.5);
  const rpsA = quantile(samples[0][j].map((x) => x.rps), 0.5);
  for (const [k, s] of servers.entries()) {
    const xs = samples[k][j];
    const cpu = xs.map((x) => x.cpuMs);
    const rps = quantile(xs.map((x) => x.rps), 0.5);
    const unexpected = xs.reduce((n, x) => n + x.unexpected, 0);
    bad += unexpected;
    // Per round ratios to the first version (same round, so drift cancels), then their median.
    const cpuRatio = k === 0 ? NaN : quantile(xs.map((x, r) => x.cpuMs / samples[0][j][r].cpuMs), 0.5);
    const workerd = quantile(xs.map((x) => x.workerdMs), 0.5);
    const workerdRatio = k === 0 ? NaN : quantile(xs.map((x, r) => x.workerdMs / samples[0][j][r].workerdMs), 0.5);
    rows.push([
      sc.name,
      label(s.version),
      fmt(rps, 0),
      `${fmt(quantile(cpu, 0.5), 2)} (${fmt(Math.min(...cpu), 2)}–${fmt(Math.max(...cpu), 2)})`,
      k === 0 ? "1" : `${fmt(cpuRatio, 3)} (${fmt(quantile(cpu, 0.5) - cpuA, 2)} ms)`,
      k === 0 ? "1" : fmt(rps / rpsA, 3),
      fmt(workerd, 2),
      k === 0 ? "1" : fmt(workerdRatio, 3),
      String(xs.reduce((n, x) => n + x.n, 0)),
      String(unexpected),
    ]);
  }
}
console.log(
  `\nbench:floor ${new Date().toISOString().slice(0, 16)}Z, ${ROUNDS} rounds × ${SECONDS}s, ${CONNECTIONS} connections, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} at the end\n`,
);
console.log(
  table(["path", "version", "req/s p50", "server CPU ms/req p50 (min–max)", "CPU ÷ first (per round, p50)", "req/s ÷ first", "workerd alone ms/req p50", "workerd ÷ first", "requests", "unexpected"], rows),
);
console.log(`\nindex.js (a split build also has chunks/ beside it): ${servers.map((s) => `${label(s.version)} ${(s.size / 1024).toFixed(0)} KiB`).join(", ")}`);
process.exit(bad ? 1 : 0);
