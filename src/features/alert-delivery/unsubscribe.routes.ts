import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { previewUnsubscribe, unsubscribe } from "./unsubscribe.service";

const UnsubscribeQuery = z.object({ token: z.string().min(1).max(1000) });
const UnsubscribeResult = z
  .object({ unsubscribed: z.enum(["alert", "digest"]), alert_id: z.string().nullable() })
  .openapi("UnsubscribeResult", { description: "What was turned off (idempotent: a second call answers the same and writes nothing)" });
const UnsubscribePreview = z
  .object({
    target: z.enum(["alert", "digest"]).openapi({ description: "What a POST with this token turns off: that alert's email, or the digest" }),
    alert_id: z.string().nullable(),
    alert_name: z.string().nullable().openapi({ description: "The alert's name; null for the digest or an alert that no longer exists" }),
    email_on: z.boolean().openapi({ description: "Whether that email is on now (false: a POST changes nothing)" }),
  })
  .openapi("UnsubscribePreview", { description: "What the token would turn off; nothing was changed" });

const tokenProblems = { ...problemResponses(400, 422) };

export function registerUnsubscribe(app: App): void {
  app.openapi(
    createRoute({
      method: "get",
      path: `${API}/unsubscribe`,
      tags: ["Service"],
      summary: "What a one-click unsubscribe token would turn off; changes nothing (mail scanners prefetch links). 400 for a bad token or one issued before the alert's email was turned back on",
      request: { query: UnsubscribeQuery },
      responses: { 200: jsonResponse(UnsubscribePreview, "What the token would turn off"), ...tokenProblems },
    }),
    async (c) => c.json(await previewUnsubscribe(c.var.ctx, c.req.valid("query").token), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: `${API}/unsubscribe`,
      tags: ["Service"],
      summary:
        "One-click unsubscribe (RFC 8058) from an alert or digest email: turns that alert's email, or the digest, off. 400 for a bad token or one issued before the alert's email was turned back on",
      request: { query: UnsubscribeQuery },
      responses: { 200: jsonResponse(UnsubscribeResult, "Turned off (or already off: nothing written)"), ...tokenProblems },
    }),
    async (c) => c.json(await unsubscribe(c.var.ctx, c.req.valid("query").token), 200),
  );
}
