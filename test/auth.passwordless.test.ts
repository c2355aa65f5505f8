import { describe, expect, it } from "vitest";
import { signedInWithRole } from "./helpers/admin";
import { BASE, call, createUser, expectProblem, json, randomIp, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Posts a page form the way a browser does from keel's own page. */
function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    rawBody: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", Origin: BASE, "Sec-Fetch-Site": "same-origin", ...headers },
  });
}

const cookieOf = (res: Response, name: string) => {
  const set = res.headers.getSetCookie().find((h) => h.startsWith(`${name}=`));
  return set ? set.split(";")[0]!.slice(name.length + 1) : null;
};

/** What the console does at start-up: a cookie refresh. */
async function consoleRefresh(refreshCookie: string) {
  return call("auth/refresh", { body: {}, headers: { cookie: `__Secure-keel_refresh=${refreshCookie}`, "X-Requested-With": "fetch" } });
}

async function registerPasswordless() {
  const email = `${unique("nopw")}@example.com`;
  const res = await call("auth/register", { body: { email, full_name: "No Password" }, ip: randomIp() });
  expect(res.status, await res.clone().text()).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  return { email, id: user.id };
}

describe("accounts without a password", () => {
  it("POST /auth/register without password creates one; a password login fails exactly like a wrong password", async () => {
    const { email } = await registerPasswordless();
    const real = await createUser();
    const a = await expectProblem(await call("auth/login", { body: { email, password: STRONG_PASSWORD }, ip: randomIp() }), 401, "invalid_credentials");
    const b = await expectProblem(await call("auth/login", { body: { email: real.email, password: "wrong-password-entirely" }, ip: randomIp() }), 401, "invalid_credentials");
    expect({ title: a.title, detail: a.detail }).toEqual({ title: b.title, detail: b.detail });
    // The marker itself is no password.
    await expectProblem(await call("auth/login", { body: { email, password: "!no-password" }, ip: randomIp() }), 401, "invalid_credentials");
  });

  it("its verification page offers to verify and sign in (on the button only); the console then picks the session up from the cookie", async () => {
    const { email, id } = await registerPasswordless();
    const token = tokenFromMail(await waitForMail(email, "verification"));
    const page = await call(`/verify-email?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe(PAGE_CSP);
    const html = await page.text();
    expect(html).toContain("Verify and sign in");
    expect(page.headers.getSetCookie()).toEqual([]);
    // A cross-site form is refused.
    await expectProblem(await postForm("/verify-email", { token, sign_in: "1" }, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }), 403, "forbidden");

    const res = await postForm("/verify-email", { token, sign_in: "1" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You are signed in");
    const refresh = cookieOf(res, "__Secure-keel_refresh");
    expect(refresh).toBeTruthy();
    const session = await consoleRefresh(refresh!);
    expect(session.status, await session.clone().text()).toBe(200);
    const tokens = await json<{ access_token: string; user: { id: string; email_verified: boolean } }>(session);
    expect(tokens.user.id).toBe(id);
    expect(tokens.user.email_verified).toBe(true);
    // The link is spent.
    expect((await postForm("/verify-email", { token, sign_in: "1" })).status).toBe(400);
  });

  it("a password account's verification link only verifies, even when asked to sign in", async () => {
    const email = `${unique("pw")}@example.com`;
    expect((await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Has Password" }, ip: randomIp() })).status).toBe(201);
    const token = tokenFromMail(await waitForMail(email, "verification"));
    expect(await (await call(`/verify-email?token=${token}`)).text()).not.toContain("Verify and sign in");
    const res = await postForm("/verify-email", { token, sign_in: "1" });
    expect(res.status).toBe(200);
    expect(cookieOf(res, "__Secure-keel_refresh")).toBeNull();
  });

  it("an admin-created user's set-password page offers to sign in without a password; the link then works once", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("invited")}@example.com`;
    expect((await call("admin/users", { body: { email, full_name: "Invited Person" }, token: admin.token })).status).toBe(201);
    const token = tokenFromMail(await waitForMail(email, "account_invite"));
    const page = await call(`/reset-password?token=${token}`);
    expect(await page.text()).toContain("Sign in without a password");
    const res = await postForm("/reset-password/sign-in", { token });
    expect(res.status).toBe(200);
    const refresh = cookieOf(res, "__Secure-keel_refresh");
    expect((await consoleRefresh(refresh!)).status).toBe(200);
    expect((await postForm("/reset-password/sign-in", { token })).status).toBe(400);
  });

  it("a password account's reset link cannot sign in without setting a password", async () => {
    const user = await createUser();
    expect((await call("auth/password/forgot", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const token = tokenFromMail(await waitForMail(user.email, "password_reset"));
    expect(await (await call(`/reset-password?token=${token}`)).text()).not.toContain("Sign in without a password");
    const res = await postForm("/reset-password/sign-in", { token });
    expect(res.status).toBe(400);
    expect(cookieOf(res, "__Secure-keel_refresh")).toBeNull();
  });
});

describe("the /sign-in page of the emailed link", () => {
  it("GET only shows a button (the link stays usable); the button signs in and hands the session to the console; a second press fails", async () => {
    const user = await createUser();
    expect((await call("auth/email-code/send", { body: { email: user.email }, ip: randomIp() })).status).toBe(202);
    const token = tokenFromMail(await waitForMail(user.email, "email_code"));
    const page = await call(`/sign-in?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(await page.text()).toContain('action="/sign-in"');
    await expectProblem(await postForm("/sign-in", { token }, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }), 403, "forbidden");
    const res = await postForm("/sign-in", { token });
    expect(res.status).toBe(200);
    const refresh = cookieOf(res, "__Secure-keel_refresh");
    expect((await consoleRefresh(refresh!)).status).toBe(200);
    expect((await postForm("/sign-in", { token })).status).toBe(401);
  });

  it("a broken link gets a page, not a 500", async () => {
    expect((await call("/sign-in?token=short")).status).toBe(400);
    expect((await postForm("/sign-in", { token: "x" })).status).toBe(400);
  });
});
