import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertTender } from "./helpers/fixtures";
import {
  BASE,
  call,
  callWithConfig,
  createUser,
  expectProblem,
  json,
  login,
  OTHER_PASSWORD,
  randomIp,
  signedInUser,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
} from "./helpers/harness";
import { outboxInsert } from "../src/email/outbox.repo";
import { emails } from "../src/email/templates";
import type { Env } from "../src/env";
import { getConfig } from "../src/platform/config";
import { createDb } from "../src/platform/db";

const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Posts a page form the way a browser does from keel's own page. */
function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    rawBody: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", Origin: BASE, "Sec-Fetch-Site": "same-origin", ...headers },
  });
}

async function register() {
  const email = `${unique("page")}@example.com`;
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Page Person" }, ip });
  expect(res.status).toBe(201);
  return { email, ip, password: STRONG_PASSWORD, id: "", fullName: "Page Person" };
}

async function expectPage(res: Response, status: number) {
  const html = await res.text();
  expect(res.status, html.slice(0, 400)).toBe(status);
  expect(res.headers.get("content-type")).toContain("text/html");
  expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("referrer-policy")).toBe("same-origin");
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/ style=/i);
  return html;
}

describe("/verify-email page", () => {
  it("GET shows a button and verifies nothing (mail scanners prefetch); the POST form verifies", async () => {
    const user = await register();
    const token = tokenFromMail(await waitForMail(user.email, "verification"));

    const page = await expectPage(await call(`/verify-email?token=${token}`), 200);
    expect(page).toContain('<form method="post" action="/verify-email">');
    expect(page).toContain(`name="token" value="${token}"`);
    // Still unverified after any number of GETs.
    await call(`/verify-email?token=${token}`);
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 403, "email_not_verified");

    const done = await expectPage(await postForm("/verify-email", { token }), 200);
    expect(done).toContain("is verified");
    expect(done).toContain(user.email);
    await login(user);

    // The token worked once: the same form again says so, in a page.
    const again = await expectPage(await postForm("/verify-email", { token }), 400);
    expect(again).toContain("invalid or has expired");
  });

  it("a broken link gets a page, not a JSON error", async () => {
    expect(await expectPage(await call("/verify-email"), 400)).toContain("incomplete");
    expect(await expectPage(await postForm("/verify-email", { token: "short" }), 400)).toContain("incomplete");
  });

  it("refuses a form posted from another site", async () => {
    const user = await register();
    const token = tokenFromMail(await waitForMail(user.email, "verification"));
    await expectProblem(await postForm("/verify-email", { token }, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }), 403, "forbidden");
    await expectProblem(await postForm("/verify-email", { token }, { Origin: "null", "Sec-Fetch-Site": "same-site" }), 403, "forbidden");
    await expectProblem(await call("/verify-email", { method: "POST", rawBody: `token=${token}`, headers: { "content-type": "application/x-www-form-urlencoded", Origin: "https://evil.example" } }), 403, "forbidden");
    // Nothing happened: the link still works from keel's page.
    await expectPage(await postForm("/verify-email", { token }), 200);
  });
});

describe("/reset-password page", () => {
  async function resetToken() {
    const user = await createUser();
    const after = Date.now() - 1000;
    expect((await call("auth/password/forgot", { body: { email: user.email }, ip: user.ip })).status).toBe(202);
    return { user, token: tokenFromMail(await waitForMail(user.email, "password_reset", { after })) };
  }

  it("shows the policy; mismatch and policy errors appear next to the field; success signs in with the new password", async () => {
    const { user, token } = await resetToken();
    const form = await expectPage(await call(`/reset-password?token=${token}`), 200);
    expect(form).toContain("At least 15 characters");
    expect(form).toMatch(/<label for="new_password">/);
    expect(form).toMatch(/<label for="confirm_password">/);

    const mismatch = await expectPage(await postForm("/reset-password", { token, new_password: OTHER_PASSWORD, confirm_password: "something else entirely" }), 422);
    expect(mismatch).toMatch(/id="confirm_password-error"[^>]*>\s*<li>The two passwords are not the same/);
    expect(mismatch).toContain('aria-invalid="true"');

    const weak = await expectPage(await postForm("/reset-password", { token, new_password: "short", confirm_password: "short" }), 422);
    expect(weak).toMatch(/id="new_password-error"/);
    expect(weak).toContain("at least 15");

    const reused = await expectPage(await postForm("/reset-password", { token, new_password: user.password, confirm_password: user.password }), 422);
    expect(reused).toMatch(/id="new_password-error"[^>]*>\s*<li>Password was used recently/);

    const done = await expectPage(await postForm("/reset-password", { token, new_password: OTHER_PASSWORD, confirm_password: OTHER_PASSWORD }), 200);
    expect(done).toContain("Your password is changed");
    await login({ ...user, password: OTHER_PASSWORD });
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 401, "invalid_credentials");

    // Single use: the link now answers with a banner.
    const used = await expectPage(await postForm("/reset-password", { token, new_password: "another-long-passphrase-91", confirm_password: "another-long-passphrase-91" }), 400);
    expect(used).toContain("invalid, used or expired");
  });
});

describe("/accept-invitation page", () => {
  async function invitation() {
    const owner = await signedInUser();
    const invitee = await createUser();
    const org = await json<{ id: string }>(await call("orgs", { body: { name: `Acme ${unique("o")}` }, token: owner.token }));
    const after = Date.now() - 1000;
    expect((await call(`orgs/${org.id}/invitations`, { body: { email: invitee.email, role: "member" }, token: owner.token })).status).toBe(201);
    const token = tokenFromMail(await waitForMail(invitee.email, "invitation", { after }));
    return { owner, invitee, org, token };
  }

  it("asks the invited user to sign in, then accepts on the button; the page's session ends after", async () => {
    const { owner, invitee, org, token } = await invitation();
    const form = await expectPage(await call(`/accept-invitation?token=${token}`), 200);
    expect(form).toMatch(/<label for="email">/);
    expect(form).not.toContain("Accept the invitation");

    const wrong = await expectPage(await postForm("/accept-invitation", { token, step: "sign_in", email: invitee.email, password: "not-the-password-at-all" }), 401);
    expect(wrong).toContain("Email or password is incorrect");

    // Accepting without the page's sign-in cookie sends the user back to sign in.
    expect(await expectPage(await postForm("/accept-invitation", { token, step: "accept" }), 403)).toContain("Sign in first");

    const signedIn = await postForm("/accept-invitation", { token, step: "sign_in", email: invitee.email, password: invitee.password });
    expect(await expectPage(signedIn, 200)).toContain("Accept the invitation");
    const cookie = signedIn.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^keel_invitation_session=[^;]+; Max-Age=600; Path=\/accept-invitation; HttpOnly; Secure; SameSite=Strict/);
    const accessToken = /keel_invitation_session=([^;]+)/.exec(cookie)![1]!;

    const accepted = await postForm("/accept-invitation", { token, step: "accept" }, { Cookie: `keel_invitation_session=${accessToken}` });
    const done = await expectPage(accepted, 200);
    expect(done).toContain("You are now a member of");
    expect(accepted.headers.get("set-cookie")).toMatch(/keel_invitation_session=; Max-Age=0/);
    await expectProblem(await call("me", { token: accessToken }), 401, "unauthenticated");
    const members = await json<{ items?: { email: string }[] } | { email: string }[]>(await call(`orgs/${org.id}/members`, { token: owner.token }));
    expect(JSON.stringify(members)).toContain(invitee.email);

    // Single use: a second acceptance says so in a page.
    const again = await postForm("/accept-invitation", { token, step: "sign_in", email: invitee.email, password: invitee.password });
    const second = /keel_invitation_session=([^;]+)/.exec(again.headers.get("set-cookie") ?? "")![1]!;
    expect(await expectPage(await postForm("/accept-invitation", { token, step: "accept" }, { Cookie: `keel_invitation_session=${second}` }), 409)).toContain("already accepted");
  });

  it("someone else signed in gets a page that says the invitation is for another address", async () => {
    const { token } = await invitation();
    const stranger = await createUser();
    const signedIn = await postForm("/accept-invitation", { token, step: "sign_in", email: stranger.email, password: stranger.password });
    const accessToken = /keel_invitation_session=([^;]+)/.exec(signedIn.headers.get("set-cookie") ?? "")![1]!;
    expect(await expectPage(await postForm("/accept-invitation", { token, step: "accept" }, { Cookie: `keel_invitation_session=${accessToken}` }), 403)).toContain("another email address");
  });
});

describe("/unsubscribe page", () => {
  /** A signed-in user with an alert that emailed a match; the unsubscribe page link from that email. */
  async function alertEmail() {
    const user = await signedInUser();
    const word = unique("unsubpage");
    const now = Date.now();
    await insertTender({ id: `tnd_${unique("up")}`, title: `${word} bridge`, department: "Public Works", state: "Bihar", value: 1_000_000, closing_date: now + 30 * 86_400_000, created_at: now, updated_at: now });
    const alert = await json<{ id: string }>(await call("me/alerts", { body: { name: `Bridges ${word}`, criteria: { keywords: [word] }, notification_methods: ["email", "in_app"] }, token: user.token }));
    const mail = await waitForMail(user.user.email, "alert_match");
    const link = new URL(/(\S+\/unsubscribe\?token=\S+)/.exec(mail.text)![1]!);
    return { user, alert, word, link, token: link.searchParams.get("token")! };
  }
  const methods = async (alertId: string, token: string) => (await json<{ notification_methods: string[] }>(await call(`me/alerts/${alertId}`, { token }))).notification_methods;

  it("GET names the alert and changes nothing (mail scanners prefetch); the POST form turns that alert's email off", async () => {
    const { user, alert, word, link, token } = await alertEmail();
    expect(link.pathname).toBe("/unsubscribe");

    const page = await expectPage(await call(`/unsubscribe?token=${encodeURIComponent(token)}`), 200);
    expect(page).toContain('<form method="post" action="/unsubscribe">');
    expect(page).toContain(`name="token" value="${token}"`);
    expect(page).toContain(`Bridges ${word}`);
    await call(`/unsubscribe?token=${encodeURIComponent(token)}`);
    expect(await methods(alert.id, user.token)).toEqual(["email", "in_app"]);

    const done = await expectPage(await postForm("/unsubscribe", { token }), 200);
    expect(done).toContain("no longer get emails for this alert");
    expect(await methods(alert.id, user.token)).toEqual(["in_app"]);
    // Idempotent, like the one-click API.
    await expectPage(await postForm("/unsubscribe", { token }), 200);
  });

  it("a bad token gets a 400 page on GET and POST, and nothing changes", async () => {
    const { user, alert, token } = await alertEmail();
    const forged = `${token.slice(0, -2)}${token.endsWith("00") ? "11" : "00"}`;
    expect(await expectPage(await call(`/unsubscribe?token=${encodeURIComponent(forged)}`), 400)).toContain("not valid");
    expect(await expectPage(await call("/unsubscribe"), 400)).toContain("not valid");
    expect(await expectPage(await postForm("/unsubscribe", { token: forged }), 400)).toContain("not valid");
    expect(await expectPage(await postForm("/unsubscribe", { token: "garbage" }), 400)).toContain("not valid");
    expect(await methods(alert.id, user.token)).toEqual(["email", "in_app"]);
  });

  it("refuses a form posted from another site", async () => {
    const { user, alert, token } = await alertEmail();
    await expectProblem(await postForm("/unsubscribe", { token }, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }), 403, "forbidden");
    expect(await methods(alert.id, user.token)).toEqual(["email", "in_app"]);
  });
});

describe("emailed links", () => {
  it("are built from EMAIL_LINK_BASE_URL when a deployment sets it", async () => {
    const email = `${unique("link")}@example.com`;
    const res = await callWithConfig({ EMAIL_LINK_BASE_URL: "https://app.example.com/keel" }, "auth/register", {
      body: { email, password: STRONG_PASSWORD, full_name: "Link Person" },
      ip: randomIp(),
    });
    expect(res.status).toBe(201);
    const mail = await waitForMail(email, "verification");
    expect(mail.text).toMatch(/https:\/\/app\.example\.com\/keel\/verify-email\?token=[A-Za-z0-9_-]+/);
    expect(mail.html).toContain("https://app.example.com/keel/verify-email?token=");
  });

  it("default to keel's own base URL (its pages)", async () => {
    const user = await register();
    const mail = await waitForMail(user.email, "verification");
    expect(mail.text).toMatch(/http:\/\/127\.0\.0\.1:8787\/verify-email\?token=/);
  });
});

describe("/dev/mailbox in a browser", () => {
  it("lists messages newest first as HTML; a message shows its HTML part in a sandboxed frame; JSON clients are unchanged", async () => {
    const user = await register();
    await waitForMail(user.email, "verification");
    const after = Date.now();
    await call("auth/resend-verification", { body: { email: user.email }, ip: user.ip });
    await waitForMail(user.email, "verification", { after });

    const list = await call(`/dev/mailbox?to=${encodeURIComponent(user.email)}`, { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(list.status).toBe(200);
    expect(list.headers.get("content-type")).toContain("text/html");
    expect(list.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await list.text();
    const ids = [...html.matchAll(/href="\/dev\/mailbox\/(eml_[^"]+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);

    const jsonRes = await call(`/dev/mailbox?to=${encodeURIComponent(user.email)}`);
    expect(jsonRes.headers.get("content-type")).toContain("application/json");
    const items = (await json<{ items: { id: string }[] }>(jsonRes)).items;
    expect(items.map((i) => i.id)).toEqual(ids); // same order: newest first

    const view = await call(`/dev/mailbox/${ids[0]}`, { headers: { Accept: "text/html" } });
    const viewHtml = await view.text();
    const frame = /<iframe[^>]*>/.exec(viewHtml)![0];
    expect(frame).toContain(`src="/dev/mailbox/${ids[0]}/html"`);
    expect(frame).toMatch(/sandbox="[^"]*allow-top-navigation-by-user-activation/);
    expect(frame).not.toContain("allow-scripts");
    expect(frame).not.toContain("allow-same-origin");
    expect(viewHtml).toMatch(/verify-email\?token=/); // the plain-text part is shown too

    const part = await call(`/dev/mailbox/${ids[0]}/html`);
    expect(part.headers.get("content-security-policy")).toMatch(/^default-src 'none';.*frame-ancestors 'self'; sandbox /);
    const partHtml = await part.text();
    expect(partHtml).toContain('<base target="_top">');
    expect(partHtml).toContain("/verify-email?token=");

    await expectProblem(await call("/dev/mailbox/eml_missing", { headers: { Accept: "text/html" } }), 404, "not_found");
  });
});

// Issue 14, point 22: a local database holding rows sealed with an earlier key made every
// /dev/mailbox request a 500 "Decryption failed".
describe("/dev/mailbox with a row sealed with another key", () => {
  const UNOPENED = "(cannot be opened: sealed with another key)";
  async function mail(to: string, testEnv: Env) {
    const row = await outboxInsert(
      { db: createDb(env.DB), env: testEnv, config: getConfig(testEnv), now: new Date() },
      { to, userId: null, email: emails.passwordChanged({ name: "A", when: "now", ip: "1.2.3.4" }) },
    );
    await row.statement;
    return row.id;
  }

  it("shows that row as such, and the rest of the list, the message page and its HTML part still load", async () => {
    const to = `${unique("sealed")}@example.com`;
    const otherKey = { ...env, DATA_ENCRYPTION_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) } as Env;
    const stale = await mail(to, otherKey);
    const fresh = await mail(to, env);

    const res = await call(`/dev/mailbox?to=${encodeURIComponent(to)}`);
    expect(res.status).toBe(200);
    const items = (await json<{ items: { id: string; subject: string; text: string; html: string; opened: boolean }[] }>(res)).items;
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get(stale)).toMatchObject({ text: UNOPENED, html: UNOPENED, opened: false });
    expect(byId.get(fresh)).toMatchObject({ opened: true });
    expect(byId.get(fresh)!.text).not.toBe(UNOPENED);
    expect(byId.get(fresh)!.text.length).toBeGreaterThan(20);
    // The whole mailbox, not only this address, loads as well.
    expect((await call("/dev/mailbox?limit=200")).status).toBe(200);

    const view = await call(`/dev/mailbox/${stale}`, { headers: { Accept: "text/html" } });
    expect(view.status).toBe(200);
    expect(await view.text()).toContain(UNOPENED);
    const part = await call(`/dev/mailbox/${stale}/html`);
    expect(part.status).toBe(200);
    expect(await part.text()).toContain(UNOPENED);
  });
});
