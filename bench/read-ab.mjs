#!/usr/bin/env node
// `node bench/read-ab.mjs A B [...]`: the read path of two or more versions of keel, side by side
// in one run (issue 20, point 5: the D1 session per request must cost nothing measurable). Each
// version is a git ref (its src/ bundled with `wrangler deploy --dry-run`). One `wrangler dev` per
// version (own scratch state, throwaway secrets), a verified, signed-in user with one saved search
// on each, then ROUNDS rounds of autocannon per scenario and version, interleaved (A, B, B, A, …),
// so the shared machine's drift hits every version alike:
//   - GET /api/v1/me with the JWT (the hot read: no D1 statement while the user view is cached)
//   - GET /api/v1/me/saved-searches with the JWT (a read that runs one D1 query per request)
// Prints per version and scenario req/s and the CPU of its workerd processes per request, and each
// version's ratio to the first.
//   Knobs (env): ROUNDS (default 4), SECONDS per round (default 2), CONNECTIONS (default 8).
import autocannon from "autocannon";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkoutOf, groupCpu, applyMigrations, freePort, HOST, RELAXED, root, sleep, startServer, stopAll, varArgs, waitFor, wranglerOnce, writeSecrets } from "./lib/server.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS ?? 2);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 8);
const log = (m) => console.error(`[bench:read-ab] ${m}`);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-read-ab-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

function bundleOf(ref, i) {
  const out = path.join(scratch, `bundle-${i}`);
  const tree = checkoutOf(ref, path.join(scratch, `tree-${i}`));
  wranglerOnce(["deploy", "--dry-run", "--outdir", out], `bundling ${ref}`, { cwd: tree });
  return out;
}

async function start(ref, i) {
  const bundle = bundleOf(ref, i);
  const envFile = writeSecrets(path.join(scratch, `env-${i}`), `rab-${i}`);
  const persist = path.join(scratch, `state-${i}`, "d1");
  fs.mkdirSync(persist, { recursive: true });
  applyMigrations(persist);
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ["dev", path.join(bundle, "index.js"), "--no-bundle", "--config", path.join(root, "wrangler.toml"), "--ip", HOST, "--port", String(port)];
  args.push("--inspector-port", String(await freePort()), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false");
  // Development mode (for /dev/mailbox), the limits relaxed so the run measures work, not 429s.
  args.push(...varArgs({ RATE_LOGIN_PER_IP: RELAXED, RATE_LOGIN_PER_EMAIL: RELAXED, RATE_REGISTER_PER_IP: RELAXED, RATE_WRITES_PER_USER: RELAXED, PUBLIC_BASE_URL: base, ENVIRONMENT: "development" }));
  const server = startServer(ref, args, { logFile: path.join(scratch, `server-${i}.log`) });
  await waitFor(`${base}/health`, { server, timeoutMs: 120_000, what: `server for ${ref}` });
  return { base, name: ref, pgid: server.pid };
}

async function json(base, method, p, body, token) {
  const headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(base + p, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signedIn(base) {
  const email = `rab-${randomBytes(4).toString("hex")}@keel.test`;
  const password = `${randomBytes(10).toString("hex")} correct horse stapler`;
  const r = await json(base, "POST", "/api/v1/auth/register", { email, password, full_name: "AB Reader" });
  if (r.status !== 201) throw new Error(`register: ${r.status}`);
  for (let t = 0; t < 40; t++) {
    const box = await json(base, "GET", `/dev/mailbox?to=${encodeURIComponent(email)}`);
    const match = (box.body?.items ?? []).map((m) => /token=([A-Za-z0-9_\-.~%]+)/.exec(m.text ?? "")).find(Boolean);
    if (match) {
      const v = await json(base, "POST", "/api/v1/auth/verify-email", { token: decodeURIComponent(match[1]) });
      if (v.status !== 200) throw new Error(`verify: ${v.status}`);
      const login = await json(base, "POST", "/api/v1/auth/login", { email, password });
      if (login.status !== 200) throw new Error(`login: ${login.status}`);
      const token = login.body.access_token;
      const s = await json(base, "POST", "/api/v1/me/saved-searches", { name: "bridges", query: { keywords: ["bridge"] } }, token);
      if (s.status !== 201) throw new Error(`saved search: ${s.status}`);
      return token;
    }
    await sleep(250);
  }
  throw new Error("no verification mail");
}


const refs = process.argv.slice(2);
if (refs.length < 2) {
  console.error("usage: node bench/read-ab.mjs REF REF... (git refs)");
  process.exit(2);
}
const SCENARIOS = [
  { name: "GET /me (JWT)", path: "/api/v1/me" },
  { name: "GET /me/saved-searches (JWT, 1 D1 read)", path: "/api/v1/me/saved-searches" },
];
const servers = [];
for (const [i, ref] of refs.entries()) {
  log(`starting ${ref}`);
  servers.push(await start(ref, i));
}
for (const s of servers) s.token = await signedIn(s.base);
const totals = servers.map(() => SCENARIOS.map(() => ({ requests: 0, seconds: 0, cpu: 0, non2xx: 0 })));
const run = async (s, scenario, duration) =>
  autocannon({ url: s.base + scenario.path, connections: CONNECTIONS, duration, headers: { authorization: `Bearer ${s.token}` } });
for (const s of servers) for (const sc of SCENARIOS) await run(s, sc, 1); // warm-up
log(`${ROUNDS} rounds × ${SECONDS} s per scenario and version, interleaved`);
for (let r = 0; r < ROUNDS; r++) {
  for (const [j, sc] of SCENARIOS.entries()) {
    const order = servers.map((_, k) => k);
    if ((r + j) % 2 === 1) order.reverse();
    for (const k of order) {
      const cpu0 = groupCpu(servers[k].pgid).workerd;
      const res = await run(servers[k], sc, SECONDS);
      const t = totals[k][j];
      t.cpu += groupCpu(servers[k].pgid).workerd - cpu0;
      t.requests += res.requests.total;
      t.seconds += SECONDS;
      t.non2xx += res.non2xx;
    }
  }
}
await stopAll();
console.log(`| scenario | version | req/s | workerd CPU ms/req | non-2xx | req/s ÷ first | CPU ÷ first |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const [j, sc] of SCENARIOS.entries()) {
  const first = totals[0][j];
  for (const [k, s] of servers.entries()) {
    const t = totals[k][j];
    const rps = t.requests / t.seconds;
    const cpuMs = (t.cpu * 1000) / t.requests;
    const rps0 = first.requests / first.seconds;
    const cpu0 = (first.cpu * 1000) / first.requests;
    console.log(`| ${sc.name} | ${s.name} | ${rps.toFixed(0)} | ${cpuMs.toFixed(3)} | ${t.non2xx} | ${(rps / rps0).toFixed(3)} | ${(cpuMs / cpu0).toFixed(3)} |`);
  }
}
process.exit(0);
