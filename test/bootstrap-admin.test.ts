import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { setEmailVerified } from "./helpers/fixtures";
import { call, callWithConfig, createUser, json, login, randomIp, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

// BOOTSTRAP_ADMIN_EMAIL (issue 19, point 7): that exact address, once verified, holds superuser.

const tickWith = (vars: Record<string, string>) =>
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), { ...env, ...vars } as typeof env);

const superuserGrants = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? AND r.name = 'superuser'").bind(userId).first<{ n: number }>())!.n;
const bootstrapAudits = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'role.bootstrap_granted'").bind(userId).first<{ n: number }>())!.n;

async function register(email: string) {
  const ip = randomIp();
  const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "First Admin" }, ip });
  expect(res.status).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  return { id: user.id, email, password: STRONG_PASSWORD, fullName: "First Admin", ip };
}

describe("BOOTSTRAP_ADMIN_EMAIL", () => {
  it("register, then verify: the account holds superuser at once; unverified before, nothing; reruns change nothing", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email.toUpperCase() };
    const user = await register(email);
    await tickWith(vars);
    expect(await superuserGrants(user.id)).toBe(0);

    const token = tokenFromMail(await waitForMail(email, "verification"));
    expect((await callWithConfig(vars, "auth/verify-email", { body: { token }, ip: user.ip })).status).toBe(200);
    expect(await superuserGrants(user.id)).toBe(1);
    expect((await login(user)).user.roles).toContain("superuser");
    await tickWith(vars);
    await tickWith(vars);
    expect([await superuserGrants(user.id), await bootstrapAudits(user.id)]).toEqual([1, 1]);
  });

  it("an account verified already (or another way) gets it at the next cron tick; no other address does", async () => {
    const boss = await createUser();
    const near = await createUser();
    const unverified = await createUser({ verified: false });
    await tickWith({ BOOTSTRAP_ADMIN_EMAIL: `x${boss.email}` });
    expect(await superuserGrants(boss.id)).toBe(0);
    await tickWith({ BOOTSTRAP_ADMIN_EMAIL: unverified.email });
    expect(await superuserGrants(unverified.id)).toBe(0);

    await tickWith({ BOOTSTRAP_ADMIN_EMAIL: boss.email });
    expect(await superuserGrants(boss.id)).toBe(1);
    expect(await superuserGrants(near.id)).toBe(0);
    expect(await bootstrapAudits(boss.id)).toBe(1);
    // Without the variable nothing is granted; the unverified account gets it once verified.
    await tickWith({});
    await setEmailVerified(unverified.id, true);
    await tickWith({ BOOTSTRAP_ADMIN_EMAIL: unverified.email });
    expect(await superuserGrants(unverified.id)).toBe(1);
  });

  it("without the variable, verifying grants nothing", async () => {
    const user = await createUser();
    await tickWith({});
    expect(await superuserGrants(user.id)).toBe(0);
  });
});
