import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { Hono } from "hono";
import { AppError, ERRORS, type ErrorCode } from "../src/platform/errors";
import { onError } from "../src/platform/problem";
import wranglerToml from "../wrangler.toml?raw";
import webWranglerToml from "../web/wrangler.toml?raw";
import docsScript from "../public/static/docs/init.js?raw";
import { call, callWithConfig, createUser, expectProblem, json, randomIp, signedInUser, STRONG_PASSWORD, unique } from "./helpers/harness";

/** The `[vars]` of wrangler.toml exactly as shipped (flat `KEY = "value"` lines). */
function shippedVars(): Record<string, string> {
  const section = wranglerToml.split(/^\[vars\]\s*$/m)[1]!.split(/^\[/m)[0]!;
  return Object.fromEntries([...section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]));
}

describe("service routes", () => {
  it("GET /health checks D1, KV and the Durable Object", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok", checks: { d1: "ok", kv: "ok", durable_objects: "ok" } });
  });

  // Validated with swagger-parser in test/node/openapi.test.ts (the validator cannot run in workerd).
  it("GET /openapi.json serves the OpenAPI 3.1 document covering the routes", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(res);
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/health", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/me", "/api/v1/me/api-keys", "/api/v1/me/sessions/{id}"]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });

  it("GET /docs serves an HTML API reference", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });

  // Issue 14, point 21: no third-party script on the console's origin.
  it("GET /docs runs only same-origin scripts, under a CSP that names no third-party origin", async () => {
    const res = await call("/docs");
    const csp = res.headers.get("content-security-policy") ?? "";
    const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name!, sources]));
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    for (const [name, sources] of directives) {
      for (const source of sources) expect(["'self'", "'none'", "'unsafe-inline'", "data:"], `${name} ${source}`).toContain(source);
    }
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    // The scripts are static assets of this origin, served by keel-web in front of keel
    // (web/wrangler.toml: run_worker_first leaves /static/* to the asset server); none is inline.
    const runWorkerFirst = webWranglerToml.match(/^run_worker_first\s*=\s*(\[.*\])/m)![1]!;
    expect(JSON.parse(runWorkerFirst)).toContain("!/static/*");
    expect(webWranglerToml).toMatch(/^directory\s*=\s*"\.\.\/public"$/m);
    // …and keel itself runs without an asset router in front of every request (issue 20, point 0).
    expect(wranglerToml).not.toMatch(/^\[assets\]/m);
    for (const [, attrs, body] of scripts) {
      const src = attrs!.match(/\bsrc="([^"]+)"/)?.[1];
      expect(src, attrs).toMatch(/^\/static\/[\w./-]+\.js$/);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/https?:\/\/|\/\/cdn|jsdelivr/);
    // The reference is configured by keel's own script, which asks for nothing from elsewhere.
    expect(docsScript).toContain("/openapi.json");
    expect(docsScript).not.toMatch(/https?:\/\//);
  });

  it("GET /.well-known/jwks.json publishes the public key with its kid, never the private part", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const { keys } = await json<{ keys: Record<string, string>[] }>(res);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: "test-key", alg: "EdDSA" });
    expect(keys[0]).not.toHaveProperty("d");
  });
});

describe("middleware", () => {
  // Issue 10, point 11: request ids are ours; a client's id is only a sanitised correlation id.
  it("generates every request id; a client's X-Request-Id is kept only as a sanitised correlation id, also in audit rows", async () => {
    const mine = await call("/health", { headers: { "x-request-id": "req-abc-123" } });
    expect(mine.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(mine.headers.get("x-correlation-id")).toBe("req-abc-123");
    const generated = await call("/health");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers.get("x-correlation-id")).toBeNull();
    const junk = await call("/health", { headers: { "x-request-id": "a b<script>" } });
    expect(junk.headers.get("x-correlation-id")).toBeNull();

    const user = await createUser();
    const res = await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp(), headers: { "x-request-id": "forged-audit-id" } });
    expect(res.status).toBe(200);
    const ours = res.headers.get("x-request-id");
    const row = await env.DB.prepare("SELECT request_id, details FROM audit_log WHERE user_id = ? AND action = 'auth.login_succeeded'").bind(user.id).first<{ request_id: string; details: string }>();
    expect(row!.request_id).toBe(ours);
    expect(row!.request_id).not.toBe("forged-audit-id");
    expect(JSON.parse(row!.details)).toMatchObject({ correlation_id: "forged-audit-id" });
    const problem = await call("nope", { headers: { "x-request-id": "forged-problem-id" } });
    expect(((await problem.json()) as { request_id: string }).request_id).toBe(problem.headers.get("x-request-id"));
  });

  it("sets secure headers", async () => {
    const res = await call("/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toContain("max-age");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  });

  it("adds the document-only headers to HTML, not to JSON (they do nothing there and cost on every hop)", async () => {
    const documentOnly = ["cross-origin-opener-policy", "origin-agent-cluster", "x-dns-prefetch-control", "x-download-options", "x-permitted-cross-domain-policies", "x-xss-protection"];
    const page = await call("/docs");
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    for (const name of documentOnly) expect(page.headers.get(name), name).not.toBeNull();
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const problem = await call("/api/v1/no-such-route");
    expect(problem.headers.get("content-type")).toBe("application/problem+json");
    for (const name of documentOnly) expect(problem.headers.get(name), name).toBeNull();
    expect(problem.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers CORS preflights only for configured origins", async () => {
    const allowed = await call("/api/v1/auth/login", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const denied = await call("/api/v1/auth/login", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("error shapes (RFC 9457)", () => {
  it("unknown route → 404 not_found problem", async () => {
    const body = await expectProblem(await call("/api/v1/nope"), 404, "not_found");
    expect(body.detail).toContain("/api/v1/nope");
  });

  it("malformed JSON → 400 validation_failed", async () => {
    await expectProblem(await call("auth/login", { rawBody: "{not json", headers: { "content-type": "application/json" } }), 400, "validation_failed");
  });

  it("body over 1 MiB → 413 payload_too_large, before any parsing", async () => {
    const big = JSON.stringify({ email: "a@example.com", password: "x".repeat(1024 * 1024 + 10) });
    await expectProblem(await call("auth/login", { rawBody: big, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
  });

  // Issue 14, point 19: a black-box validator found this 413 missing from the served document.
  it("POST /auth/register with a 2 MiB body → 413, and the served document lists 413 (and 400, 429, 500, 503) for it as a problem", async () => {
    const big = JSON.stringify({ email: "a@example.com", password: STRONG_PASSWORD, full_name: "x".repeat(2 * 1024 * 1024) });
    await expectProblem(await call("auth/register", { rawBody: big, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    const doc = await json<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>> }>(await call("/openapi.json"));
    const responses = doc.paths["/api/v1/auth/register"]!.post!.responses;
    for (const status of ["400", "413", "422", "429", "500", "503"]) {
      expect(responses[status]?.content?.["application/problem+json"]?.schema.$ref, status).toBe("#/components/schemas/Problem");
    }
  });

  it("zod failure → 422 validation_failed with errors[] naming each field", async () => {
    const body = await expectProblem(await call("auth/register", { body: { email: "not-an-email", full_name: "", password: "" } }), 422, "validation_failed");
    const paths = body.errors?.map((e) => e.path).sort();
    expect(paths).toEqual(["email", "full_name", "password"]);
  });

  it("unknown JSON fields are rejected with 422", async () => {
    const body = await expectProblem(
      await call("auth/login", { body: { email: "a@example.com", password: "whatever", admin: true } }),
      422,
      "validation_failed",
    );
    expect(JSON.stringify(body.errors)).toContain("admin");
  });

  it("missing credentials → 401 unauthenticated with WWW-Authenticate", async () => {
    const res = await call("me");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    await expectProblem(res, 401, "unauthenticated");
  });

  it("a garbage bearer token → 401 unauthenticated", async () => {
    await expectProblem(await call("me", { token: "not.a.jwt" }), 401, "unauthenticated");
  });

  it("authentication happens before validation (no hints to anonymous callers)", async () => {
    await expectProblem(await call("me", { method: "PATCH", body: { bogus: 1 } }), 401, "unauthenticated");
  });

  it("every error code answers the status the public contract gives it, as a problem document", async () => {
    // The statuses of docs/api.md ("Codes used by this contract"), written here, not read from ERRORS.
    const contract: Record<string, number> = {
      validation_failed: 422, unauthenticated: 401, invalid_credentials: 401, token_expired: 401, token_reused: 401,
      mfa_required: 401, invalid_mfa_code: 401, reauthentication_required: 401, email_not_verified: 403, account_inactive: 403, password_expired: 403,
      terms_update_required: 403, sso_required: 403, forbidden: 403, insufficient_scope: 403, not_found: 404, conflict: 409,
      limit_reached: 409, account_exists: 409, payload_too_large: 413, weak_password: 422, password_reused: 422, account_locked: 423,
      upgrade_required: 426, rate_limited: 429, internal_error: 500, service_unavailable: 503,
      // Issue 18 (API.md, Integrators).
      precondition_failed: 412, idempotency_key_reused: 422, invalid_webhook_url: 422,
      // Issue 19 (API.md, Delivery).
      unknown_criteria_value: 422,
    };
    // A code added to keel needs its contract status here first.
    expect(Object.keys(ERRORS).sort()).toEqual(Object.keys(contract).sort());
    const app = new Hono();
    app.onError(onError);
    app.get("/throw/:code", (c) => {
      throw new AppError(c.req.param("code") as ErrorCode, "thrown by the test", { retryAfter: 7 });
    });
    const answered: Record<string, number> = {};
    for (const code of Object.keys(contract)) {
      const res = await app.request(`/throw/${code}`);
      answered[code] = res.status;
      const body = await json<{ status: number; code: string }>(res);
      expect({ code, type: res.headers.get("content-type"), body: [body.status, body.code] }).toEqual({ code, type: "application/problem+json", body: [res.status, code] });
      expect(res.headers.get("retry-after"), code).toBe("7");
    }
    expect(answered).toEqual(contract);
  });

  it("outside development /dev/mailbox is 404 like any unknown route, and no Server-Timing is sent", async () => {
    const production = { ENVIRONMENT: "production" };
    await expectProblem(await callWithConfig(production, "/dev/mailbox"), 404, "not_found");
    const user = await createUser();
    const login = await callWithConfig(production, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    expect(login.status).toBe(200);
    expect(login.headers.get("server-timing")).toBeNull();
  });

  // Issue 10, point 6: production-safe defaults ship in wrangler.toml.
  it("under the shipped wrangler.toml [vars], /dev/mailbox is 404 and no Server-Timing is sent", async () => {
    const shipped = shippedVars();
    expect(shipped.ENVIRONMENT).toBe("production");
    await expectProblem(await callWithConfig(shipped, "/dev/mailbox"), 404, "not_found");
    const user = await createUser();
    const login = await callWithConfig(shipped, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    expect(login.status).toBe(200);
    expect(login.headers.get("server-timing")).toBeNull();
  });

  it("a production worker missing a secret refuses with 503 and a logged reason, never a fallback key", async () => {
    const shipped = shippedVars();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const user = await createUser();
      const noJwtKey = await callWithConfig({ ...shipped, JWT_SIGNING_KEYS: "" }, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
      await expectProblem(noJwtKey, 503, "service_unavailable");
      const noDataKey = await callWithConfig({ ...shipped, DATA_ENCRYPTION_KEY: "" }, "auth/register", {
        body: { email: `${unique("nokey")}@example.com`, password: STRONG_PASSWORD, full_name: "No Key" },
        ip: randomIp(),
      });
      await expectProblem(noDataKey, 503, "service_unavailable");
      const logged = errors.mock.calls.map((c) => String(c[0])).join("\n");
      expect(logged).toContain("JWT_SIGNING_KEYS secret is not set");
      expect(logged).toContain("DATA_ENCRYPTION_KEY secret is not set");
    } finally {
      errors.mockRestore();
    }
  });

  it("/dev/mailbox is served in development", async () => {
    const { user } = await signedInUser();
    const res = await call(`/dev/mailbox?to=${encodeURIComponent(user.email)}`);
    expect(res.status).toBe(200);
    const { items } = await json<{ items: { subject: string; text: string; html: string; created_at: string }[] }>(res);
    expect(items[0]).toMatchObject({ subject: "Verify your email address" });
    expect(items[0]!.html).toContain("<html>");
  });
});
