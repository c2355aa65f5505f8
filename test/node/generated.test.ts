import { execSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
/** A file without its first two lines (the generator's banner, which names the output path). */
const body = (file: string) => readFileSync(file, "utf8").split("\n").slice(2).join("\n");

// Generated files are committed, so typechecks and CI need neither a code generator run nor a
// network; these tests fail when one is stale, and name the command that regenerates it.
describe("committed generated files", () => {
  it("worker-configuration.d.ts is what `npm run types:env` (wrangler types) writes for wrangler.toml", () => {
    // Written beside the committed file: the generated imports are relative to it.
    const out = path.join(root, `.worker-configuration.check-${process.pid}.d.ts`);
    try {
      const script = pkg.scripts["types:env"]!.replace("worker-configuration.d.ts", out);
      execSync(`npx ${script}`, { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, stdio: "pipe" });
      expect(body(path.join(root, "worker-configuration.d.ts")), "stale: run `npm run types:env` and commit worker-configuration.d.ts").toBe(body(out));
    } finally {
      rmSync(out, { force: true });
    }
  });

  it("clients/typescript/src/schema.ts (the client's and the console's API types) is what `npm run types:api` (openapi-typescript over /openapi.json) writes", () => {
    const check = () => execSync("node scripts/gen-api-types.mjs --check", { cwd: root, stdio: "pipe" });
    expect(check, "stale: run `npm run types:api` and commit clients/typescript/src/schema.ts").not.toThrow();
  });
});
