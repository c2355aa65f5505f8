import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// A newcomer's first hour against a fresh keel (fresh state, demo data seeded as `npm start` does):
// the README's tour, which is generated from scripts/tour.mjs, runs end to end, twice (it must
// be re-runnable on the same server); and /docs renders the API reference without any request
// beyond the service.

const run = promisify(execFile);
const chromiumPath = findChromium();

describe("a newcomer's first hour", () => {
  let keel: KeelServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // As `npm start` writes it into .dev.vars: the tour's SSO part serves DNS-over-HTTPS there.
    keel = await startKeel({ vars: { DOH_URL: `http://127.0.0.1:${process.env.KEEL_TOUR_DOH_PORT ?? 8853}/dns-query` } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  async function tour() {
    try {
      const { stdout } = await run(process.execPath, [path.join(root, "scripts", "tour.mjs"), keel.base], { cwd: root, timeout: 150_000 });
      return stdout;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      // The failing step, its status and its body, as the script printed them.
      throw new Error(`the tour failed (exit ${e.code}):\n${e.stderr}\n--- last steps ---\n${(e.stdout ?? "").split("\n").slice(-5).join("\n")}`);
    }
  }

  it("the README's tour runs top to bottom with the statuses it shows, and again on the same server", async () => {
    expect(await tour()).toContain("tour: every step answered as expected");
    expect(await tour()).toContain("tour: every step answered as expected");
  }, 300_000);

  it.skipIf(!chromiumPath)("/docs renders the API reference from this origin only", async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith(`${keel.base}/`) && !url.startsWith("data:") && !url.startsWith("about:") && !url.startsWith("blob:")) foreign.push(url);
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${keel.base}/docs`, { waitUntil: "networkidle" });
    // Scalar rendered the document: its title and an operation of keel's (the health check's summary, in the open first group) appear.
    await expect.poll(() => page.getByRole("heading", { name: /keel/i }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText("Liveness and binding checks").first().count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.locator("#app").getAttribute("data-state")).not.toBe("bundle-missing");
    mkdirSync(path.join(root, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(root, "test-artifacts", "docs.png"), fullPage: false });
    await page.waitForTimeout(500);
    expect(foreign, "requests beyond the service").toEqual([]);
    expect(errors).toEqual([]);
  }, 120_000);
});
