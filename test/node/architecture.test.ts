import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "..", "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") && !full.endsWith(".test.ts") ? [full] : [];
  });
}

const sources = files(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, "utf8") }));

// Tenant scoping must be impossible to forget: only repositories touch tables (STYLE.md §6).
describe("architecture rules", () => {
  it("only *.repo.ts files (and the db factory) import table definitions at runtime", () => {
    const offenders = sources.filter(
      ({ file, text }) =>
        /^import\s+(?!type\b)[^;]*from\s+"[./]*(\.\.\/)*db\/schema"/m.test(text) &&
        !file.endsWith(".repo.ts") &&
        file !== path.join("platform", "db.ts"),
    );
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("drizzle clients are built in one place only", () => {
    const offenders = sources.filter(({ file, text }) => /\bdrizzle\(/.test(text) && file !== path.join("platform", "db.ts"));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("no route handler builds an error body itself: errors go through AppError and onError", () => {
    const offenders = sources.filter(({ file, text }) => file.endsWith(".routes.ts") && /c\.json\(\s*\{\s*(error|code)\s*:/.test(text));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });
});
