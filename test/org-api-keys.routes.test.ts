import { beforeAll, describe, expect, it } from "vitest";
import { call, json, randomIp, signedInUser, unique } from "./helpers/harness";

/**
 * Organization keys are tried against EVERY documented route (issue 18.6, "organization keys are
 * tried against every user route"), driven by the served OpenAPI document like the isolation matrix:
 *
 * - a route that admits organization keys (ADMITS below: the route names `orgKey` in securedRoute)
 *   answers 200 in the key's own organization;
 * - every other route with OpenAPI `security` (user routes, API-key routes, admin routes) answers
 *   403 `insufficient_scope`, whatever the method, before its body or path is looked at;
 * - a public route (no `security`) does not authenticate: the key makes no difference, it answers
 *   exactly the status it gives with no credential at all (except OPTIONAL_CREDENTIAL: 403).
 *
 * A key with every organization scope is used, in its own organization (`{id}` = that organization
 * on /orgs/{id} routes); other path parameters get random ids.
 */

/** Routes that admit an organization key (a new one joins with one line: its method and path). */
const ADMITS = new Set(["GET /api/v1/orgs/{id}", "GET /api/v1/orgs/{id}/members", "GET /api/v1/orgs/{id}/favorites", "GET /api/v1/orgs/{id}/notes", "GET /api/v1/orgs/{id}/webhooks"]);

/**
 * Routes that admit an organization key but whose probe (an empty body, random ids) cannot succeed:
 * they must get past authentication (no 401/403) and answer a client error about the request itself.
 */
const ADMITS_PROBE_FAILS = new Set(
  ["POST /api/v1/orgs/{id}/webhooks", "GET /api/v1/orgs/{id}/webhooks/{webhook_id}", "PATCH /api/v1/orgs/{id}/webhooks/{webhook_id}", "DELETE /api/v1/orgs/{id}/webhooks/{webhook_id}",
   "GET /api/v1/orgs/{id}/webhooks/{webhook_id}/deliveries", "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/test",
   "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/rotate-secret"],
);

/**
 * Public routes that read a credential when one is sent (passkey sign-in options name the signed-in
 * user's passkeys): any API key there is refused, 403 `insufficient_scope`, as a user key is.
 */
const OPTIONAL_CREDENTIAL = new Set(["POST /api/v1/auth/passkeys/login/options"]);

interface Operation {
  key: string;
  method: string;
  path: string;
  secured: boolean;
}

async function documentedOperations(): Promise<Operation[]> {
  const doc = await json<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(await call("/openapi.json"));
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([m, op]) => ({ key: `${m.toUpperCase()} ${path}`, method: m.toUpperCase(), path, secured: (op.security?.length ?? 0) > 0 })),
  );
}

describe("an organization key against every documented route", () => {
  let orgId: string;
  let key: string;
  let operations: Operation[];
  beforeAll(async () => {
    const owner = await signedInUser();
    const org = await call("orgs", { body: { name: "Keyed org" }, token: owner.token });
    orgId = (await json<{ id: string }>(org)).id;
    const created = await call(`orgs/${orgId}/api-keys`, {
      body: { name: "everything", scopes: ["read:org", "read:members", "read:shared", "write:webhooks"], rate_limit_per_hour: 100_000 },
      token: owner.token,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    key = (await json<{ key: string }>(created)).key;
    operations = await documentedOperations();
  });

  const urlOf = (op: Operation) =>
    op.path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === "id" && op.path.startsWith("/api/v1/orgs/{id}") ? orgId : `x_${unique("r")}`));

  it("ADMITS lists documented routes only", () => {
    const documented = new Set(operations.map((o) => o.key));
    expect([...ADMITS, ...ADMITS_PROBE_FAILS].filter((k) => !documented.has(k))).toEqual([]);
  });

  it("answers 200 on the routes that admit it, 403 insufficient_scope on every other secured route", async () => {
    const wrong: string[] = [];
    for (const op of operations.filter((o) => o.secured)) {
      const res = await call(urlOf(op), { method: op.method, apiKey: key, ...(["POST", "PUT", "PATCH"].includes(op.method) ? { body: {} } : {}) });
      const body = await res.text();
      if (ADMITS_PROBE_FAILS.has(op.key)) {
        if (![400, 404, 422].includes(res.status)) wrong.push(`${op.key}: ${res.status} ${body.slice(0, 120)} (admits organization keys: expected 400/404/422 for the probe)`);
      } else if (ADMITS.has(op.key)) {
        if (res.status !== 200) wrong.push(`${op.key}: ${res.status} ${body.slice(0, 120)} (admits organization keys: expected 200)`);
      } else if (res.status !== 403 || !body.includes('"insufficient_scope"')) {
        wrong.push(`${op.key}: ${res.status} ${body.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(operations.filter((o) => o.secured).length).toBeGreaterThan(50);
  });

  it("makes no difference on public routes (same status as no credential)", async () => {
    const wrong: string[] = [];
    for (const op of operations.filter((o) => !o.secured)) {
      const url = urlOf(op);
      const ip = randomIp();
      const body = ["POST", "PUT", "PATCH"].includes(op.method) ? { body: {} } : {};
      const anonymous = await call(url, { method: op.method, ip, redirect: "manual", ...body });
      const keyed = await call(url, { method: op.method, ip, apiKey: key, redirect: "manual", ...body });
      if (OPTIONAL_CREDENTIAL.has(op.key)) {
        if (keyed.status !== 403 || !(await keyed.clone().text()).includes('"insufficient_scope"')) wrong.push(`${op.key}: ${keyed.status} with the key (expected 403)`);
      } else if (keyed.status !== anonymous.status) wrong.push(`${op.key}: ${keyed.status} with the key, ${anonymous.status} without`);
      await Promise.all([anonymous.body?.cancel(), keyed.body?.cancel()]);
    }
    expect(wrong).toEqual([]);
  });
});
