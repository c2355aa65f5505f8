#!/usr/bin/env node
// `npm run bench:enumeration`: does a wrong password for a real account take as long as a login
// with an unknown email? (Issue 10, point 4; target: p50 difference ≤ 5 ms.) Not part of `npm test`.
//
// Starts its own `wrangler dev` (port BENCH_PORT, default 8851; scratch state in
// .wrangler/bench-enum-state, throwaway secrets, development mode, lockout threshold and login
// limits relaxed so no answer is a 423/429), registers REAL_USERS accounts, then sends PAIRS
// sequential pairs (wrong password, unknown email) in alternating order at concurrency 1, and
// prints a table of p50/p90 latencies and of the Server-Timing phases. The server is stopped at the end.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = path.join(root, ".wrangler", "bench-enum-state");
const wranglerBin = path.join(root, "node_modules", ".bin", "wrangler");
const HOST = "127.0.0.1";
const PORT = Number(process.env.BENCH_PORT ?? 8851);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 80);
const WARMUP = 6;
const REAL_USERS = 8;
const TARGET_MS = 5;
const RELAXED = "100000000/60";
const log = (msg) => console.error(`[bench:enumeration] ${msg}`);

const wranglerEnv = () => ({
  ...process.env,
  PATH: `${path.dirname(wranglerBin)}${path.delimiter}${process.env.PATH ?? ""}`,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  NO_COLOR: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
});

function prepare() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const jwk = { ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), kid: `enum-${randomBytes(3).toString("hex")}` };
  const envFile = path.join(stateDir, "bench.env");
  fs.writeFileSync(envFile, `JWT_SIGNING_KEYS='${JSON.stringify([jwk])}'\nDATA_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  const persist = path.join(stateDir, "d1");
  const res = spawnSync(wranglerBin, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], { cwd: root, env: wranglerEnv(), encoding: "utf8" });
  if (res.status !== 0) throw new Error(`migrations failed: ${res.stderr}`);
  return { envFile, persist };
}

function startServer({ envFile, persist }) {
  const vars = {
    ENVIRONMENT: "development", // Server-Timing phases
    LOCKOUT_THRESHOLD: "100",
    RATE_LOGIN_PER_IP: RELAXED,
    RATE_LOGIN_PER_EMAIL: RELAXED,
    RATE_REGISTER_PER_IP: RELAXED,
  };
  const args = ["dev", "--ip", HOST, "--port", String(PORT), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const out = fs.openSync(path.join(stateDir, "server.log"), "a");
  const child = spawn(wranglerBin, args, { cwd: root, env: wranglerEnv(), stdio: ["ignore", out, out], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* gone */
    }
  };
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => (stop(), process.exit(130)));
  process.on("exit", stop);
  return stop;
}

const base = `http://${HOST}:${PORT}`;
async function waitReady() {
  for (let i = 0; i < 180; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`server did not start; see ${path.join(stateDir, "server.log")}`);
}

async function login(email, password) {
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 401) throw new Error(`expected 401, got ${res.status}`);
  const phases = Object.fromEntries([...(res.headers.get("server-timing") ?? "").matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
  return { ms, phases };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function main() {
  const stop = startServer(prepare());
  try {
    await waitReady();
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
      const phase = (p) => quantile(xs.map((x) => x.phases[p] ?? NaN).filter((v) => !Number.isNaN(v)), 0.5)?.toFixed(1) ?? "–";
      return [name, xs.length, quantile(xs.map((x) => x.ms), 0.5).toFixed(1), quantile(xs.map((x) => x.ms), 0.9).toFixed(1), phase("lookup"), phase("hash"), phase("app")];
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
    stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
