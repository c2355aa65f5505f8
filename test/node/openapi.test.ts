import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { newApp } from "../../src/app";

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1 according to swagger-parser, and documents every route", async () => {
    const app = newApp();
    // No binding is used by this route; a placeholder D1 object satisfies the context middleware.
    const res = await app.request("/openapi.json", {}, { ENVIRONMENT: "development", DB: {} });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe("3.1.0");
    await SwaggerParser.validate(structuredClone(doc) as never);

    // Every route the app serves is in the document (it is generated from the same definitions).
    const served = app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    for (const route of served) expect(documented).toContain(route);

    // The public login documents what it answers: credentials refused (401), locked (423).
    const login = doc.paths["/api/v1/auth/login"]!.post!;
    expect(Object.keys(login.responses)).toEqual(expect.arrayContaining(["200", "401", "422", "423", "429"]));
  });

  // securedRoute documents what its middleware answers: 401 without valid credentials, 403 when the
  // credentials lack a scope or permission (or an API key calls a session-only route).
  it("every secured operation documents 401 and 403", async () => {
    const res = await newApp().request("/openapi.json", {}, { ENVIRONMENT: "development", DB: {} });
    type Operation = { security?: Record<string, string[]>[]; responses: Record<string, unknown> };
    const doc = (await res.json()) as { paths: Record<string, Record<string, Operation>> };
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => (op.security ?? []).some((requirement) => Object.keys(requirement).length > 0))
        .map(([method, op]) => ({ name: `${method} ${path}`, op })),
    );
    // Most of the API is secured; an empty or tiny selection means the predicate is wrong.
    expect(secured.length).toBeGreaterThan(70);
    expect(secured.map((s) => s.name)).toEqual(expect.arrayContaining(["get /api/v1/me", "delete /api/v1/me/api-keys/{id}", "get /api/v1/admin/users"]));
    expect(secured.map((s) => s.name)).not.toContain("post /api/v1/auth/login");
    const missing = secured.flatMap(({ name, op }) => ["401", "403"].filter((status) => !op.responses[status]).map((status) => `${name} ${status}`));
    expect(missing).toEqual([]);
  });

  // Issue 14, point 19: what the global middleware, the error handler and the validators can
  // answer is documented on every operation they wrap, as a problem document. An independent
  // validator found POST /auth/register answering an undocumented 413.
  const HTML_PAGE_ANSWERS: Record<string, string[]> = { "get /l/{signed}": ["400", "404", "429"] };
  it("every operation documents every status the middleware around it can answer, each as a problem document", async () => {
    const res = await newApp().request("/openapi.json", {}, { ENVIRONMENT: "development", DB: {} });
    type Operation = { requestBody?: { content?: Record<string, unknown> }; parameters?: unknown[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> };
    const doc = (await res.json()) as { paths: Record<string, Record<string, Operation>> };
    const missing: string[] = [];
    let operations = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        // bodyLimit (413), the rate limits (429: per IP on the public routes, per user on writes),
        // onError (500) and an unconfigured secret (503) can answer any request.
        const expected = ["413", "429", "500", "503"];
        // A JSON body can be malformed (400); any input can fail its zod schema (422).
        if (op.requestBody?.content?.["application/json"]) expected.push("400");
        if (op.requestBody || op.parameters?.length) expected.push("422");
        for (const status of expected) if (!op.responses[status]) missing.push(`${method} ${path} ${status}`);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          // The emailed tender link answers a browser: its own refusals are HTML pages (API.md, Delivery).
          if (HTML_PAGE_ANSWERS[`${method} ${path}`]?.includes(status) && response.content?.["text/html"]) continue;
          const schema = response.content?.["application/problem+json"]?.schema;
          if (schema?.$ref !== "#/components/schemas/Problem") missing.push(`${method} ${path} ${status} (not a problem document)`);
        }
      }
    }
    expect(operations).toBeGreaterThan(90);
    expect(missing).toEqual([]);
  });
});
