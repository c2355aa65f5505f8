#!/usr/bin/env node
// `npm run bench:enumeration`: does a wrong password for a real account take as long as a login
// with an unknown email? (Issue 10, point 4; target: p50 difference ≤ 5 ms.) Not part of `npm test`.
//
// Starts its own `wrangler dev` (port BENCH_PORT, default 8851; scratch state in
// .wrangler/bench-enum-state, throwaway secrets, development mode, lockout threshold and login
// limits relaxed so no answer is a 423/429), registers REAL_USERS accounts, then sends PAIRS
// sequential pairs (wrong password, unknown email) in alternating order at concurrency 1, and
// prints a table of p50/p90 latencies and of the Server-Timing phases. The server is stopped at the end.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { serverTiming } from "./lib/report.mjs";
import { applyMigrations, HOST, RELAXED, root, startServer, stopServer, varArgs, waitFor, writeSecrets } from "./lib/server.mjs";
import { fmt, quantile } from "./lib/stats.mjs";

const stateDir = path.join(root, ".wrangler", "bench-enum-state");
const PORT = Number(process.env.BENCH_PORT ?? 8851);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 80);
const WARMUP = 6;
const REAL_USERS = 8;
const TARGET_MS = 5;
const log = (msg) => console.error(`[bench:enumeration] ${msg}`);

const base = `http://${HOST}:${PORT}`;

async function login(email, password) {
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 401) throw new Error(`expected 401, got ${res.status}`);
  return { ms, phases: serverTiming(res) };
}

async function main() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  const envFile = writeSecrets(path.join(stateDir, "bench.env"), `enum-${randomBytes(3).toString("hex")}`);
  const persist = path.join(stateDir, "d1");
  applyMigrations(persist);
  const vars = {
    ENVIRONMENT: "development", // Server-Timing phases
    LOCKOUT_THRESHOLD: "100",
    RATE_LOGIN_PER_IP: RELAXED,
    RATE_LOGIN_PER_EMAIL: RELAXED,
    RATE_REGISTER_PER_IP: RELAXED,
  };
  const args = ["dev", "--ip", HOST, "--port", String(PORT), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false", ...varArgs(vars)];
  const server = startServer("api", args, { logFile: path.join(stateDir, "server.log") });
  try {
    await waitFor(`${base}/health`, { server, timeoutMs: 90_000, what: "wrangler dev" });
    const users = [];
    for (let i = 0; i < REAL_USERS; i++) {
      const email = `enum-${i}-${randomBytes(3).toString("hex")}@keel.test`;
      const res = await fetch(`${base}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: `${randomBytes(8).toString("hex")} violet harbor`, full_name: "Enum Bench" }),
      });
      if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
      users.push(email);
    }
    const ghosts = users.map((_, i) => `ghost-${i}-${randomBytes(3).toString("hex")}@keel.test`);
    const samples = { wrong: [], unknown: [] };
    log(`${WARMUP} warm-up pairs, then ${PAIRS} measured pairs (c=1, alternating order)`);
    for (let i = 0; i < WARMUP + PAIRS; i++) {
      const wrong = () => login(users[i % users.length], "not the right password at all");
      const unknown = () => login(ghosts[i % ghosts.length], "not the right password at all");
      const [a, b] = i % 2 === 0 ? [await wrong(), await unknown()] : [await unknown(), await wrong()].reverse();
      if (i >= WARMUP) {
        samples.wrong.push(a);
        samples.unknown.push(b);
      }
    }
    const row = (name, xs) => {
      const phase = (p) => fmt(quantile(xs.map((x) => x.phases[p] ?? NaN), 0.5), 1, "–");
      return [name, xs.length, fmt(quantile(xs.map((x) => x.ms), 0.5)), fmt(quantile(xs.map((x) => x.ms), 0.9)), phase("lookup"), phase("hash"), phase("app")];
    };
    const rows = [row("wrong password (real account)", samples.wrong), row("unknown email", samples.unknown)];
    const diff = Math.abs(Number(rows[0][2]) - Number(rows[1][2]));
    // lookup = the per-IP limit, then the email's guard, with the user lookup beside them.
    const header = ["login", "n", "p50 ms", "p90 ms", "limits + lookup p50", "hash p50", "app p50 (server)"];
    const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
    console.log(lines.join("\n"));
    // Each pair ran back to back, so its difference is little affected by the machine's drift.
    const paired = quantile(samples.wrong.map((w, i) => w.ms - samples.unknown[i].ms), 0.5);
    console.log(`\np50 difference: ${diff.toFixed(1)} ms (target ≤ ${TARGET_MS} ms): ${diff <= TARGET_MS ? "pass" : "FAIL"}`);
    console.log(`median of paired differences (wrong − unknown): ${paired.toFixed(1)} ms`);
    process.exitCode = diff <= TARGET_MS ? 0 : 1;
  } finally {
    await stopServer(server.pid);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
