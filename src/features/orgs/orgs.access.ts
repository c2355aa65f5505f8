import type { Actor } from "../../platform/actor";
import { orgRoleAtLeast } from "../../platform/actor";
import type { RequestContext } from "../../platform/context";
import { limitsInForce, mostGenerous } from "./orgs.policy";
import { fellowMemberIds, isFellowMember, orgLimitsOfUser } from "./orgs.repo";

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
 * The ids of the users whose shared notes the actor may read: the fellow members of every
 * organization the actor belongs to (the actor itself excluded; its own notes are its own).
 * For a query, prefer `sharedWithSql`, which needs no round trip and no bound list.
 */
export async function sharedWith(ctx: RequestContext, actor: Actor): Promise<string[]> {
  const rows = await fellowMemberIds(ctx.db, actor.userId);
  return rows.map((r) => r.userId);
}

/**
 * SQL condition for another feature's repo: `authorColumn` is a user who shares an organization
 * with the actor. @example where(and(eq(notes.isShared, true), sharedWithSql(notes.userId, actor)))
 */
export const sharedWithSql = (authorColumn: Parameters<typeof isFellowMember>[0], actor: Actor) => isFellowMember(authorColumn, actor.userId);

/**
 * Whether the actor may create shared data (a shared note): a role of at least `member` in some
 * organization. A `viewer` reads the organization's shared data but does not create any.
 */
export const canShare = (actor: Actor): boolean => [...actor.access.memberships.values()].some((role) => orgRoleAtLeast(role, "member"));
