#!/usr/bin/env node
// Builds the Worker the way `wrangler deploy` would, plus code splitting: every dynamic
// `import()` in src/ becomes its own module (chunk), uploaded beside the entry and evaluated
// by workerd on first use only. wrangler's own bundler inlines dynamic imports into the one
// index.js (it has no splitting option), so `npm run deploy` uploads this output with
// `wrangler deploy --no-bundle` (wrangler.toml [[rules]] marks the chunks as ES modules).
// `wrangler dev` and the tests keep wrangler's bundle: same code, one file.
//
//   node scripts/build-worker.mjs [outdir]        (default dist/worker)
// Prints nothing; bench/bundle.mjs measures the output. Options mirror wrangler 4's
// bundleWorker (target, conditions, define, keepNames, the "zod" alias of wrangler.toml).
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** wrangler.toml `alias`: keep in step with it. */
const ALIAS = { zod: path.join(root, "scripts/zod-lean.mjs") };

export async function buildWorker(outdir = path.join(root, "dist/worker"), { minify = true } = {}) {
  rmSync(outdir, { recursive: true, force: true });
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
    keepNames: true,
    minify,
    sourcemap: true,
    metafile: true,
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
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWorker(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
}
