#!/usr/bin/env node
// How long 100,000 users take to import locally: `npm run bench:import`.
//
//   1. scratch state in .wrangler/bench-import (wiped at start), throwaway secrets, D1 migrations,
//      and an administrator written straight into D1 (keel's own scrypt hash, role `admin`);
//   2. the worker bundled once (a snapshot of src/), served by `wrangler dev --no-bundle` on
//      BENCH_IMPORT_PORT (default 8895);
//   3. BENCH_IMPORT_USERS generated users (default 100,000) in a JSON Lines file: most with one of a
//      few precomputed bcrypt hashes (cost 10), some with Werkzeug pbkdf2 hashes, 2 % without a hash
//      (they get set-password emails through the queue), a third with profile fields;
//   4. scripts/import-users.mjs sends the file in chunks of 1,000 (first pass: mode skip, everything
//      created), then again (second pass: everything skipped, the idempotent rerun);
//   5. a markdown table on stdout.
import bcrypt from "bcryptjs";
import { pbkdf2Sync, randomBytes, scryptSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, HOST, root, startServer, stopServer, waitFor, wranglerOnce, writeSecrets } from "./lib/server.mjs";
import { main as importUsers } from "../scripts/import-users.mjs";

const stateDir = path.join(root, ".wrangler", "bench-import");
const PORT = Number(process.env.BENCH_IMPORT_PORT ?? 8895);
const USERS = Number(process.env.BENCH_IMPORT_USERS ?? 100_000);
const CHUNK = Number(process.env.BENCH_IMPORT_CHUNK ?? 1000);
const ADMIN_EMAIL = "import-admin@bench.keel.test";
const ADMIN_PASSWORD = "keel-import-bench-passphrase";
const base = `http://${HOST}:${PORT}`;
const log = (m) => process.stderr.write(`[bench:import] ${m}\n`);

const b64 = (buf) => buf.toString("base64").replace(/=+$/, "");
function adminSql() {
  const salt = randomBytes(16);
  const key = scryptSync(Buffer.from(ADMIN_PASSWORD.normalize("NFKC")), salt, 32, { N: 2 ** 14, r: 8, p: 5, maxmem: 64 * 1024 * 1024 });
  const hash = `$scrypt$ln=14,r=8,p=5$${b64(salt)}$${b64(key)}`;
  const now = Date.now();
  return [
    `INSERT INTO users (id, email, password_hash, full_name, email_verified, email_verified_at, created_at, updated_at, password_changed_at) VALUES ('usr_import_admin', '${ADMIN_EMAIL}', '${hash}', 'Import Administrator', 1, ${now}, ${now}, ${now}, ${now});`,
    `INSERT INTO user_profiles (user_id, created_at, updated_at) VALUES ('usr_import_admin', ${now}, ${now});`,
    `INSERT INTO user_preferences (user_id, updated_at) VALUES ('usr_import_admin', ${now});`,
    `INSERT INTO user_roles (id, user_id, role_id) VALUES ('uro_import_admin', 'usr_import_admin', 'role_admin');`,
  ].join("\n");
}

function generate(file) {
  // A few precomputed hashes keep generation fast; the API still parses and stores every row.
  const bcryptHashes = Array.from({ length: 8 }, (_, i) => bcrypt.hashSync(`legacy-password-${i}`, 10));
  const pbkdf2Hashes = Array.from({ length: 4 }, (_, i) => {
    const salt = randomBytes(8).toString("hex");
    return `pbkdf2:sha256:260000$${salt}$${pbkdf2Sync(`werkzeug-password-${i}`, salt, 260000, 32, "sha256").toString("hex")}`;
  });
  const run = Date.now().toString(36);
  const out = fs.openSync(file, "w");
  let buf = "";
  for (let i = 0; i < USERS; i++) {
    const user = { email: `imported-${run}-${i}@bench.keel.test`, full_name: `Imported User ${i}`, email_verified: i % 5 !== 0 };
    if (i % 50 !== 0) user.password_hash = i % 10 === 1 ? pbkdf2Hashes[i % pbkdf2Hashes.length] : bcryptHashes[i % bcryptHashes.length];
    if (i % 3 === 0) user.profile = { company_name: `Company ${i} Pvt Ltd`, operating_states: ["Bihar", "Goa"], head_office_city: "Patna" };
    if (i % 4 === 0) user.account_type = "basic";
    buf += `${JSON.stringify(user)}\n`;
    if (buf.length > 1 << 20) {
      fs.writeSync(out, buf);
      buf = "";
    }
  }
  fs.writeSync(out, buf);
  fs.closeSync(out);
}

async function run() {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const envFile = writeSecrets(path.join(stateDir, "bench.env"), "bench-import");
  const persist = path.join(stateDir, "d1");
  log("migrations and administrator");
  applyMigrations(persist);
  const sqlFile = path.join(stateDir, "admin.sql");
  fs.writeFileSync(sqlFile, adminSql());
  wranglerOnce(["d1", "execute", "DB", "--local", "--persist-to", persist, "--file", sqlFile], "admin insert");

  log(`generating ${USERS} users`);
  const file = path.join(stateDir, "users.jsonl");
  let t = performance.now();
  generate(file);
  const generateSeconds = (performance.now() - t) / 1000;

  // A snapshot of src/ (bundled once, served with --no-bundle): edits made meanwhile do not reload it.
  log("bundling the worker once");
  const outdir = path.join(stateDir, "bundle");
  wranglerOnce(["deploy", "--dry-run", "--outdir", outdir], "wrangler deploy --dry-run");

  log(`starting wrangler dev on ${base}`);
  const server = startServer(
    "api",
    ["dev", path.join(outdir, "index.js"), "--no-bundle", "--config", path.join(root, "wrangler.toml"), "--ip", HOST, "--port", String(PORT), "--inspector-port", String(PORT + 1), "--persist-to", persist, "--env-file", envFile,
      "--show-interactive-dev-session=false", "--log-level", "warn", "--var", "ENVIRONMENT:development", "--var", `PUBLIC_BASE_URL:${base}`],
    { logFile: path.join(stateDir, "api.log") },
  );
  try {
    await waitFor(`${base}/health`, { server, timeoutMs: 120_000, what: "wrangler dev" });
    const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }) });
    if (!login.ok) throw new Error(`admin login: ${login.status} ${await login.text()}`);
    const { access_token: token } = await login.json();

    const passes = [];
    for (const pass of ["first import (creates)", "rerun (skips)"]) {
      log(pass);
      t = performance.now();
      const totals = await importUsers(["--url", base, "--token", token, "--file", file, "--mode", "skip", "--chunk", String(CHUNK), "--restart"]);
      passes.push({ pass, ...totals, seconds: (performance.now() - t) / 1000 });
    }
    const rows = [
      "| pass | rows | created | skipped | failed | seconds | rows/s |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...passes.map((p) => `| ${p.pass} | ${USERS} | ${p.created} | ${p.skipped} | ${p.failed} | ${p.seconds.toFixed(1)} | ${Math.round(USERS / p.seconds)} |`),
    ];
    process.stdout.write(
      `\nbench:import, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, chunks of ${CHUNK}, local wrangler dev (D1 on local SQLite); generating the file took ${generateSeconds.toFixed(1)} s\n\n${rows.join("\n")}\n`,
    );
  } finally {
    await stopServer(server.pid);
  }
}

run().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
