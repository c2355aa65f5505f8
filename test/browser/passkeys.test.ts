import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { readFileSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// Issue 16, points 1 and 5: passkeys in the console, in a real Chromium with a virtual
// authenticator (DevTools protocol, WebAuthn domain: CTAP2, internal transport, resident keys,
// user verification). The console is opened at http://localhost:<port>: an IP address cannot be
// a WebAuthn RP ID (server.ts sets WEBAUTHN_ORIGINS to this origin).

const chromiumPath = findChromium();
const ARTIFACTS = path.join(root, "test-artifacts");
const PASSWORD = "lantern-orchard-violet-42";
const AXE_SOURCE = readFileSync(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");

/** axe-core: no serious or critical violation on the page as it is. */
async function accessible(page: Page) {
  await page.evaluate(AXE_SOURCE);
  const bad = (await page.evaluate(
    `axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))`,
  )) as string[];
  expect(bad).toEqual([]);
}

describe.skipIf(!chromiumPath)("passkeys in a real browser", () => {
  let keel: KeelServer;
  let browser: Browser;
  let origin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    keel = await startKeel();
    origin = keel.base.replace("127.0.0.1", "localhost");
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  /** A fresh browser profile with its own virtual platform authenticator. */
  async function profile() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    // Records how each WebAuthn request was made ("conditional" = autofill) and how it ended.
    await context.addInitScript({
      content: `
        window.__webauthn = [];
        const get = navigator.credentials.get.bind(navigator.credentials);
        navigator.credentials.get = async (options) => {
          const kind = options && options.mediation === "conditional" ? "conditional" : "modal";
          try {
            const credential = await get(options);
            window.__webauthn.push(kind + ":ok");
            return credential;
          } catch (err) {
            window.__webauthn.push(kind + ":" + err.name);
            throw err;
          }
        };`,
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    const cdp: CDPSession = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const verifies: string[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/api/v1/auth/passkeys/login/verify")) verifies.push(r.method());
    });
    const webauthnLog = () => page.evaluate("window.__webauthn") as Promise<string[]>;
    const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    return { context, page, cdp, authenticatorId, credentials, problems, webauthnLog, verifies };
  }

  /** A verified user made through the API. */
  async function apiUser(prefix: string) {
    const email = `${prefix}-${randomBytes(4).toString("hex")}@example.com`;
    const post = (p: string, body: unknown) => fetch(`${keel.base}/api/v1${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: `${prefix} Person` })).status).toBe(201);
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as { items: { text: string }[] };
      token = /token=([A-Za-z0-9_-]+)/.exec(box.items[0]?.text ?? "")?.[1];
      if (!token) await new Promise((r) => setTimeout(r, 200));
    }
    expect((await post("/auth/verify-email", { token })).status).toBe(200);
    return { email };
  }

  const signedInAs = async (page: Page) => {
    await page.waitForURL(/\/console\/account$/);
    await expect.poll(() => page.getByRole("heading", { name: "My account" }).count()).toBe(1);
  };

  it("registers a passkey from My account, then signs in with it (button, then autofill) without typing an email; another profile cannot", async () => {
    const { email } = await apiUser("passkey");
    const a = await profile();
    const { page } = a;

    await page.goto(`${origin}/console/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await signedInAs(page);

    await page.getByLabel("Name of the new passkey").fill("Test laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => page.getByText("Passkey Test laptop added").count()).toBe(1);
    await expect.poll(() => page.getByTestId("sign-in-methods").textContent()).toContain("1 passkey");
    expect(await a.credentials()).toHaveLength(1);
    expect((await a.credentials())[0]!.isResidentCredential).toBe(true);
    await page.getByLabel("Name of passkey Test laptop").fill("Work laptop");
    await page.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => page.getByLabel("Name of passkey Work laptop").count()).toBe(1);
    await accessible(page);
    await page.screenshot({ path: path.join(ARTIFACTS, "console-passkeys.png"), fullPage: true });

    // Sign out; sign in with the passkey button alone: no email typed. The virtual authenticator
    // answers autofill requests at once, so the sign-in screen's autofill request is failed here
    // (its options request aborted) to see the button do it.
    let aborted = 0;
    let buttonClicked = false;
    await page.route("**/api/v1/auth/passkeys/login/options", (route) => (buttonClicked ? route.continue() : (aborted++, route.abort())));
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console\/signin/);
    await expect.poll(() => aborted).toBeGreaterThan(0);
    buttonClicked = true;
    const before = (await a.webauthnLog()).length;
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await signedInAs(page);
    expect((await a.webauthnLog()).slice(before)).toEqual(["modal:ok"]);
    await page.unroute("**/api/v1/auth/passkeys/login/options");

    // Sign out; autofill (conditional mediation): the browser offers the passkey for the email
    // field (autocomplete="username webauthn"); the virtual authenticator picks it, and the
    // console signs in without a click.
    const beforeAutofill = (await a.webauthnLog()).length;
    const verifiesBefore = a.verifies.length;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console\/signin/);
    expect(await page.getByLabel("Email").getAttribute("autocomplete")).toBe("username webauthn");
    await signedInAs(page);
    expect((await a.webauthnLog()).slice(beforeAutofill)).toContain("conditional:ok");
    expect((await a.webauthnLog()).slice(beforeAutofill).filter((e) => e.startsWith("modal"))).toEqual([]);
    // One sign-in, however often the screen mounted meanwhile: a cancelled screen sends nothing.
    expect(a.verifies.length - verifiesBefore).toBe(1);
    expect(a.problems).toEqual([]);

    // A second profile, whose authenticator holds no credential, cannot sign in.
    const b = await profile();
    await b.page.goto(`${origin}/console/signin`);
    await b.page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => b.webauthnLog()).toContain("modal:NotAllowedError");
    await expect.poll(() => b.page.locator(".notice, [role=alert]").count()).toBeGreaterThan(0);
    expect(b.page.url()).toMatch(/\/console\/signin/);
    expect((await b.context.cookies()).find((c) => c.name === "__Secure-keel_refresh")).toBeUndefined();

    // Step-up with a passkey: removing a passkey needs a recent sign-in. The session here is
    // recent, so keel's first answer is replaced by the 401 `reauthentication_required` it gives
    // once REAUTH_MINUTES have passed; the dialog's "Use a passkey" then steps up for real
    // (options bound to this session, the authenticator's assertion) and the removal goes again.
    let stale = true;
    await page.route("**/api/v1/me/passkeys/*", (route) =>
      route.request().method() === "DELETE" && stale
        ? ((stale = false),
          route.fulfill({
            status: 401,
            contentType: "application/problem+json",
            body: JSON.stringify({ type: "about:blank", title: "Reauthentication required", status: 401, code: "reauthentication_required", detail: "This action needs a recent sign-in" }),
          }))
        : route.continue(),
    );
    const reauths: number[] = [];
    page.on("response", (r) => {
      if (r.url().endsWith("/api/v1/auth/reauthenticate")) reauths.push(r.status());
    });
    await page.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("group", { name: "Remove passkey Work laptop?" }).getByRole("button", { name: "Confirm" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
    await dialog.getByRole("button", { name: "Passkey" }).click();
    await dialog.getByRole("button", { name: "Use a passkey" }).click();
    await expect.poll(() => reauths).toEqual([200]);
    await expect.poll(() => page.getByTestId("sign-in-methods").textContent()).toContain("0 passkeys");
    expect(await dialog.count()).toBe(0);
    expect(a.problems).toEqual([]);
  });
});
