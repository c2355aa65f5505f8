import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "..", "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.tsx?$/.test(full) && !/\.test\.tsx?$/.test(full) ? [full] : [];
  });
}

const sources = files(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, "utf8") }));

// Tenant scoping must be impossible to forget: only repositories touch tables (STYLE.md §6).
describe("architecture rules", () => {
  it("only *.repo.ts files (and the db factory) import table definitions at runtime", () => {
    const importsTables = (text: string) =>
      /^import\s+(?!type\b)[^;]*from\s+"[^"]*(db\/schema|\.tables)"/m.test(text) ||
      /^export\s+(?!type\b)[^;]*from\s+"[^"]*\.tables"/m.test(text);
    const allowed = (file: string) =>
      file.endsWith(".repo.ts") || file.endsWith(".tables.ts") || file === path.join("db", "schema.ts") || file === path.join("platform", "db.ts");
    const offenders = sources.filter(({ file, text }) => importsTables(text) && !allowed(file));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  // DESIGN.md's dependency direction: features → platform/email/db; jobs → features.
  const importsOf = (text: string) => [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
  const resolved = (file: string, spec: string) => (spec.startsWith(".") ? path.join(path.dirname(file), spec) : spec);

  it("platform/ imports no feature and no job", () => {
    const offenders = sources
      .filter(({ file }) => file.startsWith(`platform${path.sep}`))
      .flatMap(({ file, text }) => importsOf(text).map((spec) => [file, resolved(file, spec)] as const))
      .filter(([, target]) => target.startsWith(`features${path.sep}`) || target.startsWith(`jobs${path.sep}`));
    expect(offenders).toEqual([]);
  });

  it("features, email and platform import no job", () => {
    const offenders = sources
      .filter(({ file }) => !file.startsWith(`jobs${path.sep}`) && file !== "index.ts")
      .flatMap(({ file, text }) => importsOf(text).map((spec) => [file, resolved(file, spec)] as const))
      .filter(([, target]) => target.startsWith(`jobs${path.sep}`));
    expect(offenders).toEqual([]);
  });

  it("routes are declared through securedRoute or as documented public routes, never with hand-written security", () => {
    const offenders = sources.filter(({ file, text }) => /\.routes\.tsx?$/.test(file) && /\bsecurity\s*:/.test(text));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("drizzle clients are built in one place only", () => {
    const offenders = sources.filter(({ file, text }) => /\bdrizzle\(/.test(text) && file !== path.join("platform", "db.ts"));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("no route handler builds an error body itself: errors go through AppError and onError", () => {
    const offenders = sources.filter(({ file, text }) => /\.routes\.tsx?$/.test(file) && /c\.json\(\s*\{\s*(error|code)\s*:/.test(text));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });
});
