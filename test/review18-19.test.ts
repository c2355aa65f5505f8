import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { signedInWithRole } from "./helpers/admin";
import { orgWithMembers } from "./helpers/fixtures";
import { call, callWithConfig, createUser, expectProblem, json, login, randomIp, signedInUser, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

// Adversarial review of issues 18 and 19 (webhooks, idempotency, ETag, CORS, org keys, /l/ links,
// BOOTSTRAP_ADMIN_EMAIL). Failing tests are holes; passing ones are attacks that held.

const tickWith = (vars: Record<string, string>) =>
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), { ...env, ...vars } as typeof env);

const superuserGrants = async (userId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? AND r.name = 'superuser'").bind(userId).first<{ n: number }>())!
    .n;

function fakeQueue() {
  const sent: unknown[] = [];
  return {
    sent,
    async send(body: unknown) {
      sent.push(body);
    },
    async sendBatch(msgs: { body: unknown }[]) {
      sent.push(...msgs.map((m) => m.body));
    },
  };
}

const PUBLIC_HOOK = "https://hooks.example.com/keel";

describe("hole 1 (low): webhook URL check is bypassed by a trailing dot on localhost", () => {
  // HOLE: webhook-url.ts compares the host to "localhost" / ".localhost" literally; "localhost." (the FQDN form) passes.
  it.each(["https://localhost./hook", "https://api.localhost./hook"])("refuses %s in production with 422 invalid_webhook_url", async (url) => {
    const { token } = await signedInUser();
    const res = await callWithConfig({ ENVIRONMENT: "production" }, "me/webhooks", { body: { url, events: ["alert.matched"] }, token });
    await expectProblem(res, 422, "invalid_webhook_url");
  });
});

describe("hole 2 (low): IPv4-translated IPv6 form (::ffff:0:a.b.c.d) of a private address passes", () => {
  // HOLE: ipv6Problem judges the embedded IPv4 only for ::ffff:0:0/96 and ::/96, not ::ffff:0:0:0/96 (RFC 2765 IPv4-translated).
  it("refuses https://[::ffff:0:127.0.0.1]/ and https://[::ffff:0:10.0.0.1]/", async () => {
    const { token } = await signedInUser();
    for (const url of ["https://[::ffff:0:127.0.0.1]/hook", "https://[::ffff:0:10.0.0.1]/hook"]) {
      await expectProblem(await call("me/webhooks", { body: { url, events: ["alert.matched"] }, token }), 422, "invalid_webhook_url");
    }
  });
});

describe("hole 3 (medium): BOOTSTRAP_ADMIN_EMAIL lets an `admin` (admin:users) mint a superuser", () => {
  // HOLE: bootstrap-admin.repo grants superuser on `email_verified = 1`, which an admin sets via POST/PATCH /admin/users without any mailbox proof.
  it("an admin creates the bootstrap address with a password of their choosing and email_verified: true → no superuser at the next tick", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const res = await callWithConfig(vars, "admin/users", {
      body: { email, full_name: "Not The Boss", password: STRONG_PASSWORD, email_verified: true },
      token: admin.token,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = await json<{ id: string }>(res);
    await tickWith(vars);
    expect(await superuserGrants(id)).toBe(0);
    // …and so the admin, who knows the password, would sign in as a superuser.
    const tokens = await login({ id, email, password: STRONG_PASSWORD, fullName: "Not The Boss", ip: randomIp() });
    expect(tokens.user.roles).not.toContain("superuser");
  });

  it("a stranger registers the bootstrap address (cannot verify it); an admin marks it verified → the stranger gets no superuser", async () => {
    const admin = await signedInWithRole("admin");
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const ip = randomIp();
    const reg = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Stranger" }, ip });
    expect(reg.status).toBe(201);
    const { user } = await json<{ user: { id: string } }>(reg);
    await tickWith(vars);
    expect(await superuserGrants(user.id)).toBe(0);
    const patch = await call(`admin/users/${user.id}`, { method: "PATCH", body: { email_verified: true }, token: admin.token });
    expect(patch.status, await patch.clone().text()).toBeLessThan(300);
    await tickWith(vars);
    expect(await superuserGrants(user.id)).toBe(0);
  });
});

describe("hole 4 (medium): BOOTSTRAP_ADMIN_EMAIL pre-claimed by a stranger who registers the address first", () => {
  // HOLE: registration.service verifyEmail → ensureBootstrapAdmin grants superuser to the account whose password the *registrant* chose, once the mailbox owner clicks the verification link.
  it("the mailbox owner clicking the verification link of an account a stranger registered does not make the stranger's password a superuser sign-in", async () => {
    const email = `${unique("boss")}@example.com`;
    const vars = { BOOTSTRAP_ADMIN_EMAIL: email };
    const ip = randomIp();
    const reg = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Stranger" }, ip });
    expect(reg.status).toBe(201);
    const { user } = await json<{ user: { id: string } }>(reg);
    // The real owner (who could not register: 409) finds a verification email in the mailbox and clicks it.
    const token = tokenFromMail(await waitForMail(email, "verification"));
    expect((await callWithConfig(vars, "auth/verify-email", { body: { token }, ip: randomIp() })).status).toBe(200);
    await tickWith(vars);
    const stranger = await login({ id: user.id, email, password: STRONG_PASSWORD, fullName: "Stranger", ip });
    expect(stranger.user.roles).not.toContain("superuser");
  });
});

describe("attacks that held", () => {
  it("a removed org admin's Idempotency-Key replay of POST /orgs/{id}/webhooks/{id}/test answers 404, not the stored 202", async () => {
    const owner = await signedInUser();
    const admin = await signedInUser();
    const orgId = await orgWithMembers([
      [owner.user.id, "owner"],
      [admin.user.id, "admin"],
    ]);
    const created = await call(`orgs/${orgId}/webhooks`, { body: { url: PUBLIC_HOOK, events: ["organization.updated"] }, token: admin.token });
    expect(created.status).toBe(201);
    const hook = await json<{ id: string }>(created);
    const queue = fakeQueue();
    const path = `orgs/${orgId}/webhooks/${hook.id}/test`;
    const headers = { "Idempotency-Key": unique("k") };
    expect((await callWithConfig({ WEBHOOK_QUEUE: queue }, path, { method: "POST", token: admin.token, headers })).status).toBe(202);
    expect((await call(`orgs/${orgId}/members/${admin.user.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await callWithConfig({ WEBHOOK_QUEUE: queue }, path, { method: "POST", token: admin.token, headers }), 404, "not_found");
    expect(queue.sent).toHaveLength(1);
  });

  it("a delivery of endpoint A cannot be replayed through endpoint B's path (even the same owner's)", async () => {
    const { token } = await signedInUser();
    const mk = async () => json<{ id: string }>(await call("me/webhooks", { body: { url: PUBLIC_HOOK, events: ["alert.matched"] }, token }));
    const [a, b] = [await mk(), await mk()];
    const queue = fakeQueue();
    expect((await callWithConfig({ WEBHOOK_QUEUE: queue }, `me/webhooks/${a.id}/test`, { method: "POST", token })).status).toBe(202);
    const list = await json<{ items: { id: string }[] }>(await call(`me/webhooks/${a.id}/deliveries`, { token }));
    const deliveryId = list.items[0]!.id;
    await expectProblem(await callWithConfig({ WEBHOOK_QUEUE: queue }, `me/webhooks/${b.id}/deliveries/${deliveryId}/replay`, { method: "POST", token }), 404, "not_found");
    // Another user cannot replay, test or rotate A.
    const other = await signedInUser();
    for (const p of [`me/webhooks/${a.id}/deliveries/${deliveryId}/replay`, `me/webhooks/${a.id}/test`, `me/webhooks/${a.id}/rotate-secret`]) {
      await expectProblem(await callWithConfig({ WEBHOOK_QUEUE: queue }, p, { method: "POST", token: other.token }), 404, "not_found");
    }
    expect(queue.sent).toHaveLength(1);
  });

  it("rotate-secret under an Idempotency-Key is not kept: the repeat is 409, not the secret again", async () => {
    const { token } = await signedInUser();
    const hook = await json<{ id: string }>(await call("me/webhooks", { body: { url: PUBLIC_HOOK, events: ["alert.matched"] }, token }));
    const headers = { "Idempotency-Key": unique("rot") };
    const first = await call(`me/webhooks/${hook.id}/rotate-secret`, { method: "POST", token, headers });
    expect(first.status).toBe(200);
    await expectProblem(await call(`me/webhooks/${hook.id}/rotate-secret`, { method: "POST", token, headers }), 409, "conflict");
    const row = await env.DB.prepare("SELECT body FROM idempotency_keys WHERE key = ?").bind(headers["Idempotency-Key"]).first<{ body: string | null }>();
    expect(row?.body ?? null).toBeNull();
  });

  it("If-Match on another user's alert answers 404 like a missing one, never 412", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const res = await call("me/alerts", { body: { name: "mine", criteria: { keywords: ["bridge"] }, allow_unknown_values: true }, token: a.token });
    expect(res.status, await res.clone().text()).toBe(201);
    const alert = await json<{ id: string }>(res);
    const etag = (await call(`me/alerts/${alert.id}`, { token: a.token })).headers.get("ETag")!;
    for (const ifMatch of [etag, '"v1-0000000000000000"']) {
      await expectProblem(await call(`me/alerts/${alert.id}`, { method: "PATCH", body: { name: "x" }, token: b.token, headers: { "If-Match": ifMatch } }), 404, "not_found");
      await expectProblem(await call(`me/alerts/${alert.id}`, { method: "DELETE", token: b.token, headers: { "If-Match": ifMatch } }), 404, "not_found");
    }
  });

  it("CORS never answers the `null` origin or an unlisted look-alike", async () => {
    const { token } = await signedInUser();
    for (const origin of ["null", "https://app.example.com.evil.test", "https://APP.example.com"]) {
      const res = await callWithConfig({ CORS_ORIGINS: "https://app.example.com" }, "me", { token, headers: { Origin: origin } });
      expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    }
  });

  it("a user cannot take the bootstrap address by email change without the new mailbox", async () => {
    const user = await createUser();
    const tokens = await login(user);
    const email = `${unique("boss")}@example.com`;
    const res = await callWithConfig({ BOOTSTRAP_ADMIN_EMAIL: email }, "me/email", { method: "POST", body: { new_email: email, password: STRONG_PASSWORD }, token: tokens.access_token });
    expect(res.status).toBeLessThan(500);
    await tickWith({ BOOTSTRAP_ADMIN_EMAIL: email });
    expect(await superuserGrants(user.id)).toBe(0);
  });

  it("cheap-request abuse: an over-long If-None-Match (quadratic tag parsing) is refused by validation; a forged feed cursor is 422", async () => {
    const { token } = await signedInUser();
    const res = await call("me/profile", { token, headers: { "If-None-Match": `x${" ".repeat(20_000)}x` } });
    expect([400, 422]).toContain(res.status);
    for (const path of ["me/alerts/matches?cursor=AAAA", `tenders?updated_since=${encodeURIComponent(new Date(0).toISOString())}&cursor=${btoa(JSON.stringify(["feed", "x", 1]))}`]) {
      const r = await call(path, { token });
      expect(r.status, path).toBe(422);
    }
  });
});
