import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { call, callWithConfig, expectProblem, json, login, randomIp, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

/**
 * BOOTSTRAP_ADMIN_EMAIL (issue 19, point 7): a fresh deployment's first administrator. That exact
 * address gets superuser only when the mailbox's reader has just proven it and holds the account's
 * only credential (a completed password reset, or the verification of a passwordless account), and
 * only while no account holds superuser.
 */

const OTHER_PASSWORD = "an entirely different passphrase 7";

const tickWith = (vars: Record<string, string>) =>
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), { ...env, ...vars } as typeof env);

const superuserGrants = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? AND r.name = 'superuser'").bind(userId).first<{ n: number }>())!.n;
const bootstrapAudits = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'role.bootstrap_granted'").bind(userId).first<{ n: number }>())!.n;

// A fresh deployment: nobody holds superuser (the rule "only the first" would otherwise stop every test after the first).
beforeEach(async () => {
  await env.DB.prepare("DELETE FROM user_roles WHERE role_id IN (SELECT id FROM roles WHERE name = 'superuser')").run();
});

async function register(email: string, password?: string) {
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, full_name: "First Admin", ...(password ? { password } : {}) }, ip });
  expect(res.status).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  return { id: user.id, email, password: password ?? "", fullName: "First Admin", ip };
}

async function verify(email: string, vars: Record<string, string>) {
  const token = tokenFromMail(await waitForMail(email, "verification"));
  expect((await callWithConfig(vars, "auth/verify-email", { body: { token }, ip: randomIp() })).status).toBe(200);
}

async function resetPassword(email: string, vars: Record<string, string>, newPassword: string) {
  expect((await callWithConfig(vars, "auth/password/forgot", { body: { email }, ip: randomIp() })).status).toBe(202);
  const token = tokenFromMail(await waitForMail(email, "password_reset"));
  expect((await callWithConfig(vars, "auth/password/reset", { body: { token, new_password: newPassword }, ip: randomIp() })).status).toBe(204);
}

describe("BOOTSTRAP_ADMIN_EMAIL", () => {
  it("a passwordless registration of that address holds superuser once verified through its link; reruns and ticks change nothing", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email.toUpperCase() };
    const user = await register(email);
    await tickWith(vars);
    expect(await superuserGrants(user.id)).toBe(0);
    await verify(email, vars);
    expect(await superuserGrants(user.id)).toBe(1);
    await tickWith(vars);
    expect([await superuserGrants(user.id), await bootstrapAudits(user.id)]).toEqual([1, 1]);
  });

  it("an account with a password gets it by completing a password reset, not by verifying; the new password signs in as superuser", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const user = await register(email, STRONG_PASSWORD);
    await verify(email, vars);
    await tickWith(vars);
    expect(await superuserGrants(user.id)).toBe(0);
    await resetPassword(email, vars, OTHER_PASSWORD);
    expect((await login({ ...user, password: OTHER_PASSWORD })).user.roles).toContain("superuser");
    expect(await bootstrapAudits(user.id)).toBe(1);
  });

  it("a stranger who registered the address first: the owner's verification grants nothing; the owner's reset does, and the stranger's password is dead", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const stranger = await register(email, STRONG_PASSWORD);
    await verify(email, vars);
    expect((await login(stranger)).user.roles).not.toContain("superuser");
    await resetPassword(email, vars, OTHER_PASSWORD);
    expect(await superuserGrants(stranger.id)).toBe(1);
    await expectProblem(await call("auth/login", { body: { email, password: STRONG_PASSWORD }, ip: randomIp() }), 401, "invalid_credentials");
  });

  it("an unverified account's reset link proves the mailbox too: verified and granted", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const user = await register(email, STRONG_PASSWORD);
    await resetPassword(email, vars, OTHER_PASSWORD);
    expect(await superuserGrants(user.id)).toBe(1);
    const me = await login({ ...user, password: OTHER_PASSWORD });
    expect(me.user.roles).toContain("superuser");
  });

  it("only the first: once any account holds superuser, the address gets nothing; no other address, and no variable, ever does", async () => {
    const first = `${unique("boss")}@example.com`;
    const firstUser = await register(first);
    await verify(first, { BOOTSTRAP_ADMIN_EMAIL: first });
    expect(await superuserGrants(firstUser.id)).toBe(1);

    const second = `${unique("boss")}@example.com`;
    const secondUser = await register(second);
    await verify(second, { BOOTSTRAP_ADMIN_EMAIL: second });
    expect(await superuserGrants(secondUser.id)).toBe(0);

    await env.DB.prepare("DELETE FROM user_roles WHERE role_id IN (SELECT id FROM roles WHERE name = 'superuser')").run();
    const near = await register(`x${first}`);
    await verify(`x${first}`, { BOOTSTRAP_ADMIN_EMAIL: first });
    const plain = `${unique("boss")}@example.com`;
    const plainUser = await register(plain);
    await verify(plain, {});
    expect([await superuserGrants(near.id), await superuserGrants(plainUser.id)]).toEqual([0, 0]);
  });
});
