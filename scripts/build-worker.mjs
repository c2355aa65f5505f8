#!/usr/bin/env node
// Builds the Worker the way `wrangler deploy` would, plus code splitting: every dynamic
// `import()` in src/ becomes its own module (chunk), uploaded beside the entry and evaluated
// by workerd on first use only. wrangler's own bundler inlines dynamic imports into one file
// (it has no splitting option), so wrangler.toml runs this script as its custom build
// ([build] command) and points `main` at its output: `wrangler deploy`, `wrangler dev` and
// `wrangler deploy --dry-run --outdir DIR` take dist/worker/index.mjs, keep its imports of
// ./chunks/*.mjs external and upload the chunks beside it (find_additional_modules + rules).
// The tests run the TypeScript source (vitest.config.ts sets `main`).
//
//   node scripts/build-worker.mjs [outdir]        (default dist/worker)
// Prints nothing; bench/bundle.mjs measures the output. Options mirror wrangler 4's
// bundleWorker (target, conditions, define) and wrangler.toml (the "zod" alias, keep_names = false).
//
// Several wrangler processes may run this at once on the same tree (the browser tests start a
// server per file, each running the custom build): a file is only written when its content
// changed, through a temporary file and a rename, so a reader never sees a half-written module,
// and chunks that the build no longer produces are removed afterwards.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** wrangler.toml `alias`: keep in step with it. */
const ALIAS = { zod: path.join(root, "scripts/zod-lean.mjs") };

export async function buildWorker(outdir = path.join(root, "dist/worker"), { minify = true } = {}) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { index: "src/index.ts" },
    bundle: true,
    splitting: true,
    format: "esm",
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    target: "es2024",
    supported: { "import-source": true, using: true },
    conditions: ["workerd", "worker", "browser"],
    define: {
      "process.env.NODE_ENV": '"production"',
      "global.process.env.NODE_ENV": '"production"',
      "globalThis.process.env.NODE_ENV": '"production"',
      "navigator.userAgent": '"Cloudflare-Workers"',
    },
    // nodejs_compat: workerd provides these; cloudflare:* are runtime modules.
    external: ["node:*", "cloudflare:*", "crypto", "buffer", "__STATIC_CONTENT_MANIFEST"],
    // wrangler.toml keep_names = false: no __name() wrapper around every closure (see there).
    keepNames: false,
    minify,
    sourcemap: true,
    metafile: true,
    write: false,
    jsx: "automatic",
    jsxImportSource: "hono/jsx",
    logLevel: "silent",
    plugins: [
      {
        name: "alias",
        setup(build) {
          build.onResolve({ filter: /^zod$/ }, () => ({ path: ALIAS.zod }));
        },
      },
    ],
  });
  const written = new Set();
  for (const file of result.outputFiles) {
    written.add(file.path);
    let same = false;
    try {
      same = Buffer.compare(readFileSync(file.path), file.contents) === 0;
    } catch {
      /* not there yet */
    }
    if (same) continue;
    mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  // What an earlier build left behind (old chunk hashes): wrangler would upload it too.
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && !written.has(file) && !file.endsWith(".tmp")) rmSync(file, { force: true });
  }
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWorker(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
}
