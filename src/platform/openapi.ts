import { getConfig } from "./config";
import type { App } from "./context";

let cached: string | undefined;

/**
 * Serves the OpenAPI 3.1 document generated from the zod route definitions (so it cannot drift
 * from what is validated). Built once per isolate: generating it walks every schema.
 */
export function registerOpenApi(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An access token (JWT) from /api/v1/auth/login, or an API key.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.get("/openapi.json", (c) => {
    cached ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "keel API",
          version: "1.0.0",
          description:
            "User management, multi-tenancy and personalization API on Cloudflare Workers. Errors are RFC 9457 problem documents with a stable `code`.",
        },
        servers: [{ url: getConfig(c.env).PUBLIC_BASE_URL }],
      }),
    );
    return c.body(cached, 200, { "content-type": "application/json; charset=utf-8" });
  });
}
