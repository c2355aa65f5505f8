import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { takeFromLog, takeToken, type RateLimiter } from "../src/durable-objects/rate-limiter";
import { apiKeyFor, signedInWithRole } from "./helpers/admin";
import { call, callWithConfig, createUser, expectProblem, json, mailbox, randomIp, signedInUser, STRONG_PASSWORD, tokenFromMail, unique } from "./helpers/harness";

/** Issue 14, points 7–9: abuse costs the abuser (write throttle, per-user caps, invitations, trials). */

interface Org {
  id: string;
  subscription_plan: string;
  subscription_status: string;
  subscription_ends_at: string | null;
  max_users: number;
  max_alerts: number;
  max_saved_searches: number;
}

const newOrg = async (token: string, name = unique("Org ")) => {
  const res = await call("orgs", { body: { name }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Org>(res);
};

/** A write that costs the server almost nothing (a 404): it still counts against the write limit. */
const cheapWrite = (token: string) => call(`me/favorites/fav_${unique()}`, { method: "DELETE", token });

describe("per-user write throttle (RATE_WRITES_PER_USER)", () => {
  it("the 301st authenticated write in 10 minutes is 429 rate_limited with Retry-After; reads still pass", async () => {
    const { token } = await signedInUser();
    for (let i = 0; i < 300; i += 20) {
      const statuses = await Promise.all(Array.from({ length: 20 }, () => cheapWrite(token).then((r) => r.status)));
      expect(statuses.every((s) => s === 404), JSON.stringify(statuses)).toBe(true);
    }
    const refused = await cheapWrite(token);
    // Exactly 300 in any 10 minutes (not GCRA's one more every 2 s): the next place frees when the first write leaves the window.
    const retry = Number(refused.headers.get("Retry-After"));
    expect(retry).toBeGreaterThan(590);
    expect(retry).toBeLessThanOrEqual(600);
    await expectProblem(refused, 429, "rate_limited");
    // A refused write did not reach the handler: a real create is refused the same way.
    await expectProblem(await call("orgs", { body: { name: "Blocked" }, token }), 429, "rate_limited");
    expect((await call("me", { token })).status).toBe(200);
    // Writes that only take access away are never refused: a stolen token spending the budget cannot keep the owner from ending it.
    expect((await call("auth/logout-all", { method: "POST", token })).status).toBeLessThan(300);
  });

  it("counts POST, PATCH and DELETE of one user, whatever the route, and an API key counts against its owner", async () => {
    const limits = { RATE_WRITES_PER_USER: "4/600" };
    const { token } = await signedInUser();
    const key = await apiKeyFor(token, ["write:favorites", "read:profile"]); // write 1 (counted under any limit: one log per user)
    expect((await callWithConfig(limits, "me", { method: "PATCH", body: { full_name: "Ann Other" }, token })).status).toBe(200);
    expect((await callWithConfig(limits, "me/alerts", { body: {}, token })).status).toBe(422); // refused input still counts
    expect((await callWithConfig(limits, "me/favorites/fav_nope", { method: "DELETE", apiKey: key })).status).toBe(404); // write 4, by the key
    // Reads never count.
    expect((await callWithConfig(limits, "me", { token })).status).toBe(200);
    const viaKey = await callWithConfig(limits, "me/favorites/fav_nope", { method: "DELETE", apiKey: key });
    expect(Number(viaKey.headers.get("Retry-After"))).toBeGreaterThan(595);
    await expectProblem(viaKey, 429, "rate_limited");
    await expectProblem(await callWithConfig(limits, "orgs", { body: { name: "Fifth" }, token }), 429, "rate_limited");
    // Another user is not affected.
    const other = await signedInUser();
    expect((await callWithConfig(limits, "orgs", { body: { name: "Other" }, token: other.token })).status).toBe(201);
  });

  it("Retry-After tells the truth: a client that waits that long gets through", async () => {
    const limits = { RATE_WRITES_PER_USER: "2/1" };
    const { user, token } = await signedInUser();
    expect((await callWithConfig(limits, "me/favorites/fav_a", { method: "DELETE", token })).status).toBe(404);
    expect((await callWithConfig(limits, "me/favorites/fav_b", { method: "DELETE", token })).status).toBe(404);
    const refused = await callWithConfig(limits, "me/favorites/fav_c", { method: "DELETE", token });
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("Retry-After"));
    expect(wait).toBe(1);
    // The client waits that long: the user's write limiter (its own clock) is moved ahead, not slept for.
    await runInDurableObject(env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`writes:user:${user.id}`)), (instance: RateLimiter) => {
      instance.clock = { now: () => Date.now() + wait * 1000 };
    });
    expect((await callWithConfig(limits, "me/favorites/fav_d", { method: "DELETE", token })).status).toBe(404);
  });

  it("GCRA: a request sent Retry-After seconds after a refusal is allowed (any limit, window and burst)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 10_000 }), (limit, windowSeconds, extra, jitter) => {
        let tat: number | undefined;
        let now = 1_700_000_000_000;
        for (let i = 0; i < limit; i++) tat = takeToken(tat, now, { limit, windowSeconds }).tat;
        now += jitter % (windowSeconds * 1000); // some time passes, then the client keeps sending
        let refused = takeToken(tat, now, { limit, windowSeconds });
        for (let i = 0; i < extra && refused.result.allowed; i++) {
          tat = refused.tat;
          refused = takeToken(tat, now, { limit, windowSeconds });
        }
        if (refused.result.allowed) return;
        const later = takeToken(tat, now + refused.result.retryAfterSeconds * 1000, { limit, windowSeconds });
        expect(later.result.allowed).toBe(true);
        // …and not needlessly long: a second earlier would still have been refused.
        if (refused.result.retryAfterSeconds > 1) {
          expect(takeToken(tat, now + (refused.result.retryAfterSeconds - 1) * 1000, { limit, windowSeconds }).result.allowed).toBe(false);
        }
      }),
    );
  });
});

describe("sliding log (the write limit's algorithm)", () => {
  it("never lets more than `limit` through in any window, and a request sent Retry-After seconds after a refusal passes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 80 }),
        (limit, windowSeconds, gaps) => {
          const request = { limit, windowSeconds, sliding: true };
          let log: number[] = [];
          let now = 1_700_000_000_000;
          const allowed: number[] = [];
          for (const gap of gaps) {
            now += gap;
            const taken = takeFromLog(log, now, request);
            log = taken.log;
            if (taken.result.allowed) {
              allowed.push(now);
              // No window of windowSeconds ending now holds more than `limit` allowed requests.
              expect(allowed.filter((t) => t > now - windowSeconds * 1000).length).toBeLessThanOrEqual(limit);
            } else {
              const wait = taken.result.retryAfterSeconds * 1000;
              expect(takeFromLog(log, now + wait, request).result.allowed).toBe(true);
              if (taken.result.retryAfterSeconds > 1) expect(takeFromLog(log, now + wait - 1000, request).result.allowed).toBe(false);
            }
          }
        },
      ),
    );
  });
});

describe("per-user caps", () => {
  it("a user creates at most MAX_ORGS_CREATED_PER_USER (5) organizations → 409 limit_reached; concurrent creates cannot pass it", async () => {
    const { token } = await signedInUser();
    for (let i = 0; i < 5; i++) await newOrg(token);
    const body = await expectProblem(await call("orgs", { body: { name: "Sixth" }, token }), 409, "limit_reached");
    expect(body.detail).toMatch(/5/);

    const racer = await signedInUser();
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => call("orgs", { body: { name: `Race ${i}` }, token: racer.token }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    const mine = await json<{ items: unknown[] }>(await call("orgs?limit=100", { token: racer.token }));
    expect(mine.items).toHaveLength(5);
  });

  it("a user holds at most MAX_API_KEYS_PER_USER (25) unrevoked API keys → 409 limit_reached; revoking one frees a slot", async () => {
    const { token } = await signedInUser();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await call("me/api-keys", { body: { name: `k${i}`, scopes: ["read:profile"] }, token });
      expect(res.status).toBe(201);
      ids.push((await json<{ id: string }>(res)).id);
    }
    await expectProblem(await call("me/api-keys", { body: { name: "k25", scopes: ["read:profile"] }, token }), 409, "limit_reached");
    expect((await call(`me/api-keys/${ids[0]}`, { method: "DELETE", token })).status).toBe(204);
    expect((await call("me/api-keys", { body: { name: "k25", scopes: ["read:profile"] }, token })).status).toBe(201);
  });

  it("the API key cap holds under concurrency (one guarded INSERT)", async () => {
    const limits = { MAX_API_KEYS_PER_USER: "3" };
    const { token } = await signedInUser();
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => callWithConfig(limits, "me/api-keys", { body: { name: `k${i}`, scopes: ["read:profile"] }, token }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
  });
});

describe("invitations are no mail relay", () => {
  it("at most INVITES_PER_ADDRESS_PER_WEEK (3) invitations to one address from all organizations, revoked ones included → 429", async () => {
    const target = `${unique("victim")}@example.com`;
    const a = await signedInUser();
    const b = await signedInUser();
    const [o1, o2] = [await newOrg(a.token), await newOrg(a.token)];
    const [o3, o4] = [await newOrg(b.token), await newOrg(b.token)];
    const first = await call(`orgs/${o1.id}/invitations`, { body: { email: target }, token: a.token });
    expect(first.status).toBe(201);
    const { id } = await json<{ id: string }>(first);
    expect((await call(`orgs/${o1.id}/invitations/${id}`, { method: "DELETE", token: a.token })).status).toBe(204);
    expect((await call(`orgs/${o2.id}/invitations`, { body: { email: target }, token: a.token })).status).toBe(201);
    expect((await call(`orgs/${o3.id}/invitations`, { body: { email: target }, token: b.token })).status).toBe(201);
    const fourth = await call(`orgs/${o4.id}/invitations`, { body: { email: target.toUpperCase() }, token: b.token });
    const retry = Number(fourth.headers.get("Retry-After"));
    expect(retry).toBeGreaterThan(6 * 86_400);
    expect(retry).toBeLessThanOrEqual(7 * 86_400);
    await expectProblem(fourth, 429, "rate_limited");
    // Other addresses are not affected.
    expect((await call(`orgs/${o4.id}/invitations`, { body: { email: `${unique("x")}@example.com` }, token: b.token })).status).toBe(201);
  });

  it("deleting the organizations that sent them does not reset an address's budget", async () => {
    const target = `${unique("victim")}@example.com`;
    const spammer = await signedInUser();
    for (let i = 0; i < 3; i++) {
      const org = await newOrg(spammer.token);
      expect((await call(`orgs/${org.id}/invitations`, { body: { email: target }, token: spammer.token })).status).toBe(201);
      expect((await call(`orgs/${org.id}`, { method: "DELETE", token: spammer.token })).status).toBe(204);
    }
    const org = await newOrg(spammer.token);
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: target }, token: spammer.token }), 429, "rate_limited");
  });

  it("at most INVITES_PER_ORG_PER_DAY invitations per organization, revoked ones included → 429", async () => {
    const limits = { INVITES_PER_ORG_PER_DAY: "3" };
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    for (let i = 0; i < 3; i++) {
      const res = await callWithConfig(limits, `orgs/${org.id}/invitations`, { body: { email: `${unique("p")}@example.com` }, token: owner.token });
      expect(res.status, await res.clone().text()).toBe(201);
      const { id } = await json<{ id: string }>(res);
      expect((await call(`orgs/${org.id}/invitations/${id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    }
    const refused = await callWithConfig(limits, `orgs/${org.id}/invitations`, { body: { email: `${unique("p")}@example.com` }, token: owner.token });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(86_000);
    await expectProblem(refused, 429, "rate_limited");
    // Another organization has its own budget.
    const other = await newOrg(owner.token);
    expect((await callWithConfig(limits, `orgs/${other.id}/invitations`, { body: { email: `${unique("p")}@example.com` }, token: owner.token })).status).toBe(201);
  });
});

describe("names that go into email are plain text", () => {
  const bad = ["Visit http://evil.example", "see WWW.evil.example", "Ann\nClick here", "Bell\u0007", "x\u202Eevil", "hxxps://a.b", "tab\there"];
  const good = ["Dr. A. K. Singh", "José Ñandú-O'Brien", "क्ष\u200Dत्रिय Kumar", "Acme Pvt. Ltd. (Patna)"];

  it("registration refuses a full_name with a URL or control characters (422), and takes ordinary names", async () => {
    for (const full_name of bad.filter((n) => n !== "hxxps://a.b")) {
      const res = await call("auth/register", { body: { email: `${unique("r")}@example.com`, password: STRONG_PASSWORD, full_name }, ip: randomIp() });
      const body = await expectProblem(res, 422, "validation_failed");
      expect(body.errors?.some((e) => e.path === "full_name"), JSON.stringify(body)).toBe(true);
    }
    for (const full_name of good) {
      const res = await call("auth/register", { body: { email: `${unique("r")}@example.com`, password: STRONG_PASSWORD, full_name }, ip: randomIp() });
      expect(res.status, `${full_name}: ${await res.clone().text()}`).toBe(201);
    }
  });

  it("organization create and PATCH, profile full_name, admin user create/PATCH and import rows refuse it", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("orgs", { body: { name: "Free money at https://evil.example" }, token }), 422, "validation_failed");
    const org = await newOrg(token, "Acme Pvt. Ltd.");
    await expectProblem(await call(`orgs/${org.id}`, { method: "PATCH", body: { name: "www.evil.example" }, token }), 422, "validation_failed");
    await expectProblem(await call("me", { method: "PATCH", body: { full_name: "Ann\r\nBcc: x" }, token }), 422, "validation_failed");

    const admin = await signedInWithRole("admin");
    await expectProblem(await call("admin/users", { body: { email: `${unique("a")}@example.com`, full_name: "http://x.y" }, token: admin.token }), 422, "validation_failed");
    const plain = await createUser();
    await expectProblem(await call(`admin/users/${plain.id}`, { method: "PATCH", body: { full_name: "go to www.x.y" }, token: admin.token }), 422, "validation_failed");
    const imported = await call("admin/users/import", {
      body: { users: [{ email: `${unique("i")}@example.com`, full_name: "ftp://x.y" }, { email: `${unique("i")}@example.com`, full_name: "Plain Name" }] },
      token: admin.token,
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    const result = await json<{ created: number; failed: { index: number; code: string }[] }>(imported);
    expect(result.created).toBe(1);
    expect(result.failed).toEqual([expect.objectContaining({ index: 0, code: "validation_failed" })]);
  });
});

describe("trials, not free upgrades", () => {
  it("a new organization starts on team, trialing, ending TRIAL_DAYS (14) out", async () => {
    const { token } = await signedInUser();
    const before = Date.now();
    const org = await newOrg(token);
    expect(org).toMatchObject({ subscription_plan: "team", subscription_status: "trialing", max_users: 5, max_alerts: 50, max_saved_searches: 25 });
    const ends = Date.parse(org.subscription_ends_at!);
    expect(ends).toBeGreaterThanOrEqual(before + 14 * 86_400_000 - 1000);
    expect(ends).toBeLessThanOrEqual(Date.now() + 14 * 86_400_000 + 1000);
  });

  it("an expired trial falls back to free limits: alerts over the free cap, invitations and acceptance are refused; data is kept", async () => {
    const admin = await signedInWithRole("admin");
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    // While the trial runs: team limits. An invitation sent now can be accepted only while a seat is free.
    const invitee = await signedInUser();
    const inv = await call(`orgs/${org.id}/invitations`, { body: { email: invitee.user.email }, token: owner.token });
    expect(inv.status).toBe(201);
    for (let i = 0; i < 11; i++) {
      expect((await call("me/alerts", { body: { name: `a${i}`, criteria: { keywords: [`k${i}`] }, notification_frequency: "daily_digest" }, token: owner.token })).status).toBe(201);
    }

    const expired = await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_ends_at: new Date(Date.now() - 60_000).toISOString() }, token: admin.token });
    expect(expired.status, await expired.clone().text()).toBe(200);
    const lapsed = await json<Org>(await call(`orgs/${org.id}`, { token: owner.token }));
    expect(lapsed).toMatchObject({ subscription_plan: "team", max_users: 1, max_alerts: 10, max_saved_searches: 5 });

    await expectProblem(await call("me/alerts", { body: { name: "over", criteria: { keywords: ["z"] }, notification_frequency: "daily_digest" }, token: owner.token }), 409, "limit_reached");
    const alerts = await json<{ items: unknown[] }>(await call("me/alerts?limit=100", { token: owner.token }));
    expect(alerts.items).toHaveLength(11); // kept
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: `${unique("n")}@example.com` }, token: owner.token }), 409, "limit_reached");

    // Renewed: team limits again.
    const renewed = await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_status: "active", subscription_ends_at: null }, token: admin.token });
    expect(renewed.status).toBe(200);
    expect((await json<Org>(renewed)).max_users).toBe(5);
    expect((await call("me/alerts", { body: { name: "back", criteria: { keywords: ["y"] }, notification_frequency: "daily_digest" }, token: owner.token })).status).toBe(201);

    // A subscription that is not active/trialing has free limits even before its end date.
    const cancelled = await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_status: "cancelled", subscription_ends_at: new Date(Date.now() + 86_400_000).toISOString() }, token: admin.token });
    expect((await json<Org>(cancelled)).max_users).toBe(1);
    const invToken = tokenFromMail((await mailbox(invitee.user.email)).find((m) => m.template === "invitation")!);
    await expectProblem(await call("invitations/accept", { body: { token: invToken }, token: invitee.token }), 409, "limit_reached");
  });
});
