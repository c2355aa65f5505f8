import net from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OIDC_TEST_CLIENT, startTestProvider } from "../helpers/oidc-provider-server";
import { findChromium, startKeel, type KeelServer } from "./server";

// Social sign-in in a real Chromium: keel (wrangler dev) configured with a real OpenID provider
// (oidc-provider) that this test runs; the person fills in the provider's own login form.

const chromiumPath = findChromium();

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe.skipIf(!chromiumPath)("sign in with an OpenID provider in a real browser", () => {
  let keel: KeelServer;
  let browser: Browser;
  let stopProvider: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    keel = await startKeel({ vars: { OIDC_PROVIDERS: JSON.stringify([{ id: "test", name: "Test IdP", issuer, ...OIDC_TEST_CLIENT }]) } });
    stopProvider = await startTestProvider(port, [`${keel.base}/api/v1/auth/oidc/callback`]);
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopProvider?.();
    await keel?.stop();
  }, 60_000);

  it("the sign-in screen shows the provider; its own login form signs the person in to the console", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${keel.base}/console/signin`);
    const start = page.getByRole("link", { name: "Continue with Test IdP" });
    await expect.poll(() => start.count()).toBe(1);
    await start.click();
    // The provider's own page (oidc-provider's login form), not keel's.
    await page.waitForURL((url) => !url.href.startsWith(keel.base));
    const login = `browser${Date.now().toString(36)}`;
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${keel.base}/console/account`);
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
    await expect.poll(() => page.getByText(`${login}@idp.example`).count()).toBeGreaterThan(0);
    // The address bar never held a token, and the one-time code is gone from it.
    expect(page.url()).not.toContain("login_code");
    await context.close();
  });

  it("My account links the provider (its own login form), lists it, and unlinks it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${keel.base}/console/signin`);
    await page.getByLabel("Email").fill("demo@keel.test");
    await page.getByLabel("Password").fill("keel-local-member-passphrase");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${keel.base}/console/account`);
    await page.getByRole("button", { name: "Link Test IdP" }).click();
    await page.waitForURL((url) => !url.href.startsWith(keel.base));
    const login = `linked${Date.now().toString(36)}`;
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(/\/console\/account\?linked=test$/);
    await expect.poll(() => page.getByText("Test IdP is linked").count()).toBe(1);
    const section = page.getByRole("region", { name: "Sign-in providers" });
    await expect.poll(() => section.getByText(`${login}@idp.example`).count()).toBe(1);
    await section.getByRole("button", { name: "Unlink" }).click();
    await section.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => section.getByText(`${login}@idp.example`).count()).toBe(0);
    await context.close();
  });
});
