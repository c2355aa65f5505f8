import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, root, startKeel, type KeelServer } from "./server";

// Issue 19, point 6: an alert email in the local mailbox, its tender link opened in a real
// Chromium that is not signed in: /l/{signed} → the console's tender view → sign-in → back on
// the tender view, signed in, with its favorite and note actions working.

const chromiumPath = findChromium();
const ARTIFACTS = path.join(root, "test-artifacts");
const DEMO = { email: "demo@keel.test", password: "keel-local-member-passphrase" };
const ADMIN = { email: "admin@keel.test", password: "keel-local-operator-passphrase" };

describe.skipIf(!chromiumPath)("an emailed tender link in a real browser", () => {
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

  const apiCall = async (method: string, p: string, body?: unknown, token?: string) => {
    const res = await fetch(`${keel.base}/api/v1${p}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${method} ${p}: ${text}`).toBeLessThan(300);
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const signInApi = async (who: { email: string; password: string }) => (await apiCall("POST", "/auth/login", who)).access_token as string;

  it("opens the alert email's link, signs in and lands on the tender view", async () => {
    const word = `zyx${Date.now().toString(36)}`;
    const demo = await signInApi(DEMO);
    const alert = await apiCall("POST", "/me/alerts", { name: "Link test", criteria: { keywords: [word] }, notification_methods: ["email"], notification_frequency: "immediate" }, demo);
    const admin = await signInApi(ADMIN);
    const title = `Footbridge ${word} over the canal`;
    await apiCall("POST", "/tenders", { tenders: [{ external_id: `ext-${word}`, title, department: "Roads Dept", state: "Bihar", value: 1_200_000, closing_date: new Date(Date.now() + 20 * 86_400_000).toISOString() }] }, admin);

    let link: string | undefined;
    for (let i = 0; i < 150 && !link; i++) {
      const box = (await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(DEMO.email)}`)).json()) as { items: { text: string; template: string; subject: string }[] };
      const mail = box.items.find((m) => m.template === "alert_match" && m.subject.includes(word));
      link = mail ? /https?:\/\/\S+\/l\/[A-Za-z0-9_.-]+/.exec(mail.text)?.[0] : undefined;
      if (!link) await new Promise((r) => setTimeout(r, 200));
    }
    if (!link) {
      const box = await (await fetch(`${keel.base}/dev/mailbox?to=${encodeURIComponent(DEMO.email)}`)).text();
      const matches = await (await fetch(`${keel.base}/api/v1/me/alerts/${alert.id as string}/matches`, { headers: { authorization: `Bearer ${demo}` } })).text();
      throw new Error(`no alert_match mail with an /l/ link. mailbox: ${box.slice(0, 2000)}\nmatches: ${matches.slice(0, 2000)}\nlog: ${keel.log().slice(-3000)}`);
    }
    expect(link!.startsWith(`${keel.base}/l/`)).toBe(true);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(link!);
    // Not signed in: the console asks to sign in, then comes back to the tender.
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 15_000 }).toBe("/console/signin");
    expect(new URL(page.url()).searchParams.get("next")).toMatch(/^\/console\/tenders\/tnd_/);
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1, name: title }).count(), { timeout: 15_000 }).toBe(1);
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/tenders\/tnd_/);
    await expect.poll(() => page.getByText(DEMO.email).count()).toBeGreaterThan(0);

    // The actions: save as a favorite, add a note.
    await page.getByRole("button", { name: "Save to favorites" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Remove from favorites" }).count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel("New note").fill("Site visit on Monday");
    await page.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => page.getByText("Site visit on Monday").count(), { timeout: 10_000 }).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, "console-tender-view.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });
});
