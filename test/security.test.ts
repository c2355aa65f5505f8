import { describe, expect, it } from "vitest";
import { call, expectProblem, json, signedInUser } from "./helpers/harness";

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

  it("public routes are exactly the documented public ones", async () => {
    const open = (await operations()).filter((o) => o.security.length === 0).map((o) => `${o.method} ${o.path}`).sort();
    expect(open).toEqual(
      [
        "GET /.well-known/jwks.json",
        "GET /dev/mailbox",
        "GET /health",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/mfa/verify",
        "POST /api/v1/auth/password/forgot",
        "POST /api/v1/auth/password/reset",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/resend-verification",
        "POST /api/v1/auth/verify-email",
        "GET /api/v1/unsubscribe",
        "POST /api/v1/unsubscribe",
      ].sort(),
    );
  });
});
