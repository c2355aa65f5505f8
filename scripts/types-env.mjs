#!/usr/bin/env node
// `npm run types:env`: `wrangler types` for wrangler.toml (bindings and vars as `WranglerEnv`, see
// src/env.ts), then the Worker's own module typed from its TypeScript source. wrangler types the
// Durable Object namespaces and `mainModule` from wrangler.toml's `main`, which is the built
// dist/worker/index.mjs (the custom build's output: not in git, no types); src/index.ts is what
// it is built from and exports the same classes.
//
//   node scripts/types-env.mjs [out]        (default worker-configuration.d.ts)
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(process.argv[2] ?? path.join(root, "worker-configuration.d.ts"));
execFileSync(
  path.join(root, "node_modules", ".bin", "wrangler"),
  ["types", path.relative(root, out), "--env-interface", "WranglerEnv", "--include-runtime=false", "--strict-vars=false", "--env-file", "/dev/null"],
  { cwd: root, stdio: "inherit" },
);
const rel = (p) => {
  const r = path.relative(path.dirname(out), path.join(root, p)).replaceAll("\\", "/");
  return r.startsWith(".") ? r : `./${r}`;
};
const built = `import("${rel("dist/worker/index")}")`;
const text = readFileSync(out, "utf8");
if (!text.includes(built)) throw new Error(`types-env: ${built} not found in ${out}: did wrangler.toml's main change?`);
writeFileSync(out, text.replaceAll(built, `import("${rel("src/index")}")`));
