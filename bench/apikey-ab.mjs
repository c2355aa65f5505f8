#!/usr/bin/env node
// `npm run bench:apikey-ab -- A B [...]`: GET /me with an API key against the same version's own
// floor (the unknown-path 404), for two or more versions of keel side by side (not part of npm
// test). Each version is a git ref (its src/ bundled with `wrangler deploy --dry-run`). One
// `wrangler dev` per version (own scratch state, throwaway secrets, development mode), a verified
// user with an API key on each, then ROUNDS rounds; in each round every version runs the 404 and
// the API-key read for ROUND_SECONDS each (autocannon, CONNECTIONS connections), the order of
// versions alternating, so the shared machine's drift hits every version alike. Prints per
// version req/s (mean of rounds), the API-key read ÷ 404 ratio of req/s, and the workerd CPU per
// request of each scenario.
//
//   npm run bench:apikey-ab -- 5b96159 HEAD
//
// Knobs (env): ROUNDS (default 4), ROUND_SECONDS (default 2.5), CONNECTIONS (default 10),
// KEY_RATE (the key's rate_limit_per_hour, default 100000, the default maximum).
import autocannon from "autocannon";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkoutOf, groupCpu, freePort, HOST, RELAXED, root, sleep, startServer, stopAll, varArgs, waitFor, wranglerOnce, writeSecrets, applyMigrations } from "./lib/server.mjs";
import { fmt } from "./lib/stats.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const ROUND_SECONDS = Number(process.env.ROUND_SECONDS ?? 2.5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const KEY_RATE = Number(process.env.KEY_RATE ?? 100_000);
const log = (m) => console.error(`[bench:apikey-ab] ${m}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-apikey-ab-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

/** The bundle of a git ref: its src/ and config beside this checkout's node_modules. */
function bundleOf(version, i) {
  const out = path.join(scratch, `bundle-${i}`);
  const tree = checkoutOf(version, path.join(scratch, `tree-${i}`));
  wranglerOnce(["deploy", "--dry-run", "--outdir", out], `bundling ${version}`, { cwd: tree });
  return path.join(out, "index.js");
}

async function start(version, i) {
  const script = bundleOf(version, i);
  const persist = path.join(scratch, `state-${i}`, "d1");
  applyMigrations(persist);
  const envFile = writeSecrets(path.join(scratch, `env-${i}`), `apikey-ab-${i}`);
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const args = ["dev", script, "--no-bundle", "--config", path.join(root, "wrangler.toml"), "--ip", HOST, "--port", String(port)];
  args.push("--inspector-port", String(await freePort()), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false");
  args.push(...varArgs({ ENVIRONMENT: "development", RATE_LOGIN_PER_IP: RELAXED, RATE_LOGIN_PER_EMAIL: RELAXED, RATE_REGISTER_PER_IP: RELAXED, PUBLIC_BASE_URL: base }));
  const server = startServer(version, args, { logFile: path.join(scratch, `server-${i}.log`) });
  await waitFor(`${base}/health`, { server, timeoutMs: 120_000, what: `server for ${version}` });
  return { base, name: version, pgid: server.pid };
}

async function json(base, method, p, body, headers = {}) {
  const res = await fetch(base + p, { method, headers: { "content-type": "application/json", ...headers }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A verified, signed-in user and an API key with read:profile. */
async function apiKeyOn(base) {
  const email = `ab-${randomBytes(4).toString("hex")}@keel.test`;
  const password = `${randomBytes(10).toString("hex")} correct horse stapler`;
  if ((await json(base, "POST", "/api/v1/auth/register", { email, password, full_name: "AB Tester" })).status !== 201) throw new Error("register failed");
  let verified = false;
  for (let t = 0; t < 40 && !verified; t++) {
    const box = await json(base, "GET", `/dev/mailbox?to=${encodeURIComponent(email)}`);
    const match = (box.body?.items ?? []).map((m) => /token=([A-Za-z0-9_\-.~%]+)/.exec(m.text ?? "")).find(Boolean);
    if (match) verified = (await json(base, "POST", "/api/v1/auth/verify-email", { token: decodeURIComponent(match[1]) })).status === 200;
    else await sleep(250);
  }
  if (!verified) throw new Error("no verification mail");
  const login = await json(base, "POST", "/api/v1/auth/login", { email, password });
  const key = await json(base, "POST", "/api/v1/me/api-keys", { name: "ab", scopes: ["read:profile"], rate_limit_per_hour: KEY_RATE }, { authorization: `Bearer ${login.body.access_token}` });
  if (key.status !== 201) throw new Error(`api key: ${key.status} ${JSON.stringify(key.body)}`);
  return key.body.key;
}


async function run(server, url, headers, expected, seconds) {
  const cpu0 = groupCpu(server.pgid).workerd;
  const r = await new Promise((resolve, reject) =>
    autocannon({ url, headers: { "user-agent": "keel-apikey-ab/1", ...headers }, connections: CONNECTIONS, duration: seconds, timeout: 10 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  const cpu = groupCpu(server.pgid).workerd - cpu0;
  const wrong = Object.entries(r.statusCodeStats ?? {}).filter(([code]) => Number(code) !== expected).reduce((n, [, { count }]) => n + count, 0);
  if (wrong > 0 || r.errors > 0) throw new Error(`${server.name} ${url}: ${JSON.stringify(r.statusCodeStats)} errors ${r.errors}`);
  return { rps: r.requests.average, cpuMs: (cpu * 1000) / Math.max(1, r.requests.total) };
}

const versions = process.argv.slice(2);
if (!versions.length) {
  console.error("usage: npm run bench:apikey-ab -- VERSION VERSION... (git refs)");
  process.exit(2);
}
const servers = [];
for (const [i, v] of versions.entries()) {
  log(`starting ${v}`);
  servers.push(await start(v, i));
}
for (const s of servers) s.key = await apiKeyOn(s.base);
const scenarios = (s) => [
  ["404", `${s.base}/api/v1/this-route-does-not-exist`, {}, 404],
  ["key", `${s.base}/api/v1/me`, { "x-api-key": s.key }, 200],
];
log("warm-up: 1 s of each scenario per version");
for (const s of servers) for (const [, url, headers, expected] of scenarios(s)) await run(s, url, headers, expected, 1);
log(`${ROUNDS} rounds × ${ROUND_SECONDS} s per scenario and version, interleaved`);
const samples = servers.map(() => ({ 404: [], key: [] }));
for (let round = 0; round < ROUNDS; round++) {
  const order = servers.map((_, k) => k);
  if (round % 2 === 1) order.reverse();
  for (const k of order) {
    const s = servers[k];
    const list = scenarios(s);
    if (round % 2 === 1) list.reverse();
    for (const [name, url, headers, expected] of list) samples[k][name].push(await run(s, url, headers, expected, ROUND_SECONDS));
  }
}
await stopAll();

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log("| version | 404 req/s | API-key GET /me req/s | key ÷ 404 (req/s) | per-round ratios | workerd CPU ms/req 404 | key | 404 ÷ key (CPU) |");
console.log("|---|---|---|---|---|---|---|---|");
for (const [k, s] of servers.entries()) {
  const a = samples[k][404];
  const b = samples[k].key;
  const perRound = a.map((x, i) => fmt(b[i].rps / x.rps, 2)).join(", ");
  const cpuA = mean(a.map((x) => x.cpuMs));
  const cpuB = mean(b.map((x) => x.cpuMs));
  console.log(`| ${s.name} | ${fmt(mean(a.map((x) => x.rps)), 0)} | ${fmt(mean(b.map((x) => x.rps)), 0)} | ${fmt(mean(b.map((x) => x.rps)) / mean(a.map((x) => x.rps)), 2)} | ${perRound} | ${fmt(cpuA, 2)} | ${fmt(cpuB, 2)} | ${fmt(cpuA / cpuB, 2)} |`);
}
process.exit(0);
