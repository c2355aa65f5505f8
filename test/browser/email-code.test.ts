import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// Passwordless email sign-in in a real Chromium (issue 16): the console's "Email me a code", and
// the /sign-in page of the emailed link handing the session to the console. Pages checked with
// axe-core like web.test.ts; screenshots in test-artifacts/.

const chromiumPath = findChromium();
const ARTIFACTS = path.join(root, "test-artifacts");
const AXE_SOURCE = readFileSync(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");
const PASSWORD = "lantern-orchard-violet-42";

describe.skipIf(!chromiumPath)("email codes in a real browser", () => {
  let keel: KeelServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Step-up after one minute instead of ten, so the dialog can be reached in a test.
    keel = await startKeel({ vars: { REAUTH_MINUTES: "1" } });
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  async function open() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    return { page, context, problems };
  }

  async function check(page: Page, name: string) {
    await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) })))`)) as { id: string; impact: string }[];
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    expect(result.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
  }

  /** A verified user made through the API. */
  async function apiUser(prefix: string) {
    const email = `${prefix}-${randomBytes(4).toString("hex")}@example.com`;
    const post = (p: string, body: unknown) => fetch(`${keel.base}/api/v1${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: `${prefix} Person` })).status).toBe(201);
    const token = /token=([A-Za-z0-9_-]+)/.exec(await newestMail(email, "verification"))![1];
    expect((await post("/auth/verify-email", { token })).status).toBe(200);
    return email;
  }

  async function newestMail(email: string, template: string): Promise<string> {
    for (let i = 0; i < 75; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as { items: { text: string; template: string }[] };
      const mail = box.items.find((m) => m.template === template);
      if (mail) return mail.text;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no ${template} mail to ${email}`);
  }

  it("the console's sign-in screen: Email me a code → enter the code → signed in", async () => {
    const { page, problems } = await open();
    const email = await apiUser("coder");
    await page.goto(`${keel.base}/console/signin`);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByLabel("Email").fill(email);
    await check(page, "console-email-code");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await expect.poll(() => page.getByLabel("Code from the email").count()).toBe(1);
    await check(page, "console-email-code-enter");
    const code = /sign-in code is (\d{6})/.exec(await newestMail(email, "email_code"))![1]!;
    await page.getByLabel("Code from the email").fill(code);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("the emailed link: the /sign-in page acts on its button only, then the console has the session", async () => {
    const { page, problems } = await open();
    const email = await apiUser("linker");
    const post = await fetch(`${keel.base}/api/v1/auth/email-code/send`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
    expect(post.status).toBe(202);
    const url = /(http\S+\/sign-in\?token=[A-Za-z0-9_-]+)/.exec(await newestMail(email, "email_code"))![1]!;
    await page.goto(url);
    await check(page, "page-sign-in");
    // Opening the page did nothing: the console is still signed out.
    await page.goto(`${keel.base}/console`);
    await page.waitForURL(/\/console\/signin/);
    await page.goto(url);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { name: "You are signed in" }).count()).toBe(1);
    await check(page, "page-signed-in");
    await page.getByRole("link", { name: "Continue to keel" }).click();
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("register without a password in the console → the verification page's button verifies and signs in", async () => {
    const { page, problems } = await open();
    const email = `nopw-${randomBytes(4).toString("hex")}@example.com`;
    await page.goto(`${keel.base}/console/register`);
    await page.getByLabel("Full name").fill("Nora Nopass");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/one-time codes sent to me/).check();
    expect(await page.getByLabel("Password", { exact: true }).count()).toBe(0);
    await check(page, "console-register-passwordless");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Check your email" }).count()).toBe(1);
    const url = /(http\S+\/verify-email\?token=[A-Za-z0-9_-]+)/.exec(await newestMail(email, "verification"))![1]!;
    await page.goto(url);
    await check(page, "page-verify-and-sign-in");
    await page.getByRole("button", { name: "Verify and sign in" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "You are signed in" }).count()).toBe(1);
    await page.getByRole("link", { name: "Continue to keel" }).click();
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("step-up: a write key after REAUTH_MINUTES asks to confirm with the password in a dialog, then is created", async () => {
    const { page, problems } = await open();
    const email = await apiUser("stepper");
    await page.goto(`${keel.base}/console/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/console\/account$/);
    await page.waitForTimeout(62_000);
    await page.getByLabel("Key name").fill("deploy bot");
    await page.getByLabel("write:alerts").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
    await expect.poll(() => dialog.count()).toBe(1);
    await check(page, "console-step-up");
    await dialog.getByLabel("Password").fill("not the password at all");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => dialog.getByRole("alert").count()).toBe(1);
    await dialog.getByLabel("Password").fill(PASSWORD);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByLabel("New API key").count()).toBe(1);
    expect(await dialog.count()).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);
});
