import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const readme = () => readFileSync(path.join(root, "README.md"), "utf8");

interface TourModule {
  markdown: () => string;
  readmeSection: (readme: string) => string | null;
}
const tour = async () => (await import(path.join(root, "scripts", "tour.mjs"))) as TourModule;

// The README is what a newcomer follows literally: its tour is generated from the script the
// tour test runs, and it names nothing outside the repository.
describe("README", () => {
  it("the tour section is exactly `node scripts/tour.mjs --markdown` (run `npm run tour:readme` after changing the script)", async () => {
    const { markdown, readmeSection } = await tour();
    const section = readmeSection(readme());
    expect(section, "README.md lacks the <!-- tour:start --> … <!-- tour:end --> markers").not.toBeNull();
    expect(section, "stale: run `npm run tour:readme`").toBe(markdown());
  });

  it("no command in the tour keeps a … placeholder", async () => {
    const { markdown } = await tour();
    const commands = markdown().split("\n").filter((l) => l && !l.startsWith("#") && !l.startsWith("```"));
    expect(commands.filter((l) => l.replace(/\s+#.*$/, "").includes("…"))).toEqual([]);
  });

  it("names no path outside the repository (../)", () => {
    const lines = readme().split("\n").map((l, i) => `${i + 1}: ${l}`).filter((l) => l.includes("../"));
    expect(lines).toEqual([]);
  });
});

describe("docs/api.md", () => {
  it("lists every error code of src/platform/errors.ts with its status", () => {
    const registry = readFileSync(path.join(root, "src/platform/errors.ts"), "utf8");
    const codes = [...registry.matchAll(/^\s{2}(\w+): \{ status: (\d{3})/gm)].map((m) => ({ code: m[1], status: m[2] }));
    expect(codes.length).toBeGreaterThan(20);
    const guide = readFileSync(path.join(root, "docs/api.md"), "utf8");
    const missing = codes.filter(({ code, status }) => !new RegExp(`^\\| \`${code}\` \\| ${status}\\b`, "m").test(guide));
    expect(missing, "add a row to the error table of docs/api.md").toEqual([]);
  });
});
