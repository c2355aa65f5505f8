import { describe, expect, it } from "vitest";
import { call, callWithConfig, expectProblem, json, login, signedInUser } from "./helpers/harness";

interface Operation {
  security?: Record<string, string[]>[];
}

/** Every operation of the served OpenAPI document, with a concrete path for `{id}` params. */
async function operations() {
  const doc = await json<{ paths: Record<string, Record<string, Operation>> }>(await call("/openapi.json"));
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "x_missing"), security: op.security ?? [] })),
  );
}

// The shared security suite (STYLE.md §6.4), driven by the document itself so that a new route
// cannot skip it: every secured route refuses anonymous callers, and every route documented as
// session-only refuses API keys, whatever their scopes.
describe("security suite over every documented route", () => {
  it("every secured route answers 401 unauthenticated without credentials", async () => {
    const secured = (await operations()).filter((o) => o.security.length > 0);
    expect(secured.length).toBeGreaterThan(10);
    for (const op of secured) {
      const res = await call(op.path, { method: op.method, ...(["POST", "PATCH", "PUT"].includes(op.method) ? { body: {} } : {}) });
      expect(`${op.method} ${op.path} → ${res.status}`).toBe(`${op.method} ${op.path} → 401`);
      await expectProblem(res, 401, "unauthenticated");
    }
  });

  it("every session-only route refuses an API key that has every scope it can get", async () => {
    const { token } = await signedInUser();
    const scopes = ["read:profile", "write:profile", "read:tenders", "read:favorites", "write:favorites", "read:alerts", "write:alerts", "read:searches", "write:searches", "read:notes", "write:notes", "read:notifications", "write:notifications"];
    const created = await json<{ key: string }>(await call("me/api-keys", { body: { name: "all", scopes }, token }));
    const sessionOnly = (await operations()).filter((o) => o.security.length > 0 && o.security.every((s) => !("apiKey" in s)));
    expect(sessionOnly.length).toBeGreaterThan(5);
    for (const op of sessionOnly) {
      const res = await call(op.path, { method: op.method, apiKey: created.key, ...(["POST", "PATCH", "PUT"].includes(op.method) ? { body: {} } : {}) });
      expect(`${op.method} ${op.path} → ${res.status}`).toBe(`${op.method} ${op.path} → 403`);
      await expectProblem(res, 403, "insufficient_scope");
    }
  });

  // Abuse costs the abuser (issue 14, point 7): a new write route joins the per-user write limit
  // by construction. The exceptions are the writes that take access away from a thief (they are
  // counted, never refused), and they are named here so that a new exception is a decision.
  it("every secured write route answers 429 once the caller's write budget is spent; only the access-removing ones still pass", async () => {
    const neverRefused = ["POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all", "DELETE /api/v1/me/sessions/x_missing", "DELETE /api/v1/me/api-keys/x_missing", "DELETE /api/v1/orgs/x_missing/api-keys/x_missing"];
    const writes = (await operations()).filter((o) => o.security.length > 0 && ["POST", "PUT", "PATCH", "DELETE"].includes(o.method));
    expect(writes.length).toBeGreaterThan(40);
    const { user, token } = await signedInUser();
    const config = { RATE_WRITES_PER_USER: "1/600" };
    // The one write the budget allows.
    expect((await callWithConfig(config, "me/notifications/read-all", { method: "POST", token })).status).toBe(204);
    const name = (op: { method: string; path: string }) => `${op.method} ${op.path}`;
    for (const op of writes.filter((o) => !neverRefused.includes(name(o)))) {
      const res = await callWithConfig(config, op.path, { method: op.method, token, ...(["POST", "PATCH", "PUT"].includes(op.method) ? { body: {} } : {}) });
      expect(`${name(op)} → ${res.status}`).toBe(`${name(op)} → 429`);
      await expectProblem(res, 429, "rate_limited");
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    // Each on a session of its own (logging out ends the one it runs on): still not refused.
    expect(writes.filter((o) => neverRefused.includes(name(o))).map(name).sort()).toEqual([...neverRefused].sort());
    for (const op of writes.filter((o) => neverRefused.includes(name(o)))) {
      const fresh = (await login(user)).access_token;
      const res = await callWithConfig(config, op.path, { method: op.method, token: fresh, ...(op.method === "POST" ? { body: {} } : {}) });
      expect(`${name(op)} → ${res.status}`).not.toBe(`${name(op)} → 429`);
      expect(res.status).toBeLessThan(500);
    }
  });

  it("public routes are exactly the documented public ones", async () => {
    const open = (await operations()).filter((o) => o.security.length === 0).map((o) => `${o.method} ${o.path}`).sort();
    expect(open).toEqual(
      [
        "GET /.well-known/jwks.json",
        "GET /dev/mailbox",
        "GET /health",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/mfa/verify",
        "POST /api/v1/auth/passkeys/login/options",
        "POST /api/v1/auth/passkeys/login/verify",
        "POST /api/v1/auth/password/forgot",
        "POST /api/v1/auth/password/reset",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/resend-verification",
        "POST /api/v1/auth/sso/start",
        "POST /api/v1/auth/verify-email",
        "GET /api/v1/auth/providers",
        "GET /api/v1/auth/oidc/x_missing/start",
        "GET /api/v1/auth/oidc/callback",
        "POST /api/v1/auth/oidc/exchange",
        "POST /api/v1/auth/email-code/send",
        "POST /api/v1/auth/email-code/verify",
        "GET /api/v1/unsubscribe",
        "POST /api/v1/unsubscribe",
        // Authenticated by its single-use ticket (browsers cannot set Authorization on a WebSocket).
        "GET /api/v1/me/notifications/stream",
        // A signed emailed tender link: the signature is its credential (tender-links.ts).
        "GET /l/x_missing",
      ].sort(),
    );
  });
});
