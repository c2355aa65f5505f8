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

    // Every secured operation documents 401 as a problem document.
    const login = doc.paths["/api/v1/auth/login"]!.post!;
    expect(Object.keys(login.responses)).toEqual(expect.arrayContaining(["200", "401", "422", "423", "429"]));
  });
});
