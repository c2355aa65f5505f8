import net from "node:net";
import { randomBytes } from "node:crypto";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import startDoh from "../helpers/doh-server";
import { OIDC_TEST_CLIENT, startTestProvider } from "../helpers/oidc-provider-server";
import { findChromium, startKeel, type KeelServer } from "./server";

// Issue 17, points 4 and 5: signing in through an organization's SSO in a real Chromium. keel
// (wrangler dev) verifies the organization's domain over a local DNS-over-HTTPS responder; the
// organization's provider is a real oidc-provider whose own login form the person fills in.

const chromiumPath = findChromium();
const PASSWORD = "lantern-orchard-violet-42";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe.skipIf(!chromiumPath)("sign in with the organization's SSO in a real browser", () => {
  let keel: KeelServer;
  let browser: Browser;
  let issuer: string;
  let dohBase = "";
  let stopProvider: (() => Promise<void>) | undefined;
  let stopDoh: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // The DoH responder is a vitest globalSetup; started here by hand (it only needs `provide`).
    stopDoh = await startDoh({ provide: (_key: string, value: string) => (dohBase = value) } as never);
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    keel = await startKeel({ vars: { DOH_URL: `${dohBase}/dns-query` } });
    stopProvider = await startTestProvider(port, [`${keel.base}/api/v1/auth/oidc/callback`]);
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopProvider?.();
    await keel?.stop();
    await stopDoh?.();
  }, 60_000);

  const post = (p: string, body: unknown, token?: string, method = "POST") =>
    fetch(`${keel.base}/api/v1${p}`, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

  /** A verified password account at `email`, through the API; its access token. */
  async function verifiedAccount(email: string): Promise<string> {
    expect((await post("/auth/register", { email, password: PASSWORD, full_name: "Owner Person" })).status).toBe(201);
    let token: string | undefined;
    for (let i = 0; i < 50 && !token; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(email)}`)).json()) as { items: { text: string }[] };
      token = /token=([A-Za-z0-9_-]+)/.exec(box.items[0]?.text ?? "")?.[1];
      if (!token) await new Promise((r) => setTimeout(r, 200));
    }
    expect((await post("/auth/verify-email", { token })).status).toBe(200);
    const { access_token } = (await (await post("/auth/login", { email, password: PASSWORD })).json()) as { access_token: string };
    return access_token;
  }

  /** An owner, an organization with a verified domain and SSO at the test provider, through the API. */
  async function ssoOrganization(beforeSso: (domain: string) => Promise<unknown> = async () => undefined) {
    const access_token = await verifiedAccount(`sso-owner-${randomBytes(4).toString("hex")}@example.com`);
    const org = await post("/orgs", { name: "Acme Tendering" }, access_token);
    expect(org.status).toBe(201);
    const { id: orgId } = (await org.json()) as { id: string };
    const domain = `acme-${randomBytes(3).toString("hex")}.example`;
    const claimed = (await (await post(`/orgs/${orgId}/domains`, { domain }, access_token)).json()) as { verification_record: { name: string; value: string } };
    await fetch(`${dohBase}/records`, { method: "POST", body: JSON.stringify({ name: claimed.verification_record.name, values: [claimed.verification_record.value] }) });
    const verified = await post(`/orgs/${orgId}/domains/${domain}/verify`, {}, access_token);
    expect(verified.status, await verified.clone().text()).toBe(200);
    await beforeSso(domain);
    const sso = await post(`/orgs/${orgId}/sso`, { issuer, ...OIDC_TEST_CLIENT, enforce_sso: true, default_role: "member", enabled: true }, access_token, "PUT");
    expect(sso.status, await sso.clone().text()).toBe(200);
    return { domain, orgId, ownerToken: access_token };
  }

  it("'Sign in with SSO', an address at the verified domain, the provider's own form: signed in to the console and a member of the organization", async () => {
    const { domain, orgId, ownerToken } = await ssoOrganization();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${keel.base}/console/signin`);
    await page.getByRole("button", { name: "Sign in with SSO" }).click();
    const email = `jane-${randomBytes(3).toString("hex")}@${domain}`;
    await page.getByLabel("Work email").fill(email);
    await page.getByRole("button", { name: "Continue with SSO" }).click();
    // The organization's provider's own page, not keel's.
    await page.waitForURL((url) => url.href.startsWith(issuer));
    await page.locator('input[name="login"]').fill(email);
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${keel.base}/console/account`);
    await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);
    expect(page.url()).not.toContain("login_code");
    // A member of the organization now (just-in-time), as its owner sees in the SSO sign-ins.
    const sso = (await (await fetch(`${keel.base}/api/v1/orgs/${orgId}/sso`, { headers: { authorization: `Bearer ${ownerToken}` } })).json()) as { recent: { email: string; outcome: string }[] };
    expect(sso.recent[0]).toMatchObject({ email, outcome: "joined" });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the SSO page that sso_required points at: a password sign-in lands there pre-filled; one button goes on to the provider", async () => {
    // An existing password account at the domain, made before SSO is enforced there.
    let email = "";
    await ssoOrganization((domain) => verifiedAccount((email = `pat-${randomBytes(3).toString("hex")}@${domain}`)));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${keel.base}/console/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${keel.base}/console/sso?email=${encodeURIComponent(email)}`);
    expect(await page.getByLabel("Work email").inputValue()).toBe(email);
    await page.getByRole("button", { name: "Continue with SSO" }).click();
    await page.waitForURL((url) => url.href.startsWith(issuer));
    await context.close();
  });
});
