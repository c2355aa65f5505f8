import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signUnsubscribeToken } from "../src/features/alert-delivery/unsubscribe-token";
import { getConfig } from "../src/platform/config";
import { auditRows, signedInWithRole } from "./helpers/admin";
import { grantRole } from "./helpers/fixtures";
import {
  call,
  callWithConfig,
  createUser,
  expectProblem,
  json,
  mailbox,
  OTHER_PASSWORD,
  randomIp,
  signedInUser,
  unique,
  waitForMail,
  type TestUser,
} from "./helpers/harness";

// Review of the issue-14 fixes: each test here fails on the code as landed (7a0cb63).

const attempt = (user: TestUser, extra: Record<string, unknown> = {}, opts: { password?: string; ip?: string } = {}) =>
  call("auth/login", { body: { email: user.email, password: opts.password ?? user.password, ...extra }, ip: opts.ip ?? randomIp() });

async function deviceTokenOf(user: TestUser): Promise<string> {
  const res = await attempt(user, {}, { ip: user.ip });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ device_token: string }>(res)).device_token;
}

describe("review 14: device tokens", () => {
  it("a device token issued before a password change no longer bypasses the email's lock", async () => {
    const user = await createUser();
    // Anyone who once signed in with the old password (a thief, a former partner) kept this token.
    const stolen = await deviceTokenOf(user);
    const session = await json<{ access_token: string }>(await attempt(user, {}, { ip: user.ip }));
    const changed = await call("auth/password/change", { body: { current_password: user.password, new_password: OTHER_PASSWORD }, token: session.access_token });
    expect(changed.status, await changed.clone().text()).toBeLessThan(300);
    const renewed = { ...user, password: OTHER_PASSWORD };

    // The email is locked (5 wrong guesses from an unknown device)...
    for (let i = 0; i < 5; i++) await expectProblem(await attempt(renewed, {}, { password: `guess-${i}` }), 401, "invalid_credentials");
    await expectProblem(await attempt(renewed), 423, "account_locked");

    // ...but the pre-change device token still gets its own fresh budget of guesses at the NEW
    // password: the holder keeps guessing, untouched by the lock, with as many budgets as tokens
    // they collected while they knew the old password.
    await expectProblem(await attempt(renewed, { device_token: stolen }), 423, "account_locked");
  });

  it("every successful login mints a new device with its own failure budget: N old logins = N×LOCKOUT_THRESHOLD guesses past the lock", async () => {
    const user = await createUser();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push(await deviceTokenOf(user));
    // Lock the email.
    for (let i = 0; i < 5; i++) await attempt(user, {}, { password: `guess-${i}` });
    await expectProblem(await attempt(user), 423, "account_locked");
    // Each collected token guesses 4 times without locking anything: 12 wrong guesses past a locked email.
    let wrongAnswers = 0;
    for (const t of tokens) {
      for (let i = 0; i < 4; i++) {
        const res = await attempt(user, { device_token: t }, { password: `device-guess-${i}` });
        if (res.status === 401) wrongAnswers++;
      }
    }
    // While the email is locked, a user's device tokens together must not give more guesses than one device does.
    expect(wrongAnswers).toBeLessThanOrEqual(5);
  });
});

describe("review 14: trials and invitation budgets reset by deleting and re-creating an organization", () => {
  it("a user's second organization (after deleting the first) does not get a fresh 14-day team trial", async () => {
    const { token } = await signedInUser();
    const first = await json<{ id: string; subscription_ends_at: string }>(await call("orgs", { body: { name: unique("First ") }, token }));
    expect((await call(`orgs/${first.id}`, { method: "DELETE", token })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 20));
    const res = await call("orgs", { body: { name: unique("Second ") }, token });
    expect(res.status).toBe(201);
    const second = await json<{ subscription_status: string; subscription_ends_at: string | null }>(res);
    // Delete-and-recreate every 13 days is a team plan for free, forever.
    const fresh = second.subscription_status === "trialing" && Date.parse(second.subscription_ends_at ?? "0") > Date.parse(first.subscription_ends_at);
    expect(fresh).toBe(false);
  });

  it("INVITES_PER_ORG_PER_DAY cannot be renewed by deleting the organization and creating another", async () => {
    const cfg = { INVITES_PER_ORG_PER_DAY: "1" };
    const { token } = await signedInUser();
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const org = await json<{ id: string }>(await callWithConfig(cfg, "orgs", { body: { name: unique("Relay ") }, token }));
      for (let i = 0; i < 2; i++) {
        const res = await callWithConfig(cfg, `orgs/${org.id}/invitations`, { body: { email: `${unique("target")}@example.net`, role: "member" }, token });
        if (res.status === 201) sent++;
      }
      expect((await callWithConfig(cfg, `orgs/${org.id}`, { method: "DELETE", token })).status).toBe(204);
    }
    // One organization may send 1 a day; three delete/create rounds sent 3.
    expect(sent).toBe(1);
  });
});

describe("review 14: plain-text names", () => {
  it("an organization name carrying a bare domain link (autolinked by mail clients) is refused", async () => {
    const { token } = await signedInUser();
    const res = await call("orgs", { body: { name: "Payroll team - confirm your account at keel-payroll-login.com/verify" }, token });
    expect(res.status).toBe(422);
  });

  it("a full_name with a link hidden by a zero-width character is refused at registration", async () => {
    const res = await call("auth/register", {
      body: { email: `${unique("zw")}@example.com`, password: "violet-harbor-lantern-42", full_name: "Visit www\u200B.evil.example now" },
      ip: randomIp(),
    });
    expect(res.status).toBe(422);
  });
});

describe("review 14: unsubscribe replays", () => {
  it("a digest unsubscribe token issued before the user turned the digest back on does not turn it off again", async () => {
    const { user, token } = await signedInUser();
    const issued = new Date(Date.now() - 60_000);
    const old = await signUnsubscribeToken(env, getConfig(env), { userId: user.id, digest: true }, issued);
    // The user used the link once, then turned the digest back on.
    expect((await call(`unsubscribe?token=${old}`, { method: "POST" })).status).toBe(200);
    expect((await call("me/preferences", { method: "PATCH", body: { email_digest_frequency: "daily" }, token })).status).toBe(200);
    // A scanner or a forwarded mail replays the old token.
    const replay = await call(`unsubscribe?token=${old}`, { method: "POST" });
    const prefs = await json<{ email_digest_frequency: string }>(await call("me/preferences", { token }));
    expect({ status: replay.status, frequency: prefs.email_digest_frequency }).toEqual({ status: 400, frequency: "daily" });
  });
});

describe("review 14: Retry-After of a refused invitation", () => {
  it("when both the organization's daily budget and the address's weekly budget are spent, Retry-After covers the later one", async () => {
    const target = `${unique("victim")}@example.net`;
    // Three organizations of one user spend the address's weekly budget (3).
    const { token: other } = await signedInUser();
    for (let i = 0; i < 3; i++) {
      const org = await json<{ id: string }>(await call("orgs", { body: { name: unique("Filler ") }, token: other }));
      const res = await call(`orgs/${org.id}/invitations`, { body: { email: target, role: "member" }, token: other });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    // Another organization spends its own daily budget (1 here) on someone else.
    const cfg = { INVITES_PER_ORG_PER_DAY: "1" };
    const { token } = await signedInUser();
    const org = await json<{ id: string }>(await callWithConfig(cfg, "orgs", { body: { name: unique("Spent ") }, token }));
    expect((await callWithConfig(cfg, `orgs/${org.id}/invitations`, { body: { email: `${unique("x")}@example.net`, role: "member" }, token })).status).toBe(201);

    const refused = await callWithConfig(cfg, `orgs/${org.id}/invitations`, { body: { email: target, role: "member" }, token });
    expect(refused.status).toBe(429);
    // Retry-After says ~1 day (the org's budget); a client that waits that long is refused again
    // for the address, whose budget frees only ~7 days after the first of its invitations.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(6 * 86_400);
  });
});

describe("review 14: the superuser line on resend-invite", () => {
  it("an admin:users-only admin cannot mail a new set-password link to a superuser's account; a superuser can", async () => {
    const admin = await signedInWithRole("admin");
    const root = await signedInWithRole("superuser");
    const email = `${unique("rootinvite")}@example.com`;
    const made = await json<{ id: string }>(await call("admin/users", { body: { email, full_name: "Future Root" }, token: root.token }));
    await waitForMail(email, "account_invite");
    await grantRole(made.id, "superuser");
    // The link sets the account's password: whoever receives it takes over a superuser.
    await expectProblem(await call(`admin/users/${made.id}/resend-invite`, { method: "POST", token: admin.token }), 403, "forbidden");
    expect(await auditRows(made.id, "admin.invite_resent")).toHaveLength(0);
    expect((await mailbox(email)).filter((m) => m.template === "account_invite")).toHaveLength(1);
    expect((await call(`admin/users/${made.id}/resend-invite`, { method: "POST", token: root.token })).status).toBe(202);
    expect(await auditRows(made.id, "admin.invite_resent")).toHaveLength(1);
  });
});
