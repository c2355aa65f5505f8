#!/usr/bin/env node
// `npm run bench:hash-spread` (not part of npm test): how much one production password hash
// (scrypt N=2^14, r=8, p=5) varies in CPU from batch to batch on this machine, at 1, 2 and 10
// requests in flight. The side-by-side harness reports sign-in and sign-up "beyond the hash" as
// a request's CPU minus one separately measured hash; this says how large that hash's own spread
// is, i.e. how small a difference beyond it such a subtraction can resolve.
//
// Serves bench/hash-worker.ts with its own `wrangler dev`, sends ROUNDS × (1, 2, 10 concurrent)
// batches of OPS requests to `GET /?n=1` (one hash + one verify each), and prints per batch the
// server process group's CPU per scrypt call (utime + stime from /proc) and the wall time.
//
//   npm run bench:hash-spread                 ROUNDS=3 OPS=20
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { groupCpu, startHashWorker, stopAll, stopHashWorker } from "./lib/server.mjs";
import { fmt, quantile } from "./lib/stats.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const OPS = Number(process.env.OPS ?? 20);
const CONCURRENCY = [1, 2, 10];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-hash-spread-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));
const { base, server } = await startHashWorker(scratch);
try {
  const perConcurrency = new Map(CONCURRENCY.map((c) => [c, []]));
  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const conc of CONCURRENCY) {
      let left = OPS;
      const cpu0 = groupCpu(server.pid).all;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: conc }, async () => {
          while (left-- > 0) {
            const res = await fetch(`${base}/?n=1`);
            if (!res.ok) throw new Error(`hash worker answered ${res.status}`);
            await res.json();
          }
        }),
      );
      const perScrypt = ((groupCpu(server.pid).all - cpu0) * 1000) / (2 * OPS);
      perConcurrency.get(conc).push(perScrypt);
      rows.push(`| ${round} | ${conc} | ${fmt(perScrypt)} | ${Math.round(performance.now() - t0)} |`);
    }
  }
  console.log(`Password hash spread, ${new Date().toISOString()}, ${ROUNDS} rounds × ${OPS} requests (1 hash + 1 verify each), load ${os.loadavg()[0].toFixed(2)}\n`);
  console.log("| round | in flight | CPU ms per scrypt call | wall ms |\n|---|---|---|---|");
  for (const r of rows) console.log(r);
  const all = [...perConcurrency.values()].flat().sort((a, b) => a - b);
  console.log(`\nAll batches: median ${fmt(quantile(all, 0.5))} ms, min ${fmt(all[0])}, max ${fmt(all.at(-1))} (spread ±${fmt(((all.at(-1) - all[0]) / 2 / quantile(all, 0.5)) * 100)} % of the median).`);
} finally {
  await stopHashWorker(server);
  await stopAll();
}
