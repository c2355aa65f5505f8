#!/usr/bin/env node
// Builds the console (console/, TypeScript + hono/jsx/dom) into the Workers Static Assets
// directory: public/index.html (the single-page app's shell, served for every /console path),
// public/console/app.js and app.css. Generated and git-ignored; `npm start`, `npm test` and
// `npm run deploy` run this first. Fails when the gzip size passes the budget.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { root } from "./ensure-install.mjs";

const BUDGET_BYTES = 150 * 1024;
const src = path.join(root, "console");
const out = path.join(root, "public", "console");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: [path.join(src, "src", "main.tsx")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "hono/jsx/dom",
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(path.join(src, "src", "app.css"), path.join(out, "app.css"));
copyFileSync(path.join(src, "index.html"), path.join(root, "public", "index.html"));

// /docs: the Scalar API reference's standalone bundle, copied from the exact version that
// package.json pins (never a CDN: /docs is on the console's origin, under `script-src 'self'`).
// Generated and git-ignored like the console; /static/docs/init.js (committed) starts it.
const scalarPackage = path.join(root, "node_modules", "@scalar", "api-reference");
const scalarBundle = path.join(scalarPackage, "dist", "browser", "standalone.js");
const docsBundle = path.join(root, "public", "static", "docs", "scalar.js");
rmSync(docsBundle, { force: true });
if (existsSync(scalarBundle)) {
  copyFileSync(scalarBundle, docsBundle);
  const { version } = JSON.parse(readFileSync(path.join(scalarPackage, "package.json"), "utf8"));
  console.log(`[docs] copied @scalar/api-reference ${version} standalone bundle to public/static/docs/scalar.js`);
} else {
  console.warn("[docs] @scalar/api-reference is not installed: /docs shows only a link to /openapi.json");
}

const files = ["public/index.html", "public/console/app.js", "public/console/app.css", "public/static/keel.css"];
const gz = files.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(root, f))).length, 0);
console.log(`[console] built ${files.join(", ")}: ${(gz / 1024).toFixed(1)} KiB gzip (budget ${BUDGET_BYTES / 1024} KiB)`);
if (gz > BUDGET_BYTES) {
  console.error(`[console] over the budget by ${((gz - BUDGET_BYTES) / 1024).toFixed(1)} KiB`);
  process.exit(1);
}
