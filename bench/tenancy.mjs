#!/usr/bin/env node
// Tenancy benchmark (issue 6): administrator user search and an organization's member list on a
// local D1 seeded with 100,000 users, each reported beside the 404 baseline of the same run.
//
//   npm run bench:tenancy                 # seeds once into .wrangler/bench-tenancy (minutes), then measures
//   BENCH_RESEED=1 npm run bench:tenancy  # seed again from scratch
//
// Knobs: BENCH_DURATION (seconds per scenario, default 8), BENCH_CONNECTIONS (default 10),
// SEED_USERS (default 100,000; passed to bench/seed-users.mjs). Prints a table and writes it to
// bench/results-tenancy.md. Not part of `npm test`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { freePort, HOST, RELAXED, root, startServer as startWrangler, stopServer, varArgs, waitFor, wranglerBin as wrangler, wranglerEnv, writeSecrets } from "./lib/server.mjs";

const stateDir = path.join(root, ".wrangler", "bench-tenancy");
const persist = path.join(stateDir, "d1");
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ADMIN = { email: "admin@bench.keel.test", password: "keel-bench-operator-passphrase" };
const log = (msg) => console.error(`[bench:tenancy] ${msg}`);

function run(cmd, args, what, extraEnv = {}) {
  const res = spawnSync(cmd, args, { cwd: root, env: wranglerEnv(extraEnv), stdio: ["ignore", "inherit", "inherit"], timeout: 1_800_000 });
  if (res.status !== 0) throw new Error(`${what} failed (exit ${res.status ?? res.signal})`);
}

function seed() {
  const marker = path.join(stateDir, "seeded");
  if (fs.existsSync(marker) && !process.env.BENCH_RESEED) return log("reusing the seeded database (BENCH_RESEED=1 to seed again)");
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  log("seeding users (this takes a few minutes)");
  run(process.execPath, [path.join(root, "bench", "seed-users.mjs")], "seeding", { SEED_PERSIST_TO: persist });
  // The administrator also owns a seat in the largest organization, so it can list its members.
  run(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", persist, "--command",
    "INSERT OR IGNORE INTO organization_members (id, organization_id, user_id, role) SELECT 'mem_bench_admin', 'org_seed_0', id, 'admin' FROM users WHERE email = 'admin@bench.keel.test'"], "admin membership");
  fs.writeFileSync(marker, new Date().toISOString());
}

async function startServer() {
  const envFile = writeSecrets(path.join(stateDir, "bench.env"));
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ["dev", "--ip", HOST, "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", persist, "--env-file", envFile,
    "--show-interactive-dev-session=false", "--log-level", "warn", ...varArgs({ ENVIRONMENT: "development", RATE_LOGIN_PER_IP: RELAXED, RATE_LOGIN_PER_EMAIL: RELAXED })];
  const server = startWrangler("api", args, { logFile: path.join(stateDir, "server.log") });
  await waitFor(`${base}/health`, { server, what: "wrangler dev" });
  return { base, stop: () => stopServer(server.pid) };
}

async function cannon(name, url, headers) {
  const r = await new Promise((resolve, reject) =>
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers, timeout: 10 }, (err, res) => (err ? reject(err) : resolve(res))));
  const ok = r["2xx"] + (name.startsWith("404") ? r["4xx"] : 0);
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.requests.total - ok };
}

seed();
const { base, stop } = await startServer();
try {
  const login = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) })).json();
  if (!login.access_token) throw new Error(`admin login failed: ${JSON.stringify(login).slice(0, 200)}`);
  const auth = { authorization: `Bearer ${login.access_token}` };
  const probe = await (await fetch(`${base}/api/v1/admin/users?q=sharma&page_size=25`, { headers: auth })).json();
  log(`search probe: total ${probe.total}`);
  const rows = [];
  rows.push(await cannon("404 baseline", `${base}/api/v1/nothing-here`, {}));
  rows.push(await cannon("GET /admin/users?q=sharma (FTS trigram, total)", `${base}/api/v1/admin/users?q=sharma&page_size=25`, auth));
  rows.push(await cannon("GET /admin/users?status=active (no text, total)", `${base}/api/v1/admin/users?status=active&page_size=25`, auth));
  rows.push(await cannon("GET /orgs/org_seed_0/members (2,000 members, page of 100)", `${base}/api/v1/orgs/org_seed_0/members?limit=100`, auth));
  const baseline = rows[0].rps;
  const date = new Date().toISOString().slice(0, 10);
  const table = [
    `Tenancy benchmark, ${date}: ${process.env.SEED_USERS ?? 100000} seeded users, ${CONNECTIONS} connections, ${DURATION} s each, wrangler dev with local D1 on this machine.`,
    "",
    "| scenario | req/s | vs 404 | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${(r.rps / baseline).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
  ].join("\n");
  console.log(table);
  fs.writeFileSync(path.join(root, "bench", "results-tenancy.md"), `${table}\n`);
} finally {
  await stop();
}
