import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/routes";
import { unsubscribe } from "./unsubscribe.service";

const UnsubscribeQuery = z.object({ token: z.string().min(1).max(1000) });
const UnsubscribeResult = z
  .object({ unsubscribed: z.enum(["alert", "digest"]), alert_id: z.string().nullable() })
  .openapi("UnsubscribeResult", { description: "What was turned off (idempotent: a second call answers the same)" });

const spec = (method: "get" | "post") =>
  createRoute({
    method,
    path: `${API}/unsubscribe`,
    tags: ["Service"],
    summary: "One-click unsubscribe (RFC 8058) from an alert or digest email: turns that alert's email, or the digest, off",
    request: { query: UnsubscribeQuery },
    responses: { 200: jsonResponse(UnsubscribeResult, "Turned off"), ...problemResponses(400, 422) },
  });

export function registerUnsubscribe(app: App): void {
  app.openapi(spec("get"), async (c) => c.json(await unsubscribe(c.var.ctx, c.req.valid("query").token), 200));
  app.openapi(spec("post"), async (c) => c.json(await unsubscribe(c.var.ctx, c.req.valid("query").token), 200));
}
