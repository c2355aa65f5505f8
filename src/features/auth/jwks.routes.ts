import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { getKeySet } from "../../platform/jwt";

const JwksSchema = z
  .object({ keys: z.array(z.object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.string() }).passthrough()) })
  .openapi("Jwks");

const jwksRoute = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["Service"],
  summary: "Public keys that verify access tokens (match the token header's kid)",
  responses: { 200: { description: "JSON Web Key Set", content: { "application/json": { schema: JwksSchema } } } },
});

export function registerJwks(app: App): void {
  app.openapi(jwksRoute, async (c) => {
    const keys = await getKeySet(c.env, c.var.ctx.config);
    c.header("cache-control", "public, max-age=300");
    return c.json(keys.jwks as z.infer<typeof JwksSchema>, 200);
  });
}
