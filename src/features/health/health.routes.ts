import { log } from "../../platform/log";
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { problemResponses } from "../../platform/problem";

const HealthSchema = z
  .object({
    status: z.literal("ok"),
    checks: z.object({ d1: z.literal("ok"), kv: z.literal("ok"), durable_objects: z.literal("ok") }),
  })
  .openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["Service"],
  summary: "Liveness and binding checks (D1, KV, Durable Objects)",
  responses: {
    200: { description: "Every binding answered", content: { "application/json": { schema: HealthSchema } } },
    ...problemResponses(503),
  },
});

async function check(name: string, probe: () => Promise<unknown>): Promise<[string, string]> {
  try {
    await probe();
    return [name, "ok"];
  } catch (err) {
    log.error("health check failed", { check: name }, err);
    return [name, "failed"];
  }
}

/**
 * The Durable Object probe reaches one global object (`health:probe`): every health check of every
 * monitor would queue on it. A success is trusted per isolate for this long; a failure is never
 * cached, so a broken binding shows at the next request.
 */
const DO_CHECK_TTL_MS = 30_000;
let durableObjectsOkUntil = 0;

export function registerHealth(app: App): void {
  app.openapi(healthRoute, async (c) => {
    const env = c.env;
    const results = await Promise.all([
      check("d1", () => env.DB.prepare("SELECT 1").first()),
      check("kv", () => env.CACHE.get("health:probe")),
      Date.now() < durableObjectsOkUntil
        ? Promise.resolve<[string, string]>(["durable_objects", "ok"])
        : check("durable_objects", () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("health:probe")).limit({ limit: 1_000_000, windowSeconds: 1 })),
    ]);
    if (results[2]?.[1] === "ok" && Date.now() >= durableObjectsOkUntil) durableObjectsOkUntil = Date.now() + DO_CHECK_TTL_MS;
    const failed = results.filter(([, status]) => status !== "ok");
    if (failed.length) {
      throw new AppError("service_unavailable", `Failing: ${failed.map(([n]) => n).join(", ")}`, {
        fields: { checks: Object.fromEntries(results) },
      });
    }
    return c.json({ status: "ok" as const, checks: { d1: "ok" as const, kv: "ok" as const, durable_objects: "ok" as const } }, 200);
  });
}
