#!/usr/bin/env node
// `npm run bench:bundle` (issue 20, point 3): what a cold start loads, in bytes (deterministic,
// no timing noise). Builds the Worker with scripts/build-worker.mjs (the code-split build that
// wrangler.toml's custom build makes, so what `wrangler deploy` uploads) and reports:
//   - the startup modules: the entry and every chunk it imports statically (raw, gzip -9);
//   - every lazy chunk (reached only through a dynamic `import()`), with what it holds;
//   - what dominates the startup modules, by package (node_modules) or source folder, from
//     esbuild's metafile (bytes of minified output), so a regression names its cause;
//   - for comparison, wrangler's own one-file bundle of the source (`wrangler deploy src/index.ts`:
//     dynamic imports inlined; what wrangler.toml built before its custom build), unless --no-wrangler.
//
//   npm run bench:bundle [-- --json] [-- --no-wrangler]
// test/node/bundle-budget.test.ts fails when the startup gzip exceeds its budget.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildWorker } from "../scripts/build-worker.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const gzip9 = (buf) => gzipSync(buf, { level: 9 }).length;

/** Package name for a node_modules input, else the source folder (two levels: src/features/auth). */
function ownerOf(input) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  const rel = input.replace(/^(\.\.\/)+/, "");
  const parts = rel.split("/");
  return parts[0] === "src" && parts.length > 3 ? parts.slice(0, 3).join("/") : parts.slice(0, parts.length > 2 ? 2 : 1).join("/");
}

function attribute(outputs) {
  const by = new Map();
  for (const o of outputs) for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) by.set(ownerOf(input), (by.get(ownerOf(input)) ?? 0) + bytesInOutput);
  return [...by].sort((a, b) => b[1] - a[1]);
}

/** Builds into a temporary folder and measures. Exported for the node budget test. */
export async function measureBundle() {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "keel-bundle-"));
  try {
    const meta = await buildWorker(outdir);
    const outputs = Object.fromEntries(
      Object.entries(meta.outputs)
        .filter(([name]) => name.endsWith(".mjs"))
        .map(([name, o]) => [path.relative(outdir, path.resolve(root, name)), o]),
    );
    const entry = "index.mjs";
    // The static-import closure of the entry is what workerd evaluates at startup.
    const startup = new Set([entry]);
    for (const queue = [entry]; queue.length; ) {
      for (const imp of outputs[queue.pop()].imports) {
        const name = path.relative(outdir, path.resolve(root, imp.path));
        if (imp.kind === "import-statement" && outputs[name] && !startup.has(name)) {
          startup.add(name);
          queue.push(name);
        }
      }
    }
    const row = (name) => {
      const bytes = readFileSync(path.join(outdir, name));
      const top = attribute([outputs[name]]).slice(0, 3).map(([k]) => k);
      return { name, startup: startup.has(name), raw: bytes.length, gzip: gzip9(bytes), holds: top };
    };
    const modules = Object.keys(outputs).map(row).sort((a, b) => Number(b.startup) - Number(a.startup) || b.gzip - a.gzip);
    const sum = (rows, k) => rows.reduce((n, r) => n + r[k], 0);
    const start = modules.filter((m) => m.startup);
    return {
      startup: { raw: sum(start, "raw"), gzip: sum(start, "gzip"), modules: start.length },
      lazy: modules.filter((m) => !m.startup),
      modules,
      dominant: attribute(start.map((m) => outputs[m.name])),
      /** Every source file in the startup modules (node_modules paths from the package on). */
      startupInputs: [...new Set(start.flatMap((m) => Object.keys(outputs[m.name].inputs)))].map((f) => f.replace(/^.*node_modules\//, "").replace(/^(\.\.\/)+/, "")),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** wrangler's own bundle of src/index.ts (dynamic imports inlined): one file. */
function measureWranglerBundle() {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "keel-wrangler-"));
  try {
    execFileSync("npx", ["wrangler", "deploy", "src/index.ts", "--dry-run", "--minify", "--outdir", outdir], { cwd: root, stdio: "ignore" });
    const bytes = readFileSync(path.join(outdir, "index.js"));
    return { raw: bytes.length, gzip: gzip9(bytes) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const kib = (n) => (n / 1024).toFixed(1);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const result = await measureBundle();
  const wrangler = args.includes("--no-wrangler") ? undefined : measureWranglerBundle();
  if (args.includes("--json")) {
    console.log(JSON.stringify({ ...result, wrangler }, null, 2));
  } else {
    let commit = "";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
    } catch {}
    console.log(`Worker bundle, ${new Date().toISOString().slice(0, 10)}, commit ${commit} (+ working tree), minified; KiB = 1,024 bytes\n`);
    console.log("| module | loads | raw KiB | gzip -9 KiB | mostly |");
    console.log("|---|---|---:|---:|---|");
    console.log(`| **startup total** (${result.startup.modules} modules) | startup | ${kib(result.startup.raw)} | **${kib(result.startup.gzip)}** | |`);
    for (const m of result.modules) console.log(`| ${m.name} | ${m.startup ? "startup" : "on first use"} | ${kib(m.raw)} | ${kib(m.gzip)} | ${m.holds.join(", ")} |`);
    if (wrangler) console.log(`| wrangler's one-file bundle of src/index.ts (dynamic imports inlined; not deployed) | — | ${kib(wrangler.raw)} | ${kib(wrangler.gzip)} | |`);
    console.log("\nWhat the startup modules hold (minified bytes, by package or source folder):\n");
    console.log("| KiB | from |");
    console.log("|---:|---|");
    for (const [k, v] of result.dominant.slice(0, 20)) console.log(`| ${kib(v)} | ${k} |`);
  }
}
