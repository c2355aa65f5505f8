#!/usr/bin/env node
// `npm run bench:login-ab -- A B [...]`: login overhead of two or more versions of keel, measured
// side by side (not part of npm test). Each version is a git ref (its src/ is bundled with
// `wrangler deploy --dry-run`) or a directory holding such a bundle (index.js). One `wrangler dev`
// per version (own scratch state, throwaway secrets, development mode, login limits relaxed), a
// verified user on each, then LOGINS sequential logins per version, interleaved (A, B, B, A, …)
// so the shared machine's drift hits every version alike. Prints per version the medians of the
// Server-Timing phases, of the overhead beyond the hash (app − hash) and the CPU the server's
// workerd processes used per login.
//
//   npm run bench:login-ab -- main HEAD              compare two commits
//   LOGINS=200 FAST_HASH=1 npm run bench:login-ab -- main HEAD
//
// Knobs (env): LOGINS (default 60); FAST_HASH=1 bundles with scrypt N=2^10, p=1 instead of the
// default cost, so the run is short and the (noisy) hash does not dominate the CPU figure;
// append "@shm" to a version to keep its local D1/Durable Object state in /dev/shm (no disk
// fsync); PROFILE=file.cpuprofile writes a V8 CPU profile of the first version's worker isolate;
// OP=register times registrations (a new address each, 201) instead of logins, and waits for the
// email consumer to deliver their verification emails before reading the CPU; CONC=n sends n
// requests at once per version per round (default 1).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serverTiming } from "./lib/report.mjs";
import { checkoutOf, groupCpu, startProfiler, applyMigrations, freePort, HOST, RELAXED, root, sleep, startServer, stopAll, varArgs, waitFor, wranglerOnce, writeSecrets } from "./lib/server.mjs";
import { fmt as fmtN, quantile } from "./lib/stats.mjs";

const LOGINS = Number(process.env.LOGINS ?? 60);
const FAST_HASH = process.env.FAST_HASH === "1";
const WARMUP = 8;
const OP = process.env.OP ?? "login";
// CONC requests in flight per version per round (the side-by-side harness signs up with 10
// connections, signs in with 1 and 2): CPU per request then includes what concurrency costs.
const CONC = Number(process.env.CONC ?? 1);
if (!["login", "register"].includes(OP)) throw new Error("OP must be login or register");
const log = (m) => console.error(`[bench:login-ab] ${m}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-login-ab-"));
process.on("exit", () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  for (const d of shmDirs) fs.rmSync(d, { recursive: true, force: true });
});
const shmDirs = [];

/** The bundle (index.js) of a version: a directory holding one, or a git ref to bundle. */
function bundleOf(version, i) {
  const out = path.join(scratch, `bundle-${i}`);
  fs.mkdirSync(out, { recursive: true });
  if (fs.existsSync(path.join(version, "index.js"))) {
    // The entry and, for a code-split build, its chunks/ (wrangler.toml finds them beside it).
    fs.cpSync(version, out, { recursive: true });
  } else {
    // The ref's src/ and config, beside this checkout's node_modules and public/.
    const tree = checkoutOf(version, path.join(scratch, `tree-${i}`));
    wranglerOnce(["deploy", "--dry-run", "--outdir", out], `bundling ${version}`, { cwd: tree });
  }
  if (FAST_HASH) {
    // In index.js (one-file bundle) or in whichever chunk holds the password hash (split build,
    // minified: `N:2**14,r:8,p:5`).
    let patched = 0;
    for (const rel of fs.readdirSync(out, { recursive: true }).filter((f) => /\.m?js$/.test(f))) {
      const file = path.join(out, rel);
      const code = fs.readFileSync(file, "utf8");
      const fast = code.replace(/N: ?2 ?\*\* ?14, ?r: ?8, ?p: ?5/, "N: 2 ** 10, r: 8, p: 1");
      if (fast !== code) (fs.writeFileSync(file, fast), patched++);
    }
    if (!patched) throw new Error(`FAST_HASH: no default scrypt parameters found in the bundle of ${version}`);
  }
  return out;
}

async function start(version, i) {
  const onShm = version.endsWith("@shm");
  const name = onShm ? version.slice(0, -4) : version;
  const bundle = bundleOf(name, i);
  const stateDir = onShm ? path.join("/dev/shm", `keel-login-ab-${process.pid}-${i}`) : path.join(scratch, `state-${i}`);
  if (onShm) shmDirs.push(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const envFile = writeSecrets(path.join(scratch, `env-${i}`), `ab-${i}`);
  const persist = path.join(stateDir, "d1");
  applyMigrations(persist);
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ["dev", path.join(bundle, "index.js"), "--no-bundle", "--config", path.join(root, "wrangler.toml"), "--ip", HOST, "--port", String(port)];
  args.push("--inspector-port", String(inspectorPort), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false");
  args.push(...varArgs({ ENVIRONMENT: "development", RATE_LOGIN_PER_IP: RELAXED, RATE_LOGIN_PER_EMAIL: RELAXED, RATE_REGISTER_PER_IP: RELAXED, PUBLIC_BASE_URL: base }));
  const server = startServer(version, args, { logFile: path.join(scratch, `server-${i}.log`) });
  await waitFor(`${base}/health`, { server, timeoutMs: 120_000, what: `server for ${version}` });
  return { base, name: version, pgid: server.pid, inspectorPort };
}

async function json(base, method, p, body) {
  const res = await fetch(base + p, { method, headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function createUser(base) {
  const email = `ab-${randomBytes(4).toString("hex")}@keel.test`;
  const password = `${randomBytes(10).toString("hex")} correct horse stapler`;
  const r = await json(base, "POST", "/api/v1/auth/register", { email, password, full_name: "AB Tester" });
  if (r.status !== 201) throw new Error(`register: ${r.status}`);
  for (let t = 0; t < 40; t++) {
    const box = await json(base, "GET", `/dev/mailbox?to=${encodeURIComponent(email)}`);
    for (const m of box.body?.items ?? []) {
      const match = /token=([A-Za-z0-9_\-.~%]+)/.exec(m.text ?? "");
      if (match) {
        const v = await json(base, "POST", "/api/v1/auth/verify-email", { token: decodeURIComponent(match[1]) });
        if (v.status !== 200) throw new Error(`verify: ${v.status}`);
        return { email, password };
      }
    }
    await sleep(250);
  }
  throw new Error("no verification mail");
}

async function timedLogin(base, user) {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) });
  await res.arrayBuffer();
  const wall = performance.now() - t0;
  if (res.status !== 200) throw new Error(`login: ${res.status}`);
  const phases = serverTiming(res);
  return { wall, ...phases, "app − hash": phases.app - phases.hash };
}

async function timedRegister(base) {
  const body = { email: `ab-${randomBytes(6).toString("hex")}@keel.test`, password: `${randomBytes(10).toString("hex")} correct horse stapler`, full_name: "AB Tester" };
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  const wall = performance.now() - t0;
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  const phases = serverTiming(res);
  return { wall, ...phases, ...(phases.hash !== undefined ? { "app − hash": phases.app - phases.hash } : {}) };
}



const versions = process.argv.slice(2);
if (!versions.length) {
  console.error("usage: npm run bench:login-ab -- VERSION VERSION... (a git ref or a bundle directory, optionally with @shm)");
  process.exit(2);
}
const servers = [];
for (const [i, v] of versions.entries()) {
  log(`starting ${v}${FAST_HASH ? " (fast hash)" : ""}`);
  servers.push(await start(v, i));
}
if (OP === "login") for (const s of servers) s.user = await createUser(s.base);
log(`${WARMUP} warm-up ${OP}s, then ${LOGINS} measured ${OP}s per version, interleaved`);
const samples = servers.map(() => []);
const cpuStart = [];
let profiler;
for (let i = 0; i < WARMUP + LOGINS; i++) {
  const order = servers.map((_, k) => k);
  if (i % 2 === 1) order.reverse();
  for (const k of order) {
    if (i === WARMUP && cpuStart[k] === undefined) {
      cpuStart[k] = groupCpu(servers[k].pgid).workerd;
      if (k === 0 && process.env.PROFILE) profiler = await startProfiler(servers[0].inspectorPort);
    }
    const one = () => (OP === "register" ? timedRegister(servers[k].base) : timedLogin(servers[k].base, servers[k].user));
    const xs = await Promise.all(Array.from({ length: CONC }, one));
    if (i >= WARMUP) samples[k].push(...xs);
  }
}
if (profiler) fs.writeFileSync(process.env.PROFILE, JSON.stringify(await profiler.stop()));
// Registrations: their verification emails are delivered by the queue consumer (batch timeout 2 s) in the same workerd.
if (OP === "register") await sleep(3000);
const cpuPerLogin = servers.map((s, k) => ((groupCpu(s.pgid).workerd - cpuStart[k]) * 1000) / (LOGINS * CONC));
await stopAll();

const keys = [...new Set(samples.flat().flatMap((x) => Object.keys(x)))];
const fmt = (v) => fmtN(v, 1, "–");
console.log(`| version | n | ${keys.map((k) => `${k} p50`).join(" | ")} | app − hash p25–p75 | workerd CPU ms/${OP} |`);
console.log(`|---|---|${keys.map(() => "---").join("|")}|---|---|`);
for (const [k, s] of servers.entries()) {
  const xs = samples[k];
  const over = xs.map((x) => x["app − hash"]);
  console.log(`| ${s.name} | ${xs.length} | ${keys.map((key) => fmt(quantile(xs.map((x) => x[key]), 0.5))).join(" | ")} | ${fmt(quantile(over, 0.25))}–${fmt(quantile(over, 0.75))} | ${fmt(cpuPerLogin[k])} |`);
}
process.exit(0);
