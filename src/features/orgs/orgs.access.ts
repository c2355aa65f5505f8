import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { limitsInForce, mostGenerous } from "./orgs.policy";
import { orgLimitsOfUser, roleIn } from "./orgs.repo";
import { orgRoleMay } from "../../db/org-roles";

/**
 * What other features may ask about organizations (the personalization issue: alerts, saved
 * searches, shared notes). Everything here reads D1, not the per-isolate access cache, so a
 * removal from an organization takes effect at once.
 */

/**
 * The plan limits that apply to the actor (a user, or an API key's owner): the most generous of
 * each limit across the user's organizations, or the `free` plan's limits outside any organization.
 * Each organization's limits are the ones stored when its plan was set (see README, "Plans"),
 * or the `free` plan's once its trial or subscription ended (`limitsInForce`).
 *
 * @example const { max_alerts } = await limitsFor(ctx, actor); // then INSERT … WHERE (count) < max_alerts
 */
export async function limitsFor(ctx: RequestContext, actor: Actor): Promise<{ max_alerts: number; max_saved_searches: number }> {
  const free = ctx.config.PLAN_LIMITS.free;
  const rows = await orgLimitsOfUser(ctx.db, actor.userId);
  return mostGenerous(
    rows.map((r) => limitsInForce(r, ctx.now, free)),
    free,
  );
}

/**
 * Why sharing (a note, a favorite) with `orgId` is refused right now, read from D1: an
 * organization the actor does not belong to → 404 like any foreign one; a viewer → 403. Null when
 * the actor may share there (a refusal then had another cause).
 */
export async function shareRefusal(ctx: RequestContext, actor: Actor, orgId: string): Promise<AppError | null> {
  const member = await roleIn(ctx.db, orgId, actor.userId);
  if (!member) return new AppError("not_found", "Organization not found");
  if (orgRoleMay(member.role, "share")) return null;
  return new AppError("forbidden", "Sharing needs the owner, admin or member role in the organization (a viewer cannot share)");
}
