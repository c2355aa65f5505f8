// What every bench script needs to run keel (or a bench worker) under `wrangler dev` on this
// machine: wrangler's environment (offline, no telemetry), one-shot wrangler commands, throwaway
// secrets, free ports, and servers in their own process groups that are always stopped (on
// exit, error, signal, or when `npm run` that started us goes away).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const binDir = path.join(root, "node_modules", ".bin");
export const wranglerBin = path.join(binDir, "wrangler");
export const HOST = "127.0.0.1";
/** Rate limits ("limit/windowSeconds") so a bench measures work, not 429s. */
export const RELAXED = "100000000/60";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function wranglerEnv(extra = {}) {
  return {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    // no outbound fetch of the Request.cf placeholder (offline machines just log a warning)
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...extra,
  };
}

/** Runs a one-shot wrangler command (from `cwd`, default the repository); throws with its output on failure. */
export function wranglerOnce(args, what, { cwd = root, timeoutMs = 180_000 } = {}) {
  const res = spawnSync(wranglerBin, args, {
    cwd,
    env: wranglerEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error || res.status !== 0) {
    process.stderr.write(res.stdout ?? "");
    process.stderr.write(res.stderr ?? "");
    throw new Error(`${what} failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`})`);
  }
  return res;
}

/** `wrangler d1 migrations apply` into a scratch state. */
export const applyMigrations = (persist, extraArgs = []) =>
  wranglerOnce(["d1", "migrations", "apply", "DB", "--local", ...extraArgs, "--persist-to", persist], "wrangler d1 migrations apply");

/**
 * Writes an env file with throwaway secrets (an Ed25519 JWK and a data key) for `--env-file`;
 * with it, wrangler does not read the project's .dev.vars.
 */
export function writeSecrets(file, kid = `bench-${randomBytes(3).toString("hex")}`) {
  const jwks = JSON.stringify([{ ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), kid }]);
  if (jwks.includes("'")) throw new Error("unexpected quote in generated JWK");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `# throwaway secrets for a bench server\nJWT_SIGNING_KEYS='${jwks}'\nDATA_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  return file;
}

/** `--var NAME:value` arguments. */
export const varArgs = (vars) => Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// Servers (always cleaned up)

/** @type {Map<number, {name: string, child: import("node:child_process").ChildProcess, exited: Promise<void>, logFile: string}>} */
const servers = new Map();

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function killAllNow() {
  for (const pid of servers.keys()) killGroup(pid, "SIGKILL");
  servers.clear();
}

let guarded = false;
function guard() {
  if (guarded) return;
  guarded = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      console.error(`[bench] ${sig}: stopping servers`);
      killAllNow();
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
  // `npm run` wraps us in `sh -c`; if npm is killed we may be orphaned: treat that like SIGTERM.
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) {
      killAllNow();
      process.exit(143);
    }
  }, 1000).unref();
}

/** Starts `wrangler <args>` (or `cmd`) in its own process group, logging to `logFile`. */
export function startServer(name, args, { logFile, cwd = root, env = wranglerEnv(), cmd = wranglerBin } = {}) {
  guard();
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", out, out], detached: true });
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  servers.set(child.pid, { name, child, exited, logFile });
  return { pid: child.pid, child, logFile };
}

/** SIGTERM the server's process group, then SIGKILL whatever is left after 5 s. */
export async function stopServer(pid) {
  const s = servers.get(pid);
  if (!s) return;
  killGroup(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) killGroup(pid, "SIGKILL");
  await Promise.race([s.exited, sleep(2000)]);
  servers.delete(pid);
}

export async function stopAll() {
  await Promise.all([...servers.keys()].map((pid) => stopServer(pid)));
}

/** Polls `url` until it answers 200; fails early (with the log's tail) when the server exits. */
export async function waitFor(url, { server, timeoutMs = 90_000, what = server.logFile }) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${what} exited early:\n${tail(server.logFile)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await sleep(500);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000}s (${last}):\n${tail(server.logFile)}`);
}

/** Process group ids of the running servers (for CPU accounting). */
export const serverPids = () => [...servers.keys()];

/**
 * A git ref's src/, scripts/ (the zod alias) and config, extracted into `dir` beside this checkout's
 * node_modules, with an empty public/ ([assets] needs the folder): what the A/B benches bundle
 * with `wrangler deploy --dry-run` to compare versions in one run.
 */
export function checkoutOf(ref, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const archive = execFileSync("git", ["-C", root, "archive", ref, "src", "scripts", "wrangler.toml", "tsconfig.json", "package.json"], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  fs.mkdirSync(path.join(dir, "public"), { recursive: true });
  return dir;
}

/** USER_HZ: /proc/<pid>/stat counts CPU time in jiffies of 10 ms on Linux. */
const USER_HZ = 100;

/** Every process in /proc: its pid, its stat fields after the name (f[2] = pgrp, f[11..12] = utime, stime), whether it is workerd. */
function* processes() {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    yield { pid: Number(entry), f: stat.slice(stat.lastIndexOf(")") + 2).split(" "), workerd: stat.includes("(workerd)") };
  }
}

/**
 * CPU seconds (utime + stime) from /proc (Linux) of every process in the given process group(s)
 * (`all`), of their workerd processes alone (`workerd`), and of this bench process (`self`).
 */
export function groupCpu(pgids) {
  const groups = new Set(typeof pgids === "number" ? [pgids] : pgids);
  let ticks = 0;
  let workerd = 0;
  let self = 0;
  for (const { pid, f, workerd: isWorkerd } of processes()) {
    const jiffies = Number(f[11]) + Number(f[12]);
    if (pid === process.pid) self += jiffies;
    if (!groups.has(Number(f[2]))) continue;
    ticks += jiffies;
    if (isWorkerd) workerd += jiffies;
  }
  return { all: ticks / USER_HZ, workerd: workerd / USER_HZ, self: self / USER_HZ };
}

/**
 * CPU ms of the workerd processes (every thread) of one process group, at ns resolution from
 * /proc/<pid>/task/<tid>/schedstat: for a single request, where groupCpu's 10 ms jiffies are too coarse.
 */
export function workerdCpuMs(pgid) {
  let ns = 0;
  for (const { pid, f, workerd } of processes()) {
    if (!workerd || Number(f[2]) !== pgid) continue;
    try {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      /* exited meanwhile */
    }
  }
  return ns / 1e6;
}

/** Busy and total jiffies of the whole machine (the first line of /proc/stat; idle and iowait are not busy). */
export function machineJiffies() {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

/** A bench worker's JSON answer; anything but 200 throws with the start of the body. */
export async function fetchJson(base, pathname, { method = "GET", timeoutMs = 900_000 } = {}) {
  const res = await fetch(base + pathname, { method, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${pathname} → ${res.status}: ${text.slice(0, 400)}`);
  return JSON.parse(text);
}

/** A V8 CPU profile of a server's worker isolate, through wrangler's inspector proxy. */
export async function startProfiler(inspectorPort) {
  const targets = await (await fetch(`http://${HOST}:${inspectorPort}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: `http://${HOST}` } });
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
  let id = 0;
  const pending = new Map();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) (pending.get(msg.id)(msg), pending.delete(msg.id));
  };
  const send = (method, params = {}) => new Promise((resolve) => (pending.set(++id, resolve), ws.send(JSON.stringify({ id, method, params }))));
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  return { stop: async () => (await send("Profiler.stop")).result.profile };
}

/**
 * Starts bench/hash-worker.ts (the production password hash inside workerd) under its own
 * `wrangler dev`, state and log in `stateDir`; resolves once its first scrypt call (lazy set-up)
 * is done. An idle workerd costs next to nothing.
 */
export async function startHashWorker(stateDir) {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ["dev", "--config", path.join(root, "bench", "hash.wrangler.toml"), "--ip", HOST, "--port", String(port), "--inspector-port", String(await freePort())];
  const server = startServer("hash", [...args, "--persist-to", path.join(stateDir, "hash"), "--show-interactive-dev-session=false", "--log-level", "warn"], {
    logFile: path.join(stateDir, "hash.log"),
  });
  await waitFor(`${base}/ping`, { server, what: "wrangler dev (hash worker)" });
  const warm = await fetch(`${base}/?n=1`);
  if (!warm.ok) throw new Error(`hash worker answered ${warm.status}`);
  await warm.arrayBuffer();
  return { base, server };
}

export async function stopHashWorker(server) {
  await stopServer(server.pid);
  // wrangler's scratch bundle for the hash worker lands next to its config
  fs.rmSync(path.join(root, "bench", ".wrangler"), { recursive: true, force: true });
}
