import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const load = async () => (await import(path.join(root, "scripts", "ensure-install.mjs"))) as { withoutEngineWarnings: (t: string) => { rest: string; engines: number } };

describe("npm start's install step", () => {
  it("drops npm's EBADENGINE warnings (engines checked against the Node running npm) and counts them; the rest passes", async () => {
    const { withoutEngineWarnings } = await load();
    const warning = (pkg: string) =>
      [
        "npm warn EBADENGINE Unsupported engine {",
        `npm warn EBADENGINE   package: '${pkg}',`,
        "npm warn EBADENGINE   required: { node: '>=22' },",
        "npm warn EBADENGINE   current: { node: 'v20.20.2', npm: '10.8.2' }",
        "npm warn EBADENGINE }",
      ].join("\n");
    const out = withoutEngineWarnings([warning("wrangler@4.164.0"), "npm warn deprecated glob@7.2.3: old", warning("miniflare@4.1.0"), "added 612 packages in 40s", ""].join("\n"));
    expect(out.engines).toBe(2);
    expect(out.rest).toBe("npm warn deprecated glob@7.2.3: old\nadded 612 packages in 40s\n");
  });
});
