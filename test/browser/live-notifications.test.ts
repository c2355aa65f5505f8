import { randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, startKeel, type KeelServer } from "./server";

// Live notifications (issue 18.2) in a real Chromium against a real wrangler dev: two tabs of the
// console signed in as one user; a tender is ingested that matches the user's in-app alert (the
// real alert-matching queue runs), and the bell in BOTH tabs updates without a reload. A mark-read
// through the API then brings both bells down again.

const chromiumPath = findChromium();
const MEMBER = { email: "demo@keel.test", password: "keel-local-member-passphrase" };
const ADMIN = { email: "admin@keel.test", password: "keel-local-operator-passphrase" };

describe.skipIf(!chromiumPath)("the console's notification bell is live", () => {
  let keel: KeelServer;
  let browser: Browser;

  beforeAll(async () => {
    keel = await startKeel();
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await keel?.stop();
  }, 60_000);

  const apiCall = async <T>(method: string, path: string, opts: { body?: unknown; token?: string; apiKey?: string } = {}): Promise<T> => {
    const res = await fetch(`${keel.base}/api/v1${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.apiKey ? { "x-api-key": opts.apiKey } : {}),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    expect(res.ok, `${method} ${path}: ${res.status} ${text}`).toBe(true);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const login = async (who: { email: string; password: string }) =>
    (await apiCall<{ access_token: string }>("POST", "/auth/login", { body: who })).access_token;

  const bell = (page: Page) => page.getByTestId("bell-count");
  const bellCount = async (page: Page) => Number(await bell(page).textContent());

  it("a new match updates the bell in both tabs without a reload; mark-read brings both down", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab1 = await context.newPage();
    const errors: string[] = [];
    tab1.on("pageerror", (e) => errors.push(e.message));
    await tab1.goto(`${keel.base}/console/signin`);
    await tab1.getByLabel("Email").fill(MEMBER.email);
    await tab1.getByLabel("Password").fill(MEMBER.password);
    await tab1.getByRole("button", { name: "Sign in", exact: true }).click();
    await tab1.waitForURL(/\/console\/account/);
    // The second tab signs in through the shared refresh cookie.
    const tab2 = await context.newPage();
    tab2.on("pageerror", (e) => errors.push(e.message));
    await tab2.goto(`${keel.base}/console/account`);
    for (const tab of [tab1, tab2]) await expect.poll(() => bell(tab).textContent(), { timeout: 15_000 }).toMatch(/^\d+$/);
    const before = await bellCount(tab1);
    expect(await bellCount(tab2)).toBe(before);

    // The member's in-app alert, then an ingest (admin's key) that matches it.
    const word = `livebell${randomBytes(3).toString("hex")}`;
    const member = await login(MEMBER);
    await apiCall("POST", "/me/alerts", { token: member, body: { name: word, criteria: { keywords: [word] }, notification_methods: ["in_app"] } });
    const admin = await login(ADMIN);
    const { key } = await apiCall<{ key: string }>("POST", "/me/api-keys", { token: admin, body: { name: "ingest", scopes: ["write:tenders"] } });
    await apiCall("POST", "/tenders", {
      apiKey: key,
      body: { tenders: [{ external_id: `LIVE-${word}`, title: `Construction of ${word} culvert`, closing_date: new Date(Date.now() + 30 * 86_400_000).toISOString() }] },
    });

    // Both bells move, with no navigation or reload.
    const urls = [tab1.url(), tab2.url()];
    for (const tab of [tab1, tab2]) await expect.poll(() => bellCount(tab), { timeout: 30_000 }).toBe(before + 1);
    expect([tab1.url(), tab2.url()]).toEqual(urls);
    await expect.poll(() => tab1.locator(".bell").getAttribute("title")).toBe(`Latest: New match: ${word}`);

    // Read everywhere (through the API, as another client would): both bells follow.
    const list = await apiCall<{ items: { id: string; title: string }[] }>("GET", "/me/notifications?unread_only=true", { token: member });
    const mine = list.items.find((n) => n.title === `New match: ${word}`)!;
    await apiCall("POST", `/me/notifications/${mine.id}/read`, { token: member });
    for (const tab of [tab1, tab2]) await expect.poll(() => bellCount(tab), { timeout: 15_000 }).toBe(before);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
