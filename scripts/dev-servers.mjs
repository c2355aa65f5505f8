#!/usr/bin/env node
// keel on one local origin: two `wrangler dev` processes, as the two Workers are deployed.
//   keel      the API Worker (wrangler.toml) on a private port, with the caller's flags
//             (--var, --env-file, --persist-to, --test-scheduled …)
//   keel-web  the console and /static/* as Workers Static Assets (web/wrangler.toml) on the public
//             port; every other request goes to keel through its service binding `API`
// They find each other through a dev registry of their own (WRANGLER_REGISTRY_PATH, a temp
// directory), never through the machine-wide one, where another keel (a bench, another checkout)
// may be registered under the same name.
//
// Why not one `wrangler dev -c web/wrangler.toml -c wrangler.toml`: wrangler (4.164) hands only
// --env to the second config (workers-sdk#12604; `setupDevEnv` for the auxiliary workers in
// wrangler-dist/cli.js), so keel would run without --var and --env-file, and --test-scheduled's
// /__scheduled would run keel-web's (absent) scheduled handler. Checked 2026-12-06: /dev/mailbox
// answered 404 (ENVIRONMENT stayed "production").
//
// `npm run dev` runs this file: both servers on http://127.0.0.1:8787 (KEEL_PORT overrides),
// keel with --test-scheduled and the project's .dev.vars; Ctrl-C stops both.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** [command, leading args] that run wrangler on the project's Node 22. */
export function wranglerCommand() {
  const node = path.join(root, "node_modules", "node", "bin", "node");
  const cli = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  if (existsSync(node) && existsSync(cli)) return [node, [cli]];
  return [process.platform === "win32" ? "npx.cmd" : "npx", ["--no-install", "wrangler"]];
}

/** A free TCP port on `host` (the OS picks; released at once for wrangler to take). */
export const freePort = (host) =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/**
 * Starts keel and keel-web; resolves at once with both child processes (not when they answer:
 * poll `http://host:port/health`, which goes through both). `keelArgs` are keel's flags besides
 * --ip/--port; `webArgs` keel-web's besides --config/--ip/--port/--inspector-port. `detached`
 * puts each in its own process group (stop them with `process.kill(-pid)`). The private registry
 * is removed once both have exited.
 */
export async function startDevServers({ host, port, keelArgs = [], webArgs = [], env = process.env, stdio = "inherit", detached = false, command = wranglerCommand() }) {
  const [cmd, pre] = command;
  const registry = mkdtempSync(path.join(os.tmpdir(), "keel-dev-registry-"));
  const childEnv = { ...env, WRANGLER_REGISTRY_PATH: registry };
  const keelPort = await freePort(host);
  const keel = spawn(cmd, [...pre, "dev", "--ip", host, "--port", String(keelPort), ...keelArgs], { cwd: root, env: childEnv, stdio, detached });
  // Its own inspector port: started together, both would otherwise claim wrangler's default 9229.
  const webInspector = await freePort(host);
  const web = spawn(
    cmd,
    [...pre, "dev", "--config", path.join("web", "wrangler.toml"), "--ip", host, "--port", String(port), "--inspector-port", String(webInspector), "--show-interactive-dev-session=false", ...webArgs],
    { cwd: root, env: childEnv, stdio, detached },
  );
  let running = 2;
  for (const child of [keel, web]) {
    child.once("exit", () => {
      if (--running === 0) rmSync(registry, { recursive: true, force: true });
    });
  }
  return { keel, web, keelPort };
}

/**
 * Runs the two servers as one: a signal to this process goes to both; losing the parent stops
 * both (`npm start` and `npm run dev` run their script under `sh -c`, and when npm is sent
 * SIGTERM the shell dies without passing it on, orphaning this process); one gone breaks the
 * origin, so the other is stopped and this process exits with the first one's status once both
 * are gone (`beforeExit` runs just before). A server that cannot be spawned exits 1 at once.
 * Returns `stop(signal)`.
 */
export function superviseTogether(children, { name, beforeExit = () => {} }) {
  const stop = (sig) => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => stop(sig));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("SIGTERM");
  }, 1000).unref();
  let exitCode;
  for (const child of children) {
    child.on("error", (err) => {
      console.error(`[${name}] could not run wrangler dev: ${err.message}`);
      stop("SIGTERM");
      process.exit(1);
    });
    child.on("exit", (code, signal) => {
      exitCode ??= signal ? 128 + (os.constants.signals[signal] ?? 1) : (code ?? 0);
      stop("SIGTERM");
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
        beforeExit();
        process.exit(exitCode);
      }
    });
  }
  return stop;
}

// `npm run dev` ---------------------------------------------------------------------------------
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const host = "127.0.0.1";
  const port = Number(process.env.KEEL_PORT || 8787);
  const { keel, web } = await startDevServers({
    host,
    port,
    keelArgs: ["--test-scheduled", "--show-interactive-dev-session=false", ...(port === 8787 ? [] : ["--var", `PUBLIC_BASE_URL:http://${host}:${port}`])],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  superviseTogether([keel, web], { name: "dev" });
  console.log(`[dev] keel + keel-web on http://${host}:${port} (console /console, API /api/v1); Ctrl-C stops both`);
}
