import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/routes";
import { auditInsert } from "../audit/audit.repo";
import { turnDigestOff } from "../digests/digests.repo";
import { bumpAlertsVersion, turnAlertEmailOff } from "./alerts.repo";
import { verifyUnsubscribeToken } from "./unsubscribe-token";
import type { RequestContext } from "../../platform/context";

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

/** Turns off what the signed token names; a bad token → 400 validation_failed. */
async function unsubscribe(ctx: RequestContext, token: string): Promise<z.infer<typeof UnsubscribeResult>> {
  const target = verifyUnsubscribeToken(ctx.env, ctx.config, token);
  if (!target) throw new AppError("validation_failed", "The unsubscribe link is not valid", { status: 400, errors: [{ path: "token", message: "invalid or not signed by keel" }] });
  const { db, now } = ctx;
  if ("alertId" in target) {
    await db.batch([
      turnAlertEmailOff(db, target.userId, target.alertId, now),
      bumpAlertsVersion(db),
      auditInsert(db, ctx, { userId: target.userId, action: "alert.email_unsubscribed", details: { alert_id: target.alertId } }),
    ]);
    return { unsubscribed: "alert", alert_id: target.alertId };
  }
  await db.batch([turnDigestOff(db, target.userId, now), auditInsert(db, ctx, { userId: target.userId, action: "alert.digest_unsubscribed" })]);
  return { unsubscribed: "digest", alert_id: null };
}

export function registerUnsubscribe(app: App): void {
  app.openapi(spec("get"), async (c) => c.json(await unsubscribe(c.var.ctx, c.req.valid("query").token), 200));
  app.openapi(spec("post"), async (c) => c.json(await unsubscribe(c.var.ctx, c.req.valid("query").token), 200));
}
