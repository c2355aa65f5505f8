#!/usr/bin/env node
// `npm run bench:webhooks` (issue 18): the webhook fan-out of one ingest. N tenders (default 500)
// against M alerts (default 10,000; five per user, bench/matcher-data.ts seeds 1/2) of which the
// first E users (default 1,000) have one user endpoint listening to alert.matched and
// notification.created. Everything runs keel's own code inside workerd (bench/webhooks-worker.ts
// under its own `wrangler dev`, bench/webhooks.wrangler.toml, scratch D1 in .wrangler/bench-webhooks,
// wiped at start): matchTenders writes matches, notifications, webhook events and their pending
// deliveries (the outbox); the WEBHOOK_QUEUE messages it sends are captured and handed, in batches
// of BENCH_BATCH messages (default 1; the queue may give the consumer up to 20, wrangler.toml, and every
// delivery of every message in a batch then runs at once: docs/performance.md, Webhook fan-out,
// says what that costs) to the real consumer, which
// claims, signs and POSTs every delivery to a receiver in this Node process (answers 200).
//
// Measures: events written, deliveries completed, wall time of the delivery phase (Node clock,
// first batch sent to last answered), deliveries/s, and CPU per delivery = CPU time (utime+stime
// from /proc/<pid>/stat) of the bench worker's process group (wrangler's Node + workerd) during
// the delivery phase ÷ deliveries. The receiver's CPU (this process) is reported apart.
//
// Knobs (env): BENCH_TENDERS, BENCH_ALERTS, BENCH_ENDPOINTS, BENCH_BATCH, BENCH_PARALLEL (batches
// in flight at once, default 1). Writes bench/results-webhooks.md. Not part of `npm test`.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { applyMigrations, fetchJson, freePort, groupCpu, machineJiffies, root, serverPids, startServer, stopServer, waitFor } from "./lib/server.mjs";

const stateDir = path.join(root, ".wrangler", "bench-webhooks");
const persist = path.join(stateDir, "state");
const config = path.join(root, "bench", "webhooks.wrangler.toml");
const resultsFile = path.join(root, "bench", "results-webhooks.md");
const TENDERS = Number(process.env.BENCH_TENDERS ?? 500);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 1_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 1);
const log = (msg) => console.error(`[bench:webhooks] ${msg}`);
const n = (v) => Math.round(v).toLocaleString("en-US");
const f = (v, d = 1) => v.toFixed(d);



const call = (base, pathname, method = "POST") => fetchJson(base, pathname, { method });

/** The receiver: answers 200 to every POST and counts what it got (distinct webhook-ids per endpoint). */
function startReceiver() {
  const stats = { requests: 0, signed: 0, bytes: 0 };
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    let size = 0;
    req.on("data", (c) => (size += c.length));
    req.on("end", () => {
      stats.requests++;
      stats.bytes += size;
      if (req.headers["webhook-signature"]?.startsWith("v1,") && req.headers["webhook-id"]) stats.signed++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, stats, port: server.address().port })));
}

async function main() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const loadAtStart = os.loadavg();
  log("applying migrations to the scratch D1");
  applyMigrations(persist, ["--config", config]);
  const receiver = await startReceiver();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting the bench worker on ${base}; receiver on http://127.0.0.1:${receiver.port}`);
  const server = startServer(
    "webhooks",
    ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
      "--persist-to", persist, "--show-interactive-dev-session=false", "--log-level", "warn"],
    { logFile: path.join(stateDir, "worker.log") },
  );
  try {
    await waitFor(`${base}/ping`, { server, what: "the bench worker" });
    log(`seeding ${n(ALERTS)} alerts, ${n(TENDERS)} tenders, ${n(ENDPOINTS)} endpoints`);
    const seeded = await call(base, `/seed?tenders=${TENDERS}&alerts=${ALERTS}&endpoints=${ENDPOINTS}&receiver=http://127.0.0.1:${receiver.port}`);
    log(`seeded: ${JSON.stringify(seeded)}`);

    log("matching (real matchTenders: matches, notifications, webhook outbox)");
    const cpu0 = groupCpu(serverPids());
    const t0 = performance.now();
    const matched = await call(base, "/match");
    const matchWall = performance.now() - t0;
    const cpu1 = groupCpu(serverPids());
    log(`matched: ${JSON.stringify(matched)}`);
    const pending = matched.deliveries.pending ?? 0;

    log(`delivering ${n(pending)} pending deliveries from ${matched.messages} queue messages, ${BATCH} per batch, ${PARALLEL} batch(es) in flight`);
    const m0 = machineJiffies();
    const cpu2 = groupCpu(serverPids());
    const t1 = performance.now();
    let next = 0;
    let innerMs = 0;
    let retried = 0;
    let lastLog = Date.now();
    const worker = async () => {
      while (next < matched.messages) {
        const from = next;
        next += BATCH;
        const r = await call(base, `/deliver?from=${from}&n=${BATCH}`);
        innerMs += r.deliver_ms;
        retried += r.retried;
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          log(`${n(receiver.stats.requests)} delivered so far`);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const deliverWall = performance.now() - t1;
    const cpu3 = groupCpu(serverPids());
    const m1 = machineJiffies();
    const after = await call(base, "/counts", "GET");
    const delivered = after.deliveries.delivered ?? 0;
    const events = Object.values(after.events).reduce((a, b) => a + b, 0);
    const serverCpu = cpu3.all - cpu2.all;
    const receiverCpu = cpu3.self - cpu2.self;
    const machineBusy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
    const ourShare = (serverCpu + receiverCpu) / ((deliverWall / 1000) * os.cpus().length);

    const full = TENDERS === 500 && ALERTS === 10_000 && ENDPOINTS === 1_000;
    const rows = [
      ["Scale", `${n(TENDERS)} tenders × ${n(ALERTS)} alerts (${n(seeded.users)} users), ${n(seeded.endpoints)} user endpoints${full ? " (the issue's full scale)" : " (REDUCED scale; the issue asks 500 × 10,000 × 1,000)"}`],
      ["Matches (new)", `${n(matched.matches)} (${n(matched.new_matches)})`],
      ["Webhook events written", `${n(events)} (${Object.entries(after.events).map(([k, v]) => `${k} ${n(v)}`).join(", ")})`],
      ["Matching + outbox (one matchTenders call)", `${f(matched.match_ms / 1000, 2)} s inside workerd, server CPU ${f(cpu1.all - cpu0.all, 2)} s`],
      ["Queue messages to the consumer", `${n(matched.messages)} fan-out messages, batches of ${BATCH}, ${PARALLEL} in flight`],
      ["**Deliveries completed**", `**${n(delivered)}** of ${n(pending)} (${Object.entries(after.deliveries).map(([k, v]) => `${k} ${n(v)}`).join(", ")}); receiver got ${n(receiver.stats.requests)} (${n(receiver.stats.signed)} signed)`],
      ["Delivery phase wall time", `${f(deliverWall / 1000, 2)} s (inside workerd: ${f(innerMs / 1000, 2)} s)`],
      ["**Deliveries per second**", `**${f(delivered / (deliverWall / 1000), 0)}**`],
      ["**CPU per delivery** (bench worker process group: wrangler + workerd, /proc utime+stime)", `**${f((serverCpu * 1000) / Math.max(1, delivered), 2)} ms** (${f(serverCpu, 2)} s in all; workerd alone ${f(((cpu3.workerd - cpu2.workerd) * 1000) / Math.max(1, delivered), 2)} ms)`],
      ["Receiver CPU per delivery (Node, this process)", `${f((receiverCpu * 1000) / Math.max(1, delivered), 2)} ms`],
      ["Machine during delivery", `${f(machineBusy * 100, 0)} % busy of ${os.cpus().length} cores, of which the bench ${f(ourShare * 100, 0)} %; load average at start ${loadAtStart.map((x) => x.toFixed(1)).join(", ")}`],
    ];
    const date = new Date().toISOString().slice(0, 16).replace("T", " ");
    const table = [
      `Webhook fan-out, ${date} UTC: one ingest's matching through keel's real code (bench/webhooks-worker.ts in local workerd, local D1), then every delivery by the real consumer to a local receiver answering 200. ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, shared machine.`,
      "",
      "| Measure | Value |",
      "| --- | --- |",
      ...rows.map(([k, v]) => `| ${k} | ${v} |`),
      "",
      `Rerun: \`BENCH_TENDERS=${TENDERS} BENCH_ALERTS=${ALERTS} BENCH_ENDPOINTS=${ENDPOINTS} BENCH_BATCH=${BATCH} BENCH_PARALLEL=${PARALLEL} npm run bench:webhooks\`. Retried messages: ${retried}.`,
      "",
    ].join("\n");
    process.stdout.write(`${table}\n`);
    fs.writeFileSync(resultsFile, table);
    log(`wrote ${path.relative(root, resultsFile)}`);
    if (delivered !== pending) process.exitCode = 1;
  } finally {
    await stopServer(server.pid);
    receiver.server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
