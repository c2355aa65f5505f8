/**
 * Unsubscribe from an alert or digest email by its signed token: the one verb behind the
 * one-click API (`/api/v1/unsubscribe`, RFC 8058) and the `/unsubscribe` page.
 */
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { auditInsert } from "../audit/audit.repo";
import { turnDigestOff } from "../digests/digests.repo";
import { alertsRepo, bumpAlertsVersion, turnAlertEmailOff } from "./alerts.repo";
import { verifyUnsubscribeToken, type UnsubscribeTarget } from "./unsubscribe-token";

export interface UnsubscribeResult {
  unsubscribed: "alert" | "digest";
  alert_id: string | null;
}

const invalidLink = () =>
  new AppError("validation_failed", "The unsubscribe link is not valid", { status: 400, errors: [{ path: "token", message: "invalid or not signed by keel" }] });

/** What the token would turn off, without changing anything (a bad token → 400 validation_failed). */
export async function describeUnsubscribe(ctx: RequestContext, token: string): Promise<{ kind: "alert"; alertName: string | null } | { kind: "digest" }> {
  const target = verifyUnsubscribeToken(ctx.env, ctx.config, token);
  if (!target) throw invalidLink();
  if (!("alertId" in target)) return { kind: "digest" };
  const [alert] = await alertsRepo(ctx.db, target.userId).byId(target.alertId);
  return { kind: "alert", alertName: alert?.name ?? null };
}

/** Turns off what the signed token names; idempotent; a bad token → 400 validation_failed. */
export async function unsubscribe(ctx: RequestContext, token: string): Promise<UnsubscribeResult> {
  const target: UnsubscribeTarget | null = verifyUnsubscribeToken(ctx.env, ctx.config, token);
  if (!target) throw invalidLink();
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
