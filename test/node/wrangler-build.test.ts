import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STARTUP_GZIP_BUDGET } from "./startup-budget";

const root = path.resolve(import.meta.dirname, "../..");

/** Relative module specifiers a module imports: static (`from "./x"`, `import "./x"`) and dynamic (`import("./x")`). */
function importsOf(code: string) {
  const rel = (re: RegExp) => [...code.matchAll(re)].map((m) => m[1]!).filter((s) => s.startsWith("."));
  return {
    static: rel(/(?:\bfrom|\bimport)\s*["']([^"']+)["']/g),
    dynamic: rel(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  };
}

/**
 * What the side-by-side harness (and a plain `wrangler deploy`) gets from keel's wrangler.toml:
 * `wrangler deploy --dry-run --minify --outdir DIR` must write DIR/index.js plus the chunks it
 * loads on first use, not wrangler's one-file bundle with every dynamic import inlined.
 */
describe("wrangler deploy --dry-run --outdir (wrangler.toml's custom build; ~5 s)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "keel-wrangler-build-"));
    execFileSync(path.join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--minify", "--outdir", dir], {
      cwd: root,
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      stdio: "pipe",
      timeout: 120_000,
    });
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes index.js and its chunks; every module the entry and the chunks import is there", () => {
    expect(existsSync(path.join(dir, "index.js"))).toBe(true);
    const chunks = readdirSync(path.join(dir, "chunks")).filter((f) => f.endsWith(".mjs"));
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    const entry = importsOf(readFileSync(path.join(dir, "index.js"), "utf8"));
    expect(entry.dynamic.filter((s) => s.startsWith("./chunks/")).length).toBeGreaterThanOrEqual(5);
    const missing: string[] = [];
    const check = (from: string, specs: string[]) => {
      for (const s of specs) if (!existsSync(path.resolve(path.dirname(from), s))) missing.push(`${path.relative(dir, from)} → ${s}`);
    };
    check(path.join(dir, "index.js"), [...entry.static, ...entry.dynamic]);
    for (const c of chunks) {
      const file = path.join(dir, "chunks", c);
      const imps = importsOf(readFileSync(file, "utf8"));
      check(file, [...imps.static, ...imps.dynamic]);
    }
    expect(missing).toEqual([]);
  });

  it(`what loads at startup (index.js and the chunks it imports statically) stays within ${STARTUP_GZIP_BUDGET / 1024} KiB gzip`, () => {
    const startup = new Set([path.join(dir, "index.js")]);
    for (const queue = [...startup]; queue.length; ) {
      const file = queue.pop()!;
      for (const s of importsOf(readFileSync(file, "utf8")).static) {
        const dep = path.resolve(path.dirname(file), s);
        if (!startup.has(dep)) (startup.add(dep), queue.push(dep));
      }
    }
    const gzip = [...startup].reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    expect(gzip).toBeLessThanOrEqual(STARTUP_GZIP_BUDGET);
  });
});
