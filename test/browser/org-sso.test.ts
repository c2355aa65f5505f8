import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// Issue 17, point 5: an organization admin's SSO view in the console (provider form, domains with
// their TXT record, enforce toggle, recent sign-ins), in a real Chromium against wrangler dev.

const chromiumPath = findChromium();
const ARTIFACTS = path.join(root, "test-artifacts");
const AXE_SOURCE = readFileSync(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");
const PASSWORD = "lantern-orchard-violet-42";

describe.skipIf(!chromiumPath)("the organization SSO view", () => {
  let keel: KeelServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    keel = await startKeel();
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  async function axe(page: Page, name: string) {
    await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) })))`)) as { impact: string }[];
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    expect(result.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
  }

  /** A verified user who owns an organization, made through the API. */
  async function owner() {
    const email = `sso-owner-${randomBytes(4).toString("hex")}@example.com`;
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${keel.base}/api/v1${p}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: "Owner Person" })).status).toBe(201);
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as { items: { text: string }[] };
      token = /token=([A-Za-z0-9_-]+)/.exec(box.items[0]?.text ?? "")?.[1];
      if (!token) await new Promise((r) => setTimeout(r, 200));
    }
    expect((await post("/auth/verify-email", { token })).status).toBe(200);
    const { access_token } = (await (await post("/auth/login", { email, password: PASSWORD })).json()) as { access_token: string };
    const org = await post("/orgs", { name: "Acme Tendering" }, access_token);
    expect(org.status).toBe(201);
    return { email };
  }

  it("an owner saves the provider (the secret is never shown back), claims a domain and sees its TXT record", async () => {
    const { email } = await owner();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${keel.base}/console/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    await page.getByRole("link", { name: "Organization SSO" }).click();
    await page.getByRole("link", { name: "Acme Tendering" }).click();
    await expect.poll(() => page.getByText("SSO is not configured yet.").count()).toBe(1);

    await page.getByLabel("Issuer URL").fill("https://login.acme.example/realms/acme");
    await page.getByLabel("Client ID").fill("keel-console");
    await page.getByLabel("Client secret").fill("browser-secret-never-shown");
    await page.getByLabel(/Enforce SSO/).check();
    await page.getByRole("button", { name: "Save provider" }).click();
    await expect.poll(() => page.getByText("The identity provider was saved.").count()).toBe(1);
    await expect.poll(() => page.getByText(/enforced: members at verified domains/).count()).toBe(1);
    expect(await page.getByLabel("Client secret").inputValue()).toBe("");
    expect(await page.content()).not.toContain("browser-secret-never-shown");

    await page.getByRole("textbox", { name: "Domain" }).fill("acme-browser.example");
    await page.getByRole("button", { name: "Add domain" }).click();
    await expect.poll(() => page.getByText("_keel-verification.acme-browser.example").count()).toBe(1);
    await expect.poll(() => page.getByText(/^keel-verification=/).count()).toBe(1);
    await expect.poll(() => page.getByRole("button", { name: "Verify acme-browser.example" }).count()).toBe(1);

    await page.getByRole("textbox", { name: "Domain" }).fill("gmail.com");
    await page.getByRole("button", { name: "Add domain" }).click();
    await expect.poll(() => page.getByText(/public mail service/).count()).toBeGreaterThan(0);
    await axe(page, "console-org-sso");
    expect(errors).toEqual([]);
    await context.close();
  });
});
