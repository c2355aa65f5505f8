import type { OrgRole } from "../../identity/actor";
import { leastRoleFor, orgRoleMay, type OrgAction } from "../../db/org-roles";
import type { Plan, PlanLimits } from "../../platform/config";

/**
 * The organization rules of docs/api.md as pure functions, so they are tested without the
 * runtime. Who may take which action comes from the one table of rules (db/org-roles.ts,
 * ORG_RULES); these add the rules that are not about the actor's role (the last owner). The repositories enforce the same rules again inside their guarded statements (so a
 * concurrent change cannot slip between check and write); these functions decide which error a
 * refused change gets, and refuse early with a clear message.
 */

/** Who acts: the actor's own role in the organization, or a superuser acting across organizations. */
export interface OrgActor {
  role: OrgRole | null;
  viaSuperuser: boolean;
}

export type Decision = { ok: true } | { ok: false; code: "forbidden" | "conflict" | "not_found"; detail: string };

const ok: Decision = { ok: true };
const no = (code: "forbidden" | "conflict" | "not_found", detail: string): Decision => ({ ok: false, code, detail });

/** Whether the actor may take `action` (ORG_RULES); a superuser acting across organizations may take every one. */
export const actorMay = (a: OrgActor, action: OrgAction, opts: { ownersInvolved?: boolean } = {}) =>
  a.viaSuperuser || (a.role !== null && orgRoleMay(a.role, action, opts));

export const LAST_OWNER =
  "The last owner of an organization cannot be demoted, removed or leave: make another member owner first, or delete the organization";

/**
 * Changing `target`'s role to `newRole`: admin+ only; only an owner makes or unmakes owners; the
 * last owner cannot be demoted.
 */
export function decideRoleChange(p: { actor: OrgActor; targetRole: OrgRole | null; newRole: OrgRole; otherOwners: number }): Decision {
  if (p.targetRole === null) return no("not_found", "Member not found");
  const ownersInvolved = p.targetRole === "owner" || p.newRole === "owner";
  if (!actorMay(p.actor, "member.change_role")) return no("forbidden", `Changing roles needs the ${leastRoleFor("member.change_role")} role in the organization`);
  if (ownersInvolved && !actorMay(p.actor, "member.change_role", { ownersInvolved })) return no("forbidden", "Only an owner makes or unmakes owners");
  if (p.targetRole === "owner" && p.newRole !== "owner" && p.otherOwners === 0) return no("conflict", LAST_OWNER);
  return ok;
}

/**
 * Removing `target` (or `target` leaving, when it is the actor): admin+ or the member itself; only
 * an owner removes an owner; the last owner can neither leave nor be removed.
 */
export function decideRemoval(p: { actor: OrgActor; self: boolean; targetRole: OrgRole | null; otherOwners: number }): Decision {
  if (p.targetRole === null) return no("not_found", "Member not found");
  if (!p.self && !actorMay(p.actor, "member.remove")) return no("forbidden", `Removing a member needs the ${leastRoleFor("member.remove")} role in the organization`);
  if (!p.self && p.targetRole === "owner" && !actorMay(p.actor, "member.remove", { ownersInvolved: true })) return no("forbidden", "Only an owner removes an owner");
  if (p.targetRole === "owner" && p.otherOwners === 0) return no("conflict", LAST_OWNER);
  return ok;
}

/** Inviting with `role`: admin+; an owner invitation only from an owner. */
export function decideInvite(p: { actor: OrgActor; role: OrgRole }): Decision {
  if (!actorMay(p.actor, "invitation.create")) return no("forbidden", `Inviting needs the ${leastRoleFor("invitation.create")} role in the organization`);
  if (p.role === "owner" && !actorMay(p.actor, "invitation.create", { ownersInvolved: true })) return no("forbidden", "Only an owner invites an owner");
  return ok;
}

/**
 * The plan limits that apply to a user: the most generous of each limit across the plans of the
 * organizations the user belongs to, or the `free` plan's limits outside any organization.
 */
export function mostGenerous(orgLimits: readonly Pick<PlanLimits, "max_alerts" | "max_saved_searches">[], free: PlanLimits) {
  if (orgLimits.length === 0) return { max_alerts: free.max_alerts, max_saved_searches: free.max_saved_searches };
  return {
    max_alerts: Math.max(...orgLimits.map((l) => l.max_alerts)),
    max_saved_searches: Math.max(...orgLimits.map((l) => l.max_saved_searches)),
  };
}

/**
 * Whether an organization's plan is in force at `now`: its subscription is `active` or
 * `trialing` and not past `subscription_ends_at`. When not, the organization has the `free`
 * plan's limits (its data is kept; new items over those limits are refused) until renewed.
 */
export const planInForce = (org: { subscriptionStatus: string; subscriptionEndsAt: Date | null }, now: Date): boolean =>
  (org.subscriptionStatus === "active" || org.subscriptionStatus === "trialing") && (org.subscriptionEndsAt === null || org.subscriptionEndsAt.getTime() > now.getTime());

/** The limits an organization has at `now`: its stored plan limits, or `free`'s once its plan lapsed. */
export function limitsInForce(
  org: { subscriptionStatus: string; subscriptionEndsAt: Date | null; max_users: number; max_alerts: number; max_saved_searches: number },
  now: Date,
  free: PlanLimits,
): PlanLimits {
  if (planInForce(org, now)) return { max_users: org.max_users, max_alerts: org.max_alerts, max_saved_searches: org.max_saved_searches };
  return { ...free };
}

/** The limit columns an organization takes when its plan is set. */
export const limitsOfPlan = (limits: Record<Plan, PlanLimits>, plan: Plan) => ({
  maxUsers: limits[plan].max_users,
  maxAlerts: limits[plan].max_alerts,
  maxSavedSearches: limits[plan].max_saved_searches,
});
