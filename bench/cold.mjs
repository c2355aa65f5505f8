#!/usr/bin/env node
// `npm run bench:cold` (issue 20, point 3): the first authenticated read after a restart, as the
// side-by-side harness measures it: a fresh `wrangler dev --no-bundle` on a built Worker and a
// persisted local state, wait for its "Ready on" line, then time GET /api/v1/me with an access
// token minted before the restart (then a 2nd and 3rd read, and an unknown path).
//
// Arms, interleaved round by round (same machine, same minutes):
//   default   `wrangler deploy --dry-run` of the working tree: what `wrangler deploy` uploads and
//             the side-by-side harness serves, the code-split build (wrangler.toml's custom build:
//             index.js + chunks, the route groups loaded on first use);
//   one-file  `wrangler deploy src/index.ts --dry-run`: wrangler's own bundle of the source, every
//             dynamic import inlined (what wrangler.toml built before the custom build);
//   base      with `--base <git ref>`: wrangler's bundle of that commit (git archive), the "before";
//   bare      the local floor, for reference (`--no-bare` leaves them out): a bare Worker (no
//             framework) served the same way, same compatibility date, the same persisted D1
//             database and KV namespace. Its first request either answers at once ("touches
//             nothing") or reads one row of keel's users table and one KV key ("D1 + KV"): what
//             `wrangler dev` itself costs a first request, whatever the Worker's code.
//
//   npm run bench:cold [-- --rounds 3] [-- --base <ref>] [-- --no-bare]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { table } from "./lib/report.mjs";
import { applyMigrations, freePort, startProfiler, HOST, RELAXED, root, sleep, startServer, stopAll, stopServer, tail, waitFor, workerdCpuMs, wranglerOnce, writeSecrets } from "./lib/server.mjs";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROUNDS = Number(opt("rounds", 3));
const BASE = opt("base");
const BARE = !args.includes("--no-bare");
const stateDir = path.join(root, ".wrangler", "cold-state");
const log = (msg) => console.error(`[cold] ${msg}`);

/** `wrangler deploy [entry] --dry-run` of the tree at `cwd` into `outdir`; returns the script path. */
function wranglerBundle(cwd, outdir, entry = []) {
  wranglerOnce(["deploy", ...entry, "--dry-run", "--outdir", outdir], "wrangler deploy --dry-run", { cwd });
  return path.join(outdir, "index.js");
}

async function prepareArms() {
  const arms = [];
  if (BASE) {
    const dir = path.join(stateDir, "base-src");
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("sh", ["-c", `git archive ${JSON.stringify(BASE)} | tar -x -C ${JSON.stringify(dir)}`], { cwd: root });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    arms.push({ name: `base (${BASE})`, script: wranglerBundle(dir, path.join(stateDir, "base-bundle")) });
  }
  arms.push({ name: "one-file (wrangler bundle of src/index.ts)", script: wranglerBundle(root, path.join(stateDir, "bundle"), ["src/index.ts"]) });
  if (BARE) arms.push(...bareArms());
  arms.push({ name: "default (wrangler deploy: split)", script: wranglerBundle(root, path.join(stateDir, "default")) });
  return arms;
}

/**
 * The two reference arms: a bare Worker whose config shares keel's D1 database and KV namespace
 * (the same ids, so the same persisted files) and compatibility settings, and nothing else.
 */
function bareArms() {
  const dir = path.join(stateDir, "bare");
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, "index.js");
  fs.writeFileSync(
    script,
    `export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/bare/nothing") return new Response("ok");
    if (pathname === "/bare/storage") {
      const [row, value] = await Promise.all([env.DB.prepare("SELECT id FROM users LIMIT 1").first(), env.CACHE.get("bare-cold-probe")]);
      return Response.json({ user: row !== null, value });
    }
    return new Response("not found", { status: 404 });
  },
};
`,
  );
  const keel = fs.readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const pick = (re, what) => {
    const m = re.exec(keel);
    if (!m) throw new Error(`wrangler.toml: no ${what} for the bare Worker's config`);
    return m[0];
  };
  const config = path.join(dir, "wrangler.toml");
  fs.writeFileSync(
    config,
    [
      'name = "keel-bare-cold"',
      'main = "index.js"',
      pick(/^compatibility_date = .*$/m, "compatibility_date"),
      pick(/^compatibility_flags = .*$/m, "compatibility_flags"),
      pick(/^\[\[d1_databases\]\][^[]*/m, "[[d1_databases]]").trim(),
      pick(/^\[\[kv_namespaces\]\][^[]*/m, "[[kv_namespaces]]").trim(),
      "",
    ].join("\n"),
  );
  return [
    { name: "bare Worker, first request touches nothing", script, config, path: "/bare/nothing", bare: true },
    { name: "bare Worker, first request reads D1 once and KV once", script, config, path: "/bare/storage", bare: true },
  ];
}

async function start(arm, envFile, port) {
  const logFile = path.join(stateDir, "server.log");
  fs.rmSync(logFile, { force: true });
  const inspectorPort = await freePort();
  const server = startServer("api", [
    "dev", arm.script, "--no-bundle", "--config", arm.config ?? path.join(root, "wrangler.toml"),
    "--ip", HOST, "--port", String(port), "--inspector-port", String(inspectorPort),
    "--persist-to", path.join(stateDir, "d1"), "--env-file", envFile, "--show-interactive-dev-session=false",
    "--log-level", "info", "--var", "ENVIRONMENT:development", "--var", `PUBLIC_BASE_URL:http://${HOST}:${port}`,
    // One login per round and arm: more than 3 rounds would reach the per-email login limit.
    "--var", `RATE_LOGIN_PER_EMAIL:${RELAXED}`,
  ], { logFile });
  const started = Date.now();
  while (!/Ready on/.test(tail(logFile, 200))) {
    if (server.child.exitCode !== null) throw new Error(`wrangler dev exited:\n${tail(logFile)}`);
    if (Date.now() - started > 90_000) throw new Error(`no "Ready on" after 90 s:\n${tail(logFile)}`);
    await sleep(20);
  }
  return { server, readyMs: Date.now() - started, inspectorPort };
}

async function timed(url, headers = {}) {
  const t = performance.now();
  const res = await fetch(url, { headers: { "user-agent": "keel-cold/1", ...headers } });
  await res.arrayBuffer();
  // The worker's own share (Server-Timing `app`, development only): the rest is wrangler's proxy,
  // workerd and the connection.
  const app = Number(/app;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1] ?? NaN);
  return { ms: performance.now() - t, status: res.status, app, timing: res.headers.get("server-timing") ?? "" };
}

async function timedCpu(pgid, url, headers) {
  const before = workerdCpuMs(pgid);
  const r = await timed(url, headers);
  return { ...r, cpu: workerdCpuMs(pgid) - before };
}

async function api(base, method, p, body, headers = {}) {
  const res = await fetch(base + p, { method, headers: { "content-type": "application/json", ...headers }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function user(base) {
  const email = `cold-${randomBytes(4).toString("hex")}@keel.test`;
  const password = `${randomBytes(12).toString("hex")} correct horse stapler`;
  await api(base, "POST", "/api/v1/auth/register", { email, password, full_name: "Cold Start" });
  let token;
  for (let i = 0; i < 40 && !token; i++) {
    const box = await api(base, "GET", `/dev/mailbox?to=${encodeURIComponent(email)}`);
    for (const m of box.items ?? []) token ??= /token=([A-Za-z0-9_\-.~%]+)/.exec(m.text ?? "")?.[1];
    if (!token) await sleep(250);
  }
  await api(base, "POST", "/api/v1/auth/verify-email", { token: decodeURIComponent(token) });
  return { email, password };
}

const login = async (base, u) => (await api(base, "POST", "/api/v1/auth/login", u)).access_token;

try {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const envFile = writeSecrets(path.join(stateDir, "cold.env"));
  applyMigrations(path.join(stateDir, "d1"));
  log("building the arms");
  const arms = await prepareArms();
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  let s = await start(arms.at(-1), envFile, port);
  await waitFor(`${base}/health`, { server: s.server });
  const u = await user(base);
  let token = await login(base, u);
  await stopServer(s.server.pid);
  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const arm of arms) {
      await sleep(1000);
      s = await start(arm, envFile, port);
      const auth = { authorization: `Bearer ${token}` };
      // PROFILE=file.cpuprofile: a V8 CPU profile of the first read of round 1's last arm.
      const profiler = process.env.PROFILE && round === 1 && arm === arms.at(-1) ? await startProfiler(s.inspectorPort) : null;
      // COLD_HEALTH_FIRST=1 (diagnosis): GET /health first (it touches D1, KV and a Durable
      // Object), so the timed read pays no first storage touch and no first middleware run.
      const health = process.env.COLD_HEALTH_FIRST ? await timedCpu(s.server.pid, `${base}/health`) : null;
      if (health) log(`round ${round} ${arm.name}: GET /health first: ${health.ms.toFixed(1)} ms, workerd CPU ${health.cpu.toFixed(1)}; ${health.timing}`);
      const url = `${base}${arm.path ?? "/api/v1/me"}`;
      const first = await timedCpu(s.server.pid, url, auth);
      if (profiler) fs.writeFileSync(process.env.PROFILE, JSON.stringify(await profiler.stop()));
      const second = await timed(url, auth);
      const third = await timed(url, auth);
      const notFound = await timed(`${base}/api/v1/cold-no-such-route`);
      if (first.status !== 200) throw new Error(`${arm.name}: first request → ${first.status}`);
      if (!arm.bare) token = await login(base, u); // minted before the next restart
      log(`round ${round} ${arm.name}: first ${first.ms.toFixed(1)} ms (${first.status}, app ${first.app}, workerd CPU ${first.cpu.toFixed(1)}), 2nd ${second.ms.toFixed(1)}, 3rd ${third.ms.toFixed(1)}, 404 ${notFound.ms.toFixed(1)}; first's Server-Timing: ${first.timing}`);
      rows.push({ round, arm: arm.name, readyMs: s.readyMs, first, second, third, notFound });
      await stopServer(s.server.pid);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`First authenticated read after a restart (GET /api/v1/me, JWT minted before; the bare Worker's arms: its first request), ${new Date().toISOString().slice(0, 16)}Z, ${ROUNDS} rounds interleaved, load average ${os.loadavg()[0].toFixed(2)} at the end\n`);
  console.log(
    table(
      ["arm", "first read ms (rounds)", "median", "of which in the worker (app) ms", "workerd CPU ms (rounds)", "median", "2nd ms", "3rd ms", "404 after ms", "statuses"],
      arms.map((a) => {
        const rs = rows.filter((r) => r.arm === a.name);
        const f = (k) => rs.map((r) => r[k].ms.toFixed(1)).join(", ");
        return [a.name, f("first"), `**${med(rs.map((r) => r.first.ms)).toFixed(1)}**`, rs.map((r) => (Number.isNaN(r.first.app) ? "–" : r.first.app.toFixed(1))).join(", "), rs.map((r) => r.first.cpu.toFixed(1)).join(", "), `**${med(rs.map((r) => r.first.cpu)).toFixed(1)}**`, f("second"), f("third"), f("notFound"), [...new Set(rs.map((r) => r.first.status))].join("/")];
      }),
    ),
  );
} finally {
  await stopAll();
}
