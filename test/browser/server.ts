import { spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

// A real keel for the browser tests, served as it is deployed: keel (the API Worker, `wrangler dev`
// with throwaway secrets, a fresh local D1 (temp --persist-to) migrated and seeded with the demo
// data, ENVIRONMENT=development) behind keel-web (the built console and /static/* as static
// assets, everything else to keel), on one origin: a free port of 8880–8889
// (scripts/dev-servers.mjs starts the two).

export const root = path.resolve(import.meta.dirname, "..", "..");
const binDir = path.join(root, "node_modules", ".bin");
const HOST = "127.0.0.1";
const PORTS = [8880, 8881, 8882, 8883, 8884, 8885, 8886, 8887, 8888, 8889];

/** Debian's chromium (or Chrome) when installed; null → the browser tests are skipped. */
export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    const res = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    const found = res.stdout.trim();
    if (res.status === 0 && found) return found;
  }
  return null;
}

function env() {
  return {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
}

function run(cmd: string, args: string[], what: string) {
  const res = spawnSync(cmd, args, { cwd: root, env: env(), encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  if (res.error || res.status !== 0) throw new Error(`${what} failed (${res.error?.message ?? `exit ${res.status}`}):\n${res.stdout}\n${res.stderr}`);
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });

export interface KeelServer {
  base: string;
  stop: () => Promise<void>;
  log: () => string;
}

/**
 * Builds the console if needed, prepares state and starts wrangler dev; resolves once /health
 * answers 200. A port taken between our probe and wrangler's bind (test files start servers in
 * parallel, and every outgoing connection takes an ephemeral port too; it happened once in CI,
 * 2026-12-07) is retried with fresh ports, at most twice.
 */
export async function startKeel(opts: { vars?: Record<string, string> } = {}): Promise<KeelServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKeelOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error && err.message.includes("Address already in use"))) throw err;
    }
  }
}

async function startKeelOnce(opts: { vars?: Record<string, string> }): Promise<KeelServer> {
  if (!existsSync(path.join(root, "public", "console", "app.js"))) run(process.execPath, [path.join(root, "scripts", "build-console.mjs")], "building the console");

  const dir = mkdtempSync(path.join(os.tmpdir(), "keel-browser-"));
  const persist = path.join(dir, "state");
  mkdirSync(persist);
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: `browser-${randomBytes(3).toString("hex")}` };
  const envFile = path.join(dir, "browser.env");
  // Extra variables (e.g. OIDC_PROVIDERS, JSON) go into the env file: dotenv's single quotes keep them verbatim.
  const extra = Object.entries(opts.vars ?? {}).map(([k, v]) => `${k}='${v}'\n`).join("");
  writeFileSync(envFile, `JWT_SIGNING_KEYS='${JSON.stringify([jwk])}'\nDATA_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}\n${extra}`, { mode: 0o600 });

  const wrangler = path.join(binDir, "wrangler");
  run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], "wrangler d1 migrations apply");
  const demoModule = path.join(root, "scripts", "demo-data.mjs");
  const demo = (await import(demoModule)) as {
    DEMO_USERS: { email: string; password: string }[];
    hashPassword: (p: string) => Promise<string>;
    seedSql: (o: { now: number; hashes: Record<string, string> }) => string;
  };
  const hashes: Record<string, string> = {};
  for (const u of demo.DEMO_USERS) hashes[u.email] = await demo.hashPassword(u.password);
  const seed = path.join(dir, "seed.sql");
  writeFileSync(seed, demo.seedSql({ now: Date.now(), hashes }));
  run(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", persist, "--file", seed], "seeding the demo data");

  let port: number | undefined;
  // Test files run in parallel workers, each possibly starting a server: each worker starts its
  // search at its own offset, so two never race for the same free port.
  const offset = (Number(process.env.VITEST_POOL_ID ?? 0) * 3) % PORTS.length;
  for (const p of [...PORTS.slice(offset), ...PORTS.slice(0, offset)]) if (await portFree(p)) { port = p; break; }
  if (!port) throw new Error("no free port in 8880–8889 for wrangler dev");
  const base = `http://${HOST}:${port}`;
  const relaxed = "100000/60";
  const devServers = path.join(root, "scripts", "dev-servers.mjs");
  const { startDevServers, freePort } = (await import(devServers)) as {
    freePort: (host: string) => Promise<number>;
    startDevServers: (o: {
      host: string;
      port: number;
      keelArgs: string[];
      webArgs: string[];
      env: NodeJS.ProcessEnv;
      stdio: ["ignore", "pipe", "pipe"];
      detached: boolean;
      command: [string, string[]];
    }) => Promise<{ keel: ChildProcess; web: ChildProcess }>;
  };
  const { keel, web } = await startDevServers({
    host: HOST,
    port,
    keelArgs: [
      "--persist-to", persist,
      "--env-file", envFile,
      // Test files start servers in parallel: each its own inspector port, not wrangler's 9229.
      "--inspector-port", String(await freePort(HOST)),
      "--show-interactive-dev-session=false",
      "--log-level", "warn",
      "--var", `PUBLIC_BASE_URL:${base}`,
      "--var", "ENVIRONMENT:development",
      "--var", `RATE_LOGIN_PER_IP:${relaxed}`,
      "--var", `RATE_LOGIN_PER_EMAIL:${relaxed}`,
      "--var", `RATE_REGISTER_PER_IP:${relaxed}`,
      "--var", `RATE_FORGOT_PER_EMAIL:${relaxed}`,
      "--var", `RATE_MFA_PER_TOKEN:${relaxed}`,
      // Passkeys: an IP address cannot be a WebAuthn RP ID, so passkey tests open the console at
      // http://localhost:<port> (same server); RP ID "localhost" is the default.
      "--var", `WEBAUTHN_ORIGINS:http://localhost:${port}`,
      "--var", `RATE_PASSKEY_PER_IP:${relaxed}`,
      // A test file's own settings (e.g. a short REAUTH_MINUTES).
      ...Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    webArgs: ["--log-level", "warn"],
    env: env(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    command: [wrangler, []],
  });
  const children = [keel, web];
  let output = "";
  for (const [name, child] of [["keel", keel], ["keel-web", web]] as const) {
    child.stdout?.on("data", (d: Buffer) => (output += `[${name}] ${d.toString()}`));
    child.stderr?.on("data", (d: Buffer) => (output += `[${name}] ${d.toString()}`));
  }
  const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (!running(child) || !child.pid) return;
        const exited = new Promise((r) => child.once("exit", r));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }),
    );
    // Throwaway state and secrets: nothing of the run stays behind (the log is kept in memory).
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (!children.every(running)) {
      await stop();
      throw new Error(`wrangler dev exited early:\n${output}`);
    }
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev not ready after 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { base, stop, log: () => output };
}
