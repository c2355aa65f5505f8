import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// keel-web (web/): the console's static assets in front of keel, the API Worker (issue 20,
// point 0). What it serves and forwards is checked in a real browser (test/browser/web.test.ts);
// here, the configuration that makes it so.

const root = path.resolve(import.meta.dirname, "..", "..");
const read = (rel: string) => readFileSync(path.join(root, rel), "utf8");
const keelToml = read("wrangler.toml");
const webToml = read("web/wrangler.toml");

/** `key = value` of a TOML table (`[name]` or `[[name]]`, the first one), as raw strings. */
function table(toml: string, name: string): Record<string, string> {
  const header = new RegExp(`^\\[{1,2}${name.replace(".", "\\.")}\\]{1,2}\\s*$`, "m");
  const start = toml.search(header);
  if (start < 0) return {};
  const body = toml.slice(start).split("\n").slice(1);
  const end = body.findIndex((l) => l.startsWith("["));
  const lines = end < 0 ? body : body.slice(0, end);
  return Object.fromEntries(lines.map((l) => l.match(/^(\w+)\s*=\s*(.+?)\s*$/)).filter((m) => m).map((m) => [m![1]!, m![2]!]));
}
const top = (toml: string) => table(`[top]\n${toml}`, "top");

describe("keel-web (web/wrangler.toml) in front of keel", () => {
  it("keel itself has no [assets]: no asset router runs before each of its requests", () => {
    expect(keelToml).not.toMatch(/^\s*\[assets\]/m);
    expect(keelToml).not.toMatch(/^\s*assets\s*=/m);
  });

  it("keel-web serves public/ with today's routing: only /console and /static/* are assets, unknown /console/... paths get the app", () => {
    const assets = table(webToml, "assets");
    expect(assets.directory).toBe('"../public"');
    expect(assets.not_found_handling).toBe('"single-page-application"');
    expect(JSON.parse(assets.run_worker_first!)).toEqual(["/*", "!/console", "!/console/*", "!/static/*"]);
    // The console's CSP travels with the assets.
    expect(read("public/_headers")).toMatch(/Content-Security-Policy: default-src 'none'; script-src 'self';/);
  });

  it("every other request goes to keel by name through the API service binding", () => {
    expect(top(webToml).name).toBe('"keel-web"');
    const services = table(webToml, "services");
    expect(services.binding).toBe('"API"');
    expect(services.service).toBe(top(keelToml).name);
    const script = read("web/index.ts");
    expect(script).toMatch(/return env\.API\.fetch\(request\);/);
    // Tiny and on its own: nothing from keel's src/ (or anything else) is imported.
    expect(script).not.toMatch(/^\s*import\b/m);
  });

  it("npm run deploy ships keel first (the binding's target must exist), then keel-web", () => {
    const deploy = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.deploy!;
    // keel: a plain `wrangler deploy` (wrangler.toml's custom build makes the code-split Worker).
    const keel = deploy.indexOf("wrangler deploy &&");
    const web = deploy.indexOf("wrangler deploy --config web/wrangler.toml");
    expect(keel).toBeGreaterThan(0);
    expect(web).toBeGreaterThan(keel);
  });
});
