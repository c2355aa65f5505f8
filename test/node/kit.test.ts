import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Issue 15, point 8: one small kit instead of copies. These rules keep the copies from coming
// back: each names the one module that may do the thing.
const SRC = path.join(import.meta.dirname, "..", "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.tsx?$/.test(full) && !/\.(test|d)\.tsx?$/.test(full) ? [full] : [];
  });
}

const sources = files(SRC).map((file) => ({ file: path.relative(SRC, file).split(path.sep).join("/"), text: readFileSync(file, "utf8") }));
/** `file:line` of every line matching `pattern` outside the files `allowed` accepts. */
const hits = (pattern: RegExp, allowed: (file: string) => boolean) =>
  sources.filter(({ file }) => !allowed(file)).flatMap(({ file, text }) => text.split("\n").flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}`] : [])));

describe("the kit", () => {
  it("durations come from platform/time.ts (durable-objects, below platform, keep their own)", () => {
    expect(hits(/\b(86_400_000|3_600_000|86400000|3600000)\b|24 \* 60 \* 60/, (f) => f === "platform/time.ts" || f.startsWith("durable-objects/"))).toEqual([]);
  });

  it("logging goes through platform/log.ts: no console call elsewhere", () => {
    expect(hits(/\bconsole\.(log|info|warn|error|debug)\(/, (f) => f === "platform/log.ts")).toEqual([]);
  });

  it("base64 goes through platform/encoding.ts (@scure/base)", () => {
    expect(hits(/\b(atob|btoa)\(|"base64(url)?"|from "@scure\/base"/, (f) => f === "platform/encoding.ts")).toEqual([]);
  });

  it("isolate caches are IsolateCache: no module-level Map outside the two that are not caches (WeakMaps keyed by the env or D1 object are per-isolate memos)", () => {
    // formatters: immutable Intl.DateTimeFormat per time zone (a memo, no TTL); pendingUsage: API-key
    // use counts waiting for their batched write (a buffer, not a cache).
    const notCaches = new Set(["formatters", "pendingUsage"]);
    const maps = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/^(?:export )?(?:const|let) (\w+)\b[^=\n]*= new Map\b/gm)].filter((m) => !notCaches.has(m[1]!)).map((m) => `${file}: ${m[1]}`),
    );
    expect(maps).toEqual([]);
  });

  it("Env has no index signature: a variable is read by its declared name", () => {
    const env = sources.find((s) => s.file === "env.ts")!.text;
    expect(env).not.toMatch(/\[\w+: string\]:/);
  });
});
