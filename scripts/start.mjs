#!/usr/bin/env node
// `npm start`: everything needed to run keel locally from a fresh clone.
//   1. installs dependencies if needed (scripts/ensure-install.mjs)
//   2. keeps an existing .dev.vars and adds only the secrets it lacks (git-ignored)
//   3. applies the D1 migrations to the local database (.wrangler/state)
//   4. seeds the demo users and tenders (idempotent; see scripts/demo-data.mjs)
//   5. builds the console into public/ (scripts/build-console.mjs)
//   6. runs keel and keel-web (the console's static assets, in front) as two `wrangler dev`
//      (scripts/dev-servers.mjs) on one origin, http://127.0.0.1:8787 (KEEL_PORT overrides the
//      port), and prints one short banner once it answers; wrangler's own start-up output is
//      shown only if it fails
// `npm run reset` (--reset): wipes the local state (.wrangler/state: D1, KV, Durable Objects,
// queues), migrates and seeds again, and exits. The server must not be running.
// Every start restores the demo accounts (active, verified, documented password, no 2FA).
// Runs on plain Node >= 20; wrangler itself runs on the project's Node 22
// (node_modules/.bin/node, from the `node` devDependency).
import { spawnSync } from "node:child_process";
import net from "node:net";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureInstall, root } from "./ensure-install.mjs";
import { DEMO_TENDER_COUNT, DEMO_USERS, hashPassword, seedSql } from "./demo-data.mjs";
import { startDevServers, superviseTogether, wranglerCommand } from "./dev-servers.mjs";

const port = Number(process.env.KEEL_PORT || 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`KEEL_PORT must be a port number, got ${JSON.stringify(process.env.KEEL_PORT)}`);
  process.exit(2);
}
const host = "127.0.0.1";
const baseUrl = `http://${host}:${port}`;

const log = (msg) => console.log(`[start] ${msg}`);
const reset = process.argv.includes("--reset");
const stateDir = path.join(root, ".wrangler", "state");

/** True when something accepts connections on the port (a running keel). */
const portInUse = (p) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port: p });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/**
 * Runs a one-shot wrangler command non-interactively; throws on failure. With `quiet`, its
 * output is shown only when it fails.
 */
function wrangler(args, { quiet = false } = {}) {
  const [cmd, pre] = wranglerCommand();
  const res = spawnSync(cmd, [...pre, ...args], {
    cwd: root,
    stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw res.error;
  if (res.status !== 0) {
    if (quiet) {
      process.stdout.write(res.stdout ?? "");
      process.stderr.write(res.stderr ?? "");
    }
    throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed (exit ${res.status ?? res.signal})`);
  }
  return res;
}

process.on("uncaughtException", (err) => {
  console.error(`[start] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});

// 1. dependencies --------------------------------------------------------------------------
ensureInstall();

// 2. local secrets -------------------------------------------------------------------------
const devVars = path.join(root, ".dev.vars");
// An existing .dev.vars is kept as it is (a tester may put OIDC_PROVIDERS, DOH_URL … there before
// the first start): only the variables it lacks are appended.
{
  const existing = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  const has = (name) => new RegExp(`^\\s*${name}\\s*=`, "m").test(existing);
  const lines = [];
  if (!has("JWT_SIGNING_KEYS")) {
    const { privateKey } = generateKeyPairSync("ed25519");
    const kid = `dev-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString("hex")}`;
    const jwks = JSON.stringify([{ ...privateKey.export({ format: "jwk" }), kid }]);
    // dotenv syntax: single quotes keep the JSON (and its double quotes) verbatim.
    if (jwks.includes("'")) throw new Error("unexpected quote in generated JWK");
    lines.push(`JWT_SIGNING_KEYS='${jwks}'`);
  }
  if (!has("DATA_ENCRYPTION_KEY")) lines.push(`DATA_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`);
  // wrangler.toml ships production defaults; local runs are development.
  if (!has("ENVIRONMENT")) lines.push("ENVIRONMENT=development");
  // Domain verification (organization SSO) asks the tour's local DNS-over-HTTPS responder
  // (`node scripts/tour.mjs --sso-servers`), not a public resolver: local domains are not in DNS.
  if (!has("DOH_URL")) lines.push("DOH_URL=http://127.0.0.1:8853/dns-query");
  if (lines.length) {
    const header = existing
      ? [existing.endsWith("\n") || existing === "" ? "" : "\n", "# Added by `npm start` (missing):"]
      : ["# Local secrets for `wrangler dev`, generated by `npm start`. Never commit this file.", "# Delete a key to get a new one (a new JWT key ends signed-in sessions)."];
    writeFileSync(devVars, existing + [...header.filter((l) => l !== ""), ...lines, ""].join("\n"), { mode: 0o600 });
    log(`${existing ? "added to" : "wrote"} .dev.vars: ${lines.map((l) => l.slice(0, l.indexOf("="))).join(", ")}`);
  }
}

if (await portInUse(port)) {
  console.error(`[start] something already answers on ${baseUrl} (another npm start?): stop it first${reset ? ", then npm run reset" : ", or pick another port with KEEL_PORT"}`);
  process.exit(1);
}

// 2b. reset -----------------------------------------------------------------------------------
if (reset) {
  rmSync(stateDir, { recursive: true, force: true });
  log("wiped the local state (.wrangler/state: D1, KV, Durable Objects, queues)");
}

// 3. migrations ----------------------------------------------------------------------------
// Quiet: wrangler prints the full migrations table; its output is shown only when one fails.
wrangler(["d1", "migrations", "apply", "DB", "--local"], { quiet: true });
log("database migrated");

// 4. demo data -----------------------------------------------------------------------------
{
  const hashes = {};
  for (const u of DEMO_USERS) hashes[u.email] = await hashPassword(u.password);
  const dir = mkdtempSync(path.join(os.tmpdir(), "keel-seed-"));
  const file = path.join(dir, "seed.sql");
  try {
    writeFileSync(file, seedSql({ now: Date.now(), hashes }));
    wrangler(["d1", "execute", "DB", "--local", "--file", file], { quiet: true });
    // A deactivated or suspended user also has a KV marker (ub:<id>, src/platform/revocation.ts)
    // that refuses their tokens everywhere; the restored demo accounts must not keep it.
    const keys = path.join(dir, "keys.json");
    writeFileSync(keys, JSON.stringify(DEMO_USERS.map((u) => `ub:${u.id}`)));
    wrangler(["kv", "bulk", "delete", "--binding", "CACHE", "--local", "--force", keys], { quiet: true });
    log(`demo data ready: ${DEMO_USERS.length} accounts (restored: active, verified, no 2FA) and ${DEMO_TENDER_COUNT} tenders`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (reset) {
  log("reset done: `npm start` serves the fresh state");
  process.exit(0);
}

// 5. console ---------------------------------------------------------------------------------
{
  const res = spawnSync(process.execPath, [path.join(root, "scripts", "build-console.mjs")], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) throw new Error("building the console failed");
}

// 6. serve ---------------------------------------------------------------------------------
const line = "─".repeat(64);
const banner = () => `
${line}
 keel is running (local development)
   API             ${baseUrl}/api/v1
   API reference   ${baseUrl}/docs   (OpenAPI: ${baseUrl}/openapi.json; guide: docs/api.md)
   Console         ${baseUrl}/console
   Dev mailbox     ${baseUrl}/dev/mailbox   (emails keel "sends" locally)
 Demo accounts
${DEMO_USERS.map((u) => `   ${u.roles.length ? "admin " : "member"}   ${u.email.padEnd(18)} ${u.password}`).join("\n")}
 The tour: npm run tour (README, "A tour with curl") · start over: npm run reset
 Stop: Ctrl-C
${line}
`;

// wrangler.toml ships ENVIRONMENT=production; a local run is development (dev mailbox, demo
// data), also with a .dev.vars written before that line existed.
const devArgs = ["--test-scheduled", "--var", "ENVIRONMENT:development"];
if (port !== 8787) devArgs.push("--var", `PUBLIC_BASE_URL:${baseUrl}`);
devArgs.push("--show-interactive-dev-session=false");
// wrangler's start-up output (bindings tables, version notices) is held back until keel answers
// through keel-web, then the banner is printed and the output (keel-web's request log, errors)
// flows as usual. If either exits or they fail to answer first, everything printed is shown.
const { keel, web } = await startDevServers({ host, port, keelArgs: devArgs, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
const children = [keel, web];
let ready = false;
let held = "";
for (const child of children) {
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    from.on("data", (d) => {
      if (ready) to.write(d);
      else held += d.toString();
    });
  }
}
(async () => {
  const deadline = Date.now() + 120_000;
  while (!ready && children.every((c) => c.exitCode === null)) {
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(3000) });
      // keel's 503 (a missing secret) is JSON; keel-web's while keel is not registered yet is text.
      if (res.status === 200 || (res.status === 503 && res.headers.get("content-type")?.includes("json"))) {
        ready = true;
        break;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      process.stdout.write(held);
      held = "";
      log("wrangler dev has not answered after 120 s; its output is above");
      ready = true;
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (ready) {
    held = "";
    console.log(banner());
  }
})();

superviseTogether(children, {
  name: "start",
  beforeExit: () => {
    if (!ready && held) process.stdout.write(held);
  },
});
