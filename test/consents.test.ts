import { describe, expect, it } from "vitest";
import { auditRows } from "./helpers/admin";
import { call, callWithConfig, db, expectProblem, json, randomIp, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

const V1 = { TERMS_VERSION: "2026-01", PRIVACY_VERSION: "2026-01" };
const V2 = { TERMS_VERSION: "2026-11", PRIVACY_VERSION: "2026-01" };

async function registered(config: Record<string, string>) {
  const email = `${unique("terms")}@example.com`;
  const ip = randomIp();
  const res = await callWithConfig(config, "auth/register", {
    body: { email, password: STRONG_PASSWORD, full_name: "Terms Person", terms_accepted: true, privacy_accepted: true },
    ip,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  const token = tokenFromMail(await waitForMail(email, "verification"));
  expect((await call("auth/verify-email", { body: { token }, ip })).status).toBe(200);
  return { id: user.id, email, ip };
}

const loginWith = async (config: Record<string, string>, u: { email: string; ip: string }) => {
  const res = await callWithConfig(config, "auth/login", { body: { email: u.email, password: STRONG_PASSWORD }, ip: u.ip });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ access_token: string; terms_update_required: boolean }>(res);
};

describe("terms and privacy acceptance", () => {
  it("registration requires both acceptances when versions are configured, and records them", async () => {
    const email = `${unique("terms")}@example.com`;
    const res = await callWithConfig(V1, "auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "No Consent", terms_accepted: true }, ip: randomIp() });
    const problem = await expectProblem(res, 422, "validation_failed");
    expect(JSON.stringify(problem)).toContain("privacy_accepted");
    expect(await db().prepare("SELECT 1 FROM users WHERE email = ?").bind(email).first()).toBeNull();

    const u = await registered(V1);
    const rows = await db().prepare("SELECT kind, version, ip FROM user_consents WHERE user_id = ? ORDER BY kind").bind(u.id).all();
    expect(rows.results).toEqual([
      { kind: "privacy", version: "2026-01", ip: u.ip },
      { kind: "terms", version: "2026-01", ip: u.ip },
    ]);
    expect(await auditRows(u.id, "user.consent_recorded")).toHaveLength(1);
    // Off (the default): nothing is required.
    const plain = await call("auth/register", { body: { email: `${unique("noterms")}@example.com`, password: STRONG_PASSWORD, full_name: "Plain" }, ip: randomIp() });
    expect(plain.status).toBe(201);
  });

  it("a version bump: tokens with terms_update_required, 403 everywhere but consents and logout, until accepted", async () => {
    const u = await registered(V1);
    const first = await loginWith(V1, u);
    expect(first.terms_update_required).toBe(false);
    expect((await callWithConfig(V1, "me", { token: first.access_token })).status).toBe(200);

    // The terms change: the same token is now refused, and a new login says so.
    await expectProblem(await callWithConfig(V2, "me", { token: first.access_token }), 403, "terms_update_required");
    const tokens = await loginWith(V2, u);
    expect(tokens.terms_update_required).toBe(true);
    const refused = await expectProblem(await callWithConfig(V2, "me/sessions", { token: tokens.access_token }), 403, "terms_update_required");
    expect(refused).toMatchObject({ terms_version: "2026-11", privacy_version: "2026-01" });

    // Only the configured versions are accepted.
    await expectProblem(await callWithConfig(V2, "me/consents", { body: { terms_version: "2026-01", privacy_version: "2026-01" }, token: tokens.access_token }), 422, "validation_failed");
    await expectProblem(await callWithConfig(V2, "me/consents", { body: { privacy_version: "2026-01" }, token: tokens.access_token }), 422, "validation_failed");
    const accepted = await callWithConfig(V2, "me/consents", { body: { terms_version: "2026-11", privacy_version: "2026-01" }, token: tokens.access_token });
    expect(accepted.status, await accepted.clone().text()).toBe(204);

    expect((await callWithConfig(V2, "me", { token: tokens.access_token })).status).toBe(200);
    expect((await loginWith(V2, u)).terms_update_required).toBe(false);
    expect(await auditRows(u.id, "user.consent_recorded")).toHaveLength(2);
    const latest = await db().prepare("SELECT count(*) AS n FROM user_consents WHERE user_id = ? AND kind = 'terms' AND version = '2026-11'").bind(u.id).first();
    expect(latest).toEqual({ n: 1 });

    // Logout works while consent is outdated.
    const again = await loginWith({ ...V2, TERMS_VERSION: "2027-01" }, u);
    expect(again.terms_update_required).toBe(true);
    expect((await callWithConfig({ ...V2, TERMS_VERSION: "2027-01" }, "auth/logout", { method: "POST", token: again.access_token })).status).toBe(204);
  });

  it("consents appear in the GDPR export", async () => {
    const u = await registered(V1);
    const { access_token } = await loginWith(V1, u);
    const res = await callWithConfig(V1, "me/export", { token: access_token });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    expect(await res.text()).toContain('"2026-01"');
  });
});
