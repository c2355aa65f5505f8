/**
 * Unsubscribe from an alert or digest email by its sealed token: the one verb behind the
 * one-click API (`POST /api/v1/unsubscribe`, RFC 8058) and the `/unsubscribe` page, and the
 * read-only preview behind their GETs (mail scanners prefetch links).
 *
 * - Something already off writes nothing (no audit row, no updated_at); a turned-off email needs
 *   no alerts version bump at all (the matching index reads criteria and is_active only).
 * - A token issued before the user turned that alert's email (or the digest) back on is refused
 *   (400), so a replayed or prefetched old link cannot undo the user's later choice.
 */
import { systemOwner, type Owner } from "../../identity/owner";
import { alertEmailState, alertEmailUnsubscribable, turnAlertEmailOff } from "./delivery.repo";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { auditInsertIf } from "../../audit/audit.repo";
import { digestFrequency, digestOn, turnDigestOff } from "./digests.repo";
import { verifyUnsubscribeToken, type VerifiedUnsubscribe } from "./unsubscribe-token";

export interface UnsubscribeResult {
  unsubscribed: "alert" | "digest";
  alert_id: string | null;
}

/** What a token would turn off, and whether that is on now (GET answers it; nothing changes). */
export interface UnsubscribePreview {
  target: "alert" | "digest";
  alert_id: string | null;
  /** The alert's name (null for the digest, or an alert that no longer exists). */
  alert_name: string | null;
  /** Whether the email the token turns off is on now (a POST would change something). */
  email_on: boolean;
}

const invalidLink = () =>
  new AppError("validation_failed", "The unsubscribe link is not valid", { status: 400, errors: [{ path: "token", message: "invalid or not signed by keel" }] });
const supersededLink = (what = "the alert's email") =>
  new AppError("validation_failed", `This unsubscribe link is no longer valid: ${what} was turned back on after it was sent`, {
    status: 400,
    errors: [{ path: "token", message: `issued before ${what} was turned back on` }],
  });

/** The token's target, with its owner: the signed link vouches for the user. */
async function verified(ctx: RequestContext, token: string): Promise<VerifiedUnsubscribe & { owner: Owner }> {
  const target = await verifyUnsubscribeToken(ctx.env, ctx.config, token);
  if (!target) throw invalidLink();
  return { ...target, owner: systemOwner(target.userId, "token-link") };
}

type AlertState = Awaited<ReturnType<typeof alertEmailState>>[number];
const resumedAfter = (alert: AlertState | undefined, issuedAt: number) => (alert?.emailResumedAt?.getTime() ?? 0) > issuedAt;

/** What the token would turn off, without changing anything (a bad or superseded token → 400 validation_failed). */
export async function previewUnsubscribe(ctx: RequestContext, token: string): Promise<UnsubscribePreview> {
  const target = await verified(ctx, token);
  if (!("alertId" in target)) {
    const [prefs] = await digestFrequency(ctx.db, target.owner);
    if ((prefs?.resumedAt?.getTime() ?? 0) > target.issuedAt) throw supersededLink("the digest");
    return { target: "digest", alert_id: null, alert_name: null, email_on: prefs !== undefined && prefs.frequency !== "never" };
  }
  const [alert] = await alertEmailState(ctx.db, target.owner, target.alertId);
  if (resumedAfter(alert, target.issuedAt)) throw supersededLink();
  return { target: "alert", alert_id: target.alertId, alert_name: alert?.name ?? null, email_on: alert ? alert.isActive && alert.notificationMethods.includes("email") : false };
}

/** For the `/unsubscribe` page: what the token would turn off (a bad or superseded token → 400 validation_failed). */
export async function describeUnsubscribe(ctx: RequestContext, token: string): Promise<{ kind: "alert"; alertName: string | null } | { kind: "digest" }> {
  const preview = await previewUnsubscribe(ctx, token);
  return preview.target === "digest" ? { kind: "digest" } : { kind: "alert", alertName: preview.alert_name };
}

/** Turns off what the sealed token names; idempotent; a bad or superseded token → 400 validation_failed. */
export async function unsubscribe(ctx: RequestContext, token: string): Promise<UnsubscribeResult> {
  const target = await verified(ctx, token);
  const { db, now } = ctx;
  if ("alertId" in target) {
    const { owner: userId, alertId, issuedAt } = target;
    // The audit row first, under the update's own guard: only a change leaves a trace.
    const [, updated, [alert]] = await db.batch([
      auditInsertIf(db, ctx, { userId, action: "alert.email_unsubscribed", details: { alert_id: alertId } }, alertEmailUnsubscribable(userId, alertId, issuedAt)),
      turnAlertEmailOff(db, userId, alertId, issuedAt, now),
      alertEmailState(db, userId, alertId),
    ]);
    if (updated.length === 0 && resumedAfter(alert, issuedAt)) throw supersededLink();
    return { unsubscribed: "alert", alert_id: alertId };
  }
  const { owner: userId, issuedAt } = target;
  const [, updated, [prefs]] = await db.batch([
    auditInsertIf(db, ctx, { userId, action: "alert.digest_unsubscribed" }, digestOn(userId, issuedAt)),
    turnDigestOff(db, userId, issuedAt, now),
    digestFrequency(db, userId),
  ]);
  if (updated.length === 0 && (prefs?.resumedAt?.getTime() ?? 0) > issuedAt) throw supersededLink("the digest");
  return { unsubscribed: "digest", alert_id: null };
}
