#!/usr/bin/env node
// `npm run bench:sbs-fast-hash -- --ba <Better Auth peer dir> [--sbs DIR] [--runs 5]`: the side-by-side
// harness's sign-in and sign-up rows (../shared/peers/sidebyside/bench.mjs) with both services'
// password hashes made cheap, so "CPU beyond one hash" is read without the hash's noise.
//
// Why: the harness reads "beyond the hash" as server CPU per request minus the hash timed in a
// separate worker. keel's hash (scrypt N=2^14 r=8 p=5, ~140–180 ms here) drifts ±9 % from one
// batch to the next on this machine (`npm run bench:hash-spread`), i.e. ±13 ms, more than the
// difference being measured; Better Auth's (N=2^14 r=16 p=1, ~60 ms) drifts less in absolute terms.
// With both at N=2^10 (keel r=8 p=1, Better Auth r=16 p=1: 2–4 ms) the subtraction is exact to
// ~0.1 ms and everything else is the harness unchanged: the same builds, requests, loads and CPU
// accounting, both services in one run. Not a security setting: only these scratch copies change.
//
// What it does, in DIR (default $SBS or /tmp/keel-sbs-fast):
//   keel/  a clone of this repository's HEAD, DEFAULT_SCRYPT set to { N: 2 ** 10, r: 8, p: 1 },
//          node_modules linked to this checkout's;
//   ba/    a copy of the peer (without node_modules) whose node_modules are hard links of the
//          peer's, except @better-auth/utils/dist/password.* (its scrypt parameters), rewritten
//          with N: 1024 (a new file, so the peer's own copy is untouched);
//   then runs the harness: --phases prepare,bench --only baseline,signin-c1,signin-c2,signup.
// The peer dir must have its node_modules installed (../shared/peers/sidebyside/README.md).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { root } from "./lib/server.mjs";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const BA = opt("ba");
const SBS = path.resolve(opt("sbs", process.env.SBS ?? "/tmp/keel-sbs-fast"));
const RUNS = opt("runs", "5");
const HARNESS = path.resolve(root, "..", "shared", "peers", "sidebyside", "bench.mjs");
const log = (m) => console.error(`[sbs-fast-hash] ${m}`);
if (!BA || !fs.existsSync(path.join(BA, "node_modules"))) {
  console.error("usage: npm run bench:sbs-fast-hash -- --ba <Better Auth peer dir with node_modules> [--sbs DIR] [--runs N]");
  process.exit(2);
}
if (!fs.existsSync(HARNESS)) throw new Error(`no harness at ${HARNESS}`);

function patch(file, from, to) {
  const code = fs.readFileSync(file, "utf8");
  const out = code.replace(from, to);
  if (out === code) throw new Error(`${file}: ${from} not found`);
  fs.rmSync(file); // a hard link: replace the file, never write through to the peer's copy
  fs.writeFileSync(file, out);
}

fs.rmSync(SBS, { recursive: true, force: true });
fs.mkdirSync(SBS, { recursive: true });
const keel = path.join(SBS, "keel");
const ba = path.join(SBS, "ba");

log(`keel: clone of HEAD in ${keel}, scrypt N=2^10 r=8 p=1`);
execFileSync("git", ["clone", "-q", root, keel]);
execFileSync("git", ["checkout", "-q", execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim()], { cwd: keel });
fs.symlinkSync(path.join(root, "node_modules"), path.join(keel, "node_modules"));
patch(path.join(keel, "src/features/auth/password-hash.ts"), "Object.freeze({ N: 2 ** 14, r: 8, p: 5 })", "Object.freeze({ N: 2 ** 10, r: 8, p: 1 })");

log(`ba: copy of ${BA} in ${ba}, scrypt N=1024 r=16 p=1`);
execFileSync("sh", ["-c", `mkdir -p "${ba}" && (cd "${BA}" && tar --exclude=node_modules --exclude=.wrangler -cf - .) | tar -xf - -C "${ba}" && cp -al "${path.join(BA, "node_modules")}" "${path.join(ba, "node_modules")}"`]);
const utils = path.join(ba, "node_modules/@better-auth/utils/dist");
const files = fs.readdirSync(utils).filter((f) => /^password(\.node)?\.(mjs|cjs)$/.test(f));
if (!files.length) throw new Error(`no password module in ${utils}`);
for (const f of files) patch(path.join(utils, f), "N: 16384,", "N: 1024,");

log(`harness: ${HARNESS}, ${RUNS} runs`);
const out = path.join(SBS, `sbs-fast-hash-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, "")}.json`);
const run = spawnSync(process.execPath, [HARNESS, "--runs", RUNS, "--duration", "10", "--phases", "prepare,bench", "--only", "baseline,signin-c1,signin-c2,signup", "--keel", keel, "--ba", ba, "--state", path.join(SBS, "state"), "--out", out], {
  cwd: path.dirname(HARNESS),
  stdio: "inherit",
  env: { ...process.env, SBS, SBS_KEEL_VARS: process.env.SBS_KEEL_VARS ?? "API_KEY_MAX_RATE_PER_HOUR:1000000" },
});
if (run.status !== 0) process.exit(run.status ?? 1);
log(`tables: ${out.replace(/\.json$/, ".md")}`);
