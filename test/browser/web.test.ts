import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// keel in a real Chromium (Debian's package, driven by playwright-core) against a wrangler dev
// the test starts: the emailed-link pages, the dev mailbox and the console. Every page and view
// is checked with axe-core (no serious or critical violation) and kept as a screenshot in
// test-artifacts/.

const chromiumPath = findChromium();
if (!chromiumPath) console.warn("browser tests skipped: no chromium found (install Debian's `chromium`, or set CHROMIUM_PATH)");

const ARTIFACTS = path.join(root, "test-artifacts");
const AXE_SOURCE = readFileSync(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");
const ADMIN = { email: "admin@keel.test", password: "keel-local-operator-passphrase" };
const PASSWORD = "lantern-orchard-violet-42";
const NEW_PASSWORD = "compass-meadow-granite-77";

/** RFC 6238 code (SHA-1, 6 digits, 30 s), with its own base32 decoder: independent of keel's. */
function totp(secretBase32: string, unixSeconds: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secretBase32.replace(/[=\s]/g, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[19]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
const now = () => Math.floor(Date.now() / 1000);

describe.skipIf(!chromiumPath)("keel in a real browser", () => {
  let keel: KeelServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    keel = await startKeel();
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  /** A fresh browser profile; records every CSP violation, script error and third-party request. */
  async function open() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith(keel.base) && !url.startsWith("data:") && !url.startsWith("about:")) problems.push(`third-party request: ${url}`);
    });
    return { page, context, problems };
  }

  /** axe-core on the page as it is: no serious or critical violation. Then a screenshot. */
  async function check(page: Page, name: string) {
    await page.evaluate(AXE_SOURCE);
    const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) })))`)) as {
      id: string;
      impact: string;
      help: string;
      nodes: string[];
    }[];
    const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    expect(bad, `${name}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
  }

  async function signIn(page: Page, email: string, password: string, code?: () => string) {
    await page.goto(`${keel.base}/console/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    if (code) {
      await page.getByLabel("Authentication code").fill(code());
      await page.getByRole("button", { name: "Verify" }).click();
    }
  }

  async function openMail(page: Page, email: string, subject: string, shot?: string) {
    await page.goto(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`);
    const link = page.getByRole("link", { name: subject });
    await expect.poll(async () => link.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    if (shot) await check(page, shot);
    await link.first().click();
    await page.waitForURL(/\/dev\/mailbox\/eml_/);
  }

  /** A verified user made through the API. */
  async function apiUser(prefix: string) {
    const email = `${prefix}-${randomBytes(4).toString("hex")}@example.com`;
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${keel.base}/api/v1${p}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: `${prefix} Person` })).status).toBe(201);
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as { items: { text: string }[] };
      token = /token=([A-Za-z0-9_-]+)/.exec(box.items[0]?.text ?? "")?.[1];
      if (!token) await new Promise((r) => setTimeout(r, 200));
    }
    expect((await post("/auth/verify-email", { token })).status).toBe(200);
    return { email, post };
  }

  it("register → the verification link from the mailbox page → verified", async () => {
    const { page, problems } = await open();
    const email = `reader-${randomBytes(4).toString("hex")}@example.com`;

    await page.goto(`${keel.base}/console/register`);
    await check(page, "console-register");
    await page.getByLabel("Full name").fill("Rita Reader");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Check your email" }).count()).toBe(1);

    await openMail(page, email, "Verify your email address", "mailbox-list");
    await check(page, "mailbox-message");
    // The link inside the sandboxed frame opens keel's page at the top level.
    await page.frameLocator("iframe.mail-frame").getByRole("link", { name: "Verify email" }).click();
    await page.waitForURL(/\/verify-email\?token=/);
    await check(page, "page-verify-email");
    await page.getByRole("button", { name: "Verify my email address" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Email verified" }).count()).toBe(1);
    await check(page, "page-email-verified");

    await signIn(page, email, PASSWORD);
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
    expect(await page.getByText("verified · member since").count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("forgot password → the reset page (policy, inline errors) → sign in with the new password", async () => {
    const { page, problems } = await open();
    const { email } = await apiUser("forgetful");

    await page.goto(`${keel.base}/console/forgot`);
    await check(page, "console-forgot");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send the reset link" }).click();
    await expect.poll(() => page.getByText("a reset link is on its way").count()).toBe(1);

    await openMail(page, email, "Reset your password");
    await page.frameLocator("iframe.mail-frame").getByRole("link", { name: "Choose a new password" }).click();
    await page.waitForURL(/\/reset-password\?token=/);
    expect(await page.getByText("At least 15 characters").count()).toBe(1);
    await check(page, "page-reset-password");

    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("New password again").fill("not the same at all, sorry");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect.poll(() => page.locator("#confirm_password-error").textContent()).toContain("not the same");
    await page.getByLabel("New password", { exact: true }).fill("tooshort");
    await page.getByLabel("New password again").fill("tooshort");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect.poll(() => page.locator("#new_password-error").textContent()).toContain("at least 15");
    await check(page, "page-reset-password-errors");

    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("New password again").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Password changed" }).count()).toBe(1);
    await check(page, "page-password-changed");

    await signIn(page, email, PASSWORD);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("incorrect");
    await check(page, "console-signin-error");
    await signIn(page, email, NEW_PASSWORD);
    await page.waitForURL(/\/console\/account$/);
    expect(problems).toEqual([]);
  });

  it("a user turns on 2FA from the secret shown beside the QR code, then signs in with a code", async () => {
    const { page, context, problems } = await open();
    const { email } = await apiUser("careful");
    await signIn(page, email, PASSWORD);
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByRole("heading", { name: "Sessions" }).count()).toBe(1);
    await check(page, "console-account");

    // Nothing readable by scripts: no token in storage, the refresh cookie is HttpOnly.
    expect(await page.evaluate("JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage), document.cookie])")).toBe('[[],[],""]');
    const cookies = await context.cookies();
    const refresh = cookies.find((c) => c.name === "__Secure-keel_refresh");
    expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/api/v1/auth/refresh" });
    // The device token (issue 14, point 12) likewise, sent to the login alone.
    const device = cookies.find((c) => c.name === "__Secure-keel_device");
    expect(device).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/api/v1/auth/login" });

    // List-valued profile fields are edited as comma-separated text and saved as lists.
    await page.getByLabel("Operating states", { exact: true }).fill("Bihar, Kerala");
    await page.getByRole("button", { name: "Save details" }).click();
    await expect.poll(() => page.getByText("Saved.").count()).toBeGreaterThan(0);
    const profile = await fetch(`${keel.base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) })
      .then((r) => r.json() as Promise<{ access_token: string }>)
      .then((t) => fetch(`${keel.base}/api/v1/me/profile`, { headers: { authorization: `Bearer ${t.access_token}` } }))
      .then((r) => r.json() as Promise<{ operating_states: string[] }>);
    expect(profile.operating_states).toEqual(["Bihar", "Kerala"]);

    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const secret = (await page.locator("code.secret").textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.getByRole("img", { name: "QR code of the authenticator secret" }).count()).toBe(1);
    await check(page, "console-2fa-setup");
    // The current step's code: the server accepts it for this step and the next (±1 step), so a
    // step boundary crossed between filling and checking cannot reject it, as the previous
    // step's code could (CI failed on that once).
    await page.getByLabel("Code from the app").fill(totp(secret, now()));
    await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
    await expect.poll(() => page.getByRole("list", { name: "Backup codes" }).locator("li").count()).toBe(10);
    await check(page, "console-2fa-backup-codes");

    // An API key is shown once.
    await page.getByLabel("Key name").fill("laptop script");
    await page.getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => page.getByLabel("New API key").count()).toBe(1);
    const key = (await page.getByLabel("New API key").textContent())!.trim();
    expect((await fetch(`${keel.base}/api/v1/me`, { headers: { "x-api-key": key } })).status).toBe(200);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console\/signin/);
    expect((await context.cookies()).find((c) => c.name === "__Secure-keel_refresh")).toBeUndefined();
    // Signing out ends the session, not the device: it keeps its own failure count at the next login.
    expect((await context.cookies()).find((c) => c.name === "__Secure-keel_device")).toBeDefined();

    // The next step's code: never the step just used to turn 2FA on (replays are refused), and
    // still inside the ±1 window if a step boundary passes before the server checks it.
    await signIn(page, email, PASSWORD, () => totp(secret, now() + 30));
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByText("Two-factor authentication is on").count()).toBe(1);
    // A reload keeps the session through the refresh cookie alone.
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("the administrator signs in with TOTP, finds a user, suspends them and sees the audit entry; the stats chart has data", async () => {
    // TOTP for the seeded administrator, turned on through the API.
    const loginRes = await fetch(`${keel.base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) });
    const tokens = (await loginRes.json()) as { access_token: string };
    const auth = { "content-type": "application/json", authorization: `Bearer ${tokens.access_token}` };
    const setup = (await (await fetch(`${keel.base}/api/v1/auth/mfa/totp/setup`, { method: "POST", headers: auth })).json()) as { secret: string };
    const enabled = await fetch(`${keel.base}/api/v1/auth/mfa/totp/enable`, { method: "POST", headers: auth, body: JSON.stringify({ code: totp(setup.secret, now()) }) });
    expect(enabled.status).toBe(200);

    const target = await apiUser("suspect");
    const { page, problems } = await open();
    // As above: this step to turn it on, the next to sign in, both safe across a step boundary.
    await signIn(page, ADMIN.email, ADMIN.password, () => totp(setup.secret, now() + 30));
    await page.waitForURL(/\/console\/users/);
    await check(page, "console-users");

    await page.getByLabel("Search (email or name)").fill(target.email);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: target.email }).click();
    await page.waitForURL(/\/console\/users\/usr_/);
    await expect.poll(() => page.getByRole("heading", { name: "Profile" }).count()).toBe(1);
    await check(page, "console-user-detail");

    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("suspend: done");
    await expect.poll(() => page.locator("dd").filter({ hasText: /^suspended$/ }).count()).toBe(1);
    await expect.poll(() => page.getByRole("cell", { name: /suspend/ }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await check(page, "console-user-suspended");

    // A role is picked from the roles that exist (GET /admin/roles), not typed.
    await page.getByLabel("Role to assign").selectOption("moderator");
    await page.getByRole("button", { name: "Assign role" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("assign moderator: done");
    await expect.poll(() => page.getByRole("cell", { name: "moderator", exact: true }).count()).toBeGreaterThan(0);
    expect((await fetch(`${keel.base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: target.email, password: PASSWORD }) })).status).not.toBe(200);

    await page.getByRole("link", { name: "Audit log" }).click();
    await expect.poll(() => page.getByRole("cell", { name: /suspend/ }).count()).toBeGreaterThan(0);
    await check(page, "console-audit");

    await page.getByRole("link", { name: "Stats" }).click();
    await expect.poll(() => page.locator('svg[data-chart="logins"] rect.bar').count()).toBe(30);
    const values = await page.locator('svg[data-chart="logins"] rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
    expect(values.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await check(page, "console-stats");

    await expect.poll(() => page.locator('svg[data-chart="new-users"] rect.bar').count()).toBe(30);
    // Engagement is rolled up by cron: a fresh server has none, and the chart says so instead of
    // drawing empty axes (issue 21); with data it has its 5 bars.
    const engagementBars = page.locator('svg[data-chart="engagement"] rect.bar');
    const engagementEmpty = page.locator('[data-chart-empty="engagement"]');
    await expect.poll(async () => (await engagementBars.count()) === 5 || (await engagementEmpty.count()) === 1).toBe(true);
    // Delivery (GET /admin/delivery, admin:system): the emails of this test were queued in the last
    // 24 hours, so its emails chart has its 3 bars (sent, failed, pending) with data.
    const deliveryBars = page.locator('svg[data-chart="delivery-emails-24h"] rect.bar');
    await expect.poll(() => deliveryBars.count()).toBe(3);
    const queued = await deliveryBars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
    expect(queued.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await expect.poll(() => page.locator('svg[data-chart="delivery-emails-7d"] rect.bar').count()).toBe(3);
    await check(page, "console-stats-delivery");
    if ((await engagementEmpty.count()) === 1) expect(await engagementEmpty.textContent()).toContain("No data yet");

    // Bulk: two users selected, one action, a result per id.
    const a = await apiUser("bulk-a");
    const b = await apiUser("bulk-b");
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("Search (email or name)").fill("bulk-");
    await page.getByRole("button", { name: "Search" }).click();
    // Wait for the filtered list: a row checked before the results arrive is replaced by them.
    await expect.poll(() => page.getByRole("checkbox", { name: /^Select .*@/ }).count()).toBe(2);
    await page.getByRole("checkbox", { name: `Select ${a.email}` }).check();
    await page.getByRole("checkbox", { name: `Select ${b.email}` }).check();
    await page.getByLabel("Action", { exact: true }).selectOption("deactivate");
    await page.getByRole("button", { name: "Apply to selection" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("2 succeeded, 0 failed");
    await check(page, "console-users-bulk");

    // Organizations: the list, one organization's members, a plan change.
    const ownerLogin = (await (await a.post("/auth/login", { email: target.email, password: PASSWORD })).json()) as { access_token?: string };
    expect(ownerLogin.access_token).toBeUndefined(); // the suspended user cannot sign in
    const owner = await apiUser("owner");
    const ownerTokens = (await (await owner.post("/auth/login", { email: owner.email, password: PASSWORD })).json()) as { access_token: string };
    const orgName = `Acme ${randomBytes(3).toString("hex")}`;
    expect((await owner.post("/orgs", { name: orgName }, ownerTokens.access_token)).status).toBe(201);
    await page.getByRole("link", { name: "Organizations" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Organizations" }).count()).toBe(1);
    await check(page, "console-orgs");
    await page.getByRole("link", { name: orgName }).click();
    await expect.poll(() => page.getByRole("cell", { name: owner.email }).count()).toBe(1);
    await page.getByLabel("New plan").selectOption("business");
    await page.getByRole("button", { name: "Change plan" }).click();
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByText("Plan changed to business").count()).toBe(1);
    await expect.poll(() => page.getByText("up to 25 users").count()).toBe(1);
    await check(page, "console-org-detail");
    expect(problems).toEqual([]);
  });

  // Issue 14, point 21: the API reference runs the pinned Scalar copy from this origin, under
  // `script-src 'self'`, with no CSP violation and no request to any other origin.
  it("/docs renders the API reference from this origin's pinned Scalar bundle, with no CSP violation or third-party request", async () => {
    const bundle = await fetch(`${keel.base}/static/docs/scalar.js`);
    expect(bundle.status, "run `npm run build:console` with @scalar/api-reference installed").toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    const { page, problems } = await open();
    await page.addInitScript(`document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI))`);
    const res = await page.goto(`${keel.base}/docs`);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self';");
    // The document's own title and an operation of it: Scalar fetched /openapi.json and rendered it.
    await expect.poll(() => page.getByRole("heading", { name: "keel API", exact: true }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText("Liveness and binding checks").count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "docs.png") });
    expect(problems).toEqual([]);
  });

  it("an unknown /api path is still a problem+json 404 from the worker, and /console paths are the app", async () => {
    const res = await fetch(`${keel.base}/api/v1/no-such-route`, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const app = await fetch(`${keel.base}/console/users/some-deep-link`, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
    expect(app.status).toBe(200);
    expect(await app.text()).toContain('<script type="module" src="/console/app.js">');
    expect(app.headers.get("content-security-policy")).toContain("script-src 'self'");

    const { page } = await open();
    await page.goto(`${keel.base}/accept-invitation?token=${"x".repeat(32)}`);
    await check(page, "page-accept-invitation");
  });
});
