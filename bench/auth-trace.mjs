#!/usr/bin/env node
// `npm run bench:auth-trace -- [VERSION ...]`: what POST /auth/register and POST /auth/login
// touch, per request (not part of npm test). The idea of the side-by-side harness's trace phase
// (peers/sidebyside): a tracing entry wraps the D1, KV and Durable Object bindings of the worker
// and counts every statement (prepare), batch, KV op and Durable Object RPC (by method), and
// GET /__trace returns and resets them. Each VERSION is a git ref (its src/ is used) or "." (the
// working tree, the default); versions run one after another, one `wrangler dev` at a time, on
// their own scratch state. Prints one markdown table per version (counts per operation), then
// the statements and calls of each operation in order.
//
//   npm run bench:auth-trace                  the working tree
//   npm run bench:auth-trace -- main .        before (main) and after (the working tree)
//
// Operations: register (with the email queue consumer that delivers its verification email),
// verify-email, a first login, a second login (same device), a wrong password, an unknown email.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { table } from "./lib/report.mjs";
import { applyMigrations, freePort, HOST, RELAXED, root, sleep, startServer, stopAll, stopServer, varArgs, waitFor, writeSecrets } from "./lib/server.mjs";

const log = (m) => console.error(`[bench:auth-trace] ${m}`);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-auth-trace-"));
process.on("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

const ENTRY = `// Written by bench/auth-trace.mjs: the worker with its bindings wrapped. GET /__trace returns and resets the counts.
import worker from "../src/index";
export * from "../src/index";
const counts = { d1Statements: 0, d1Batches: 0, kv: 0, doCalls: 0 };
const trace: string[] = [];
function wrap(target: any, hooks: Record<string, (...a: any[]) => void>, fallback?: (p: string) => void) {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p);
      if (typeof v !== "function") return v;
      const hook = hooks[p as string];
      return (...a: any[]) => { hook ? hook(...a) : fallback?.(p as string); return v.apply(t, a); };
    },
  });
}
let env2: any;
function envOf(env: any) {
  if (env2) return env2;
  const d1Hooks = {
    prepare: (sql: string) => { counts.d1Statements++; trace.push("D1 " + sql.replace(/\\s+/g, " ").slice(0, 110)); },
    batch: (s: unknown[]) => { counts.d1Batches++; trace.push("D1 batch of " + s.length); },
    exec: (sql: string) => { counts.d1Statements++; trace.push("D1 exec " + sql.slice(0, 100)); },
  };
  // Requests read and write through a D1 session (env.DB.withSession, issue 20 point 5): wrap it too,
  // or every statement of a request would go uncounted.
  const db = wrap(env.DB, d1Hooks);
  const withSession = env.DB.withSession?.bind(env.DB);
  env2 = {
    ...env,
    DB: withSession ? new Proxy(db, { get: (t, p) => (p === "withSession" ? (...a: any[]) => wrap(withSession(...a), d1Hooks) : Reflect.get(t, p)) }) : db,
    CACHE: wrap(env.CACHE, {}, (op) => { counts.kv++; trace.push("KV " + op); }),
  };
  for (const [name, b] of Object.entries(env)) {
    if (b && typeof (b as any).idFromName === "function") {
      env2[name] = new Proxy(b as any, {
        get(t, p) {
          const v = Reflect.get(t, p);
          if (typeof v !== "function") return v;
          if (p !== "get") return v.bind(t);
          return (...a: any[]) => {
            const stub = v.apply(t, a);
            return new Proxy(stub, {
              get(s, m) {
                const f = Reflect.get(s, m);
                if (typeof f !== "function" || typeof m !== "string") return f;
                return (...args: any[]) => { counts.doCalls++; trace.push("DO " + name + "." + m + "()"); return Reflect.apply(f, s, args); };
              },
            });
          };
        },
      });
    }
  }
  return env2;
}
export default {
  fetch(req: Request, env: any, ctx: ExecutionContext) {
    if (new URL(req.url).pathname === "/__trace") {
      const out = { ...counts, trace: trace.splice(0) };
      for (const k of Object.keys(counts)) (counts as any)[k] = 0;
      return Response.json(out);
    }
    return worker.fetch!(req as any, envOf(env), ctx);
  },
  queue(batch: any, env: any, ctx: ExecutionContext) { return (worker as any).queue(batch, envOf(env), ctx); },
  scheduled(c: any, env: any, ctx: ExecutionContext) { return (worker as any).scheduled(c, envOf(env), ctx); },
};
`;

/** The source tree of a version: "." is this checkout; a git ref is extracted beside it. */
function treeOf(version, i) {
  const tree = path.join(scratch, `tree-${i}`);
  fs.mkdirSync(tree);
  if (version === ".") {
    fs.cpSync(path.join(root, "src"), path.join(tree, "src"), { recursive: true });
    fs.cpSync(path.join(root, "scripts"), path.join(tree, "scripts"), { recursive: true });
    for (const f of ["wrangler.toml", "tsconfig.json", "package.json"]) fs.copyFileSync(path.join(root, f), path.join(tree, f));
  } else {
    const archive = execFileSync("git", ["-C", root, "archive", version, "src", "scripts", "wrangler.toml", "tsconfig.json", "package.json"], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", tree], { input: archive });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"));
  fs.mkdirSync(path.join(tree, "public"));
  fs.mkdirSync(path.join(tree, "trace"));
  fs.writeFileSync(path.join(tree, "trace", "entry.ts"), ENTRY);
  return tree;
}

async function call(base, method, p, body) {
  const res = await fetch(base + p, { method, headers: { "content-type": "application/json", "user-agent": "keel-auth-trace/1" }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function traceVersion(version, i) {
  const tree = treeOf(version, i);
  const persist = path.join(scratch, `state-${i}`);
  applyMigrations(persist);
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const envFile = writeSecrets(path.join(scratch, `env-${i}`), `trace-${i}`);
  const args = ["dev", "trace/entry.ts", "--ip", HOST, "--port", String(port), "--persist-to", persist, "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false"];
  args.push(...varArgs({ ENVIRONMENT: "development", RATE_LOGIN_PER_IP: RELAXED, RATE_LOGIN_PER_EMAIL: RELAXED, RATE_REGISTER_PER_IP: RELAXED, PUBLIC_BASE_URL: base }));
  const server = startServer(`trace ${version}`, args, { cwd: tree, logFile: path.join(scratch, `server-${i}.log`) });
  const steps = [];
  try {
    await waitFor(`${base}/health`, { server, timeoutMs: 90_000, what: `server for ${version}` });
    const step = async (op, fn, settleMs = 400) => {
      await call(base, "GET", "/__trace");
      const status = await fn();
      await sleep(settleMs); // waitUntil work and queue consumers land here
      const t = (await call(base, "GET", "/__trace")).body;
      steps.push({ op, status, ...t });
      log(`${version} ${op}: ${status}, D1 ${t.d1Statements} (batches ${t.d1Batches}), KV ${t.kv}, DO ${t.doCalls}`);
    };
    const email = `trace-${randomBytes(4).toString("hex")}@keel.test`;
    const password = `${randomBytes(8).toString("hex")} correct horse stapler`;
    // A first request warms the isolate (config, caches) so it does not count against register.
    await call(base, "GET", "/api/v1/no-such-route");
    await step("register (+ email queue consumer)", async () => (await call(base, "POST", "/api/v1/auth/register", { email, password, full_name: "Trace" })).status, 3500);
    const box = await call(base, "GET", `/dev/mailbox?to=${encodeURIComponent(email)}`);
    const token = decodeURIComponent(/token=([A-Za-z0-9_\-.~%]+)/.exec(box.body.items.map((m) => m.text).join("\n"))[1]);
    await step("verify-email", async () => (await call(base, "POST", "/api/v1/auth/verify-email", { token })).status);
    await step("login, 1st", async () => (await call(base, "POST", "/api/v1/auth/login", { email, password })).status, 3500);
    await step("login, 2nd (same device)", async () => (await call(base, "POST", "/api/v1/auth/login", { email, password })).status, 3500);
    await step("login, wrong password", async () => (await call(base, "POST", "/api/v1/auth/login", { email, password: "not the password at all" })).status);
    await step("login, unknown email", async () => (await call(base, "POST", "/api/v1/auth/login", { email: `nobody-${email}`, password })).status);
  } finally {
    await stopServer(server.pid);
  }
  return steps;
}

const versions = process.argv.slice(2).length ? process.argv.slice(2) : ["."];
const results = [];
try {
  for (const [i, v] of versions.entries()) results.push({ version: v, steps: await traceVersion(v, i) });
} finally {
  await stopAll();
}
for (const r of results) {
  console.log(`\n### ${r.version === "." ? "working tree" : r.version}\n`);
  console.log(table(["operation", "status", "D1 statements", "D1 batches", "KV ops", "DO calls"], r.steps.map((s) => [s.op, s.status, s.d1Statements, s.d1Batches, s.kv, s.doCalls])));
}
for (const r of results) {
  console.log(`\n### ${r.version === "." ? "working tree" : r.version}: in order\n`);
  for (const s of r.steps) {
    console.log(`- ${s.op}`);
    for (const t of s.trace) console.log(`    ${t}`);
  }
}
process.exit(0);
