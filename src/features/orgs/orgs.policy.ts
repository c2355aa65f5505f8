import { orgRoleAtLeast, type OrgRole } from "../../identity/actor";
import type { Plan, PlanLimits } from "../../platform/config";

/**
 * The organization rules of shared/API.md as pure functions, so they are tested without the
 * runtime. The repositories enforce the same rules again inside their guarded statements (so a
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

const isOwner = (a: OrgActor) => a.viaSuperuser || a.role === "owner";
const isAdmin = (a: OrgActor) => a.viaSuperuser || (a.role !== null && orgRoleAtLeast(a.role, "admin"));

export const LAST_OWNER =
  "The last owner of an organization cannot be demoted, removed or leave: make another member owner first, or delete the organization";

/**
 * Changing `target`'s role to `newRole`: admin+ only; only an owner makes or unmakes owners; the
 * last owner cannot be demoted.
 */
export function decideRoleChange(p: { actor: OrgActor; targetRole: OrgRole | null; newRole: OrgRole; otherOwners: number }): Decision {
  if (p.targetRole === null) return no("not_found", "Member not found");
  if (!isAdmin(p.actor)) return no("forbidden", "Changing roles needs the admin role in the organization");
  if ((p.targetRole === "owner" || p.newRole === "owner") && !isOwner(p.actor)) return no("forbidden", "Only an owner makes or unmakes owners");
  if (p.targetRole === "owner" && p.newRole !== "owner" && p.otherOwners === 0) return no("conflict", LAST_OWNER);
  return ok;
}

/**
 * Removing `target` (or `target` leaving, when it is the actor): admin+ or the member itself; only
 * an owner removes an owner; the last owner can neither leave nor be removed.
 */
export function decideRemoval(p: { actor: OrgActor; self: boolean; targetRole: OrgRole | null; otherOwners: number }): Decision {
  if (p.targetRole === null) return no("not_found", "Member not found");
  if (!p.self && !isAdmin(p.actor)) return no("forbidden", "Removing a member needs the admin role in the organization");
  if (!p.self && p.targetRole === "owner" && !isOwner(p.actor)) return no("forbidden", "Only an owner removes an owner");
  if (p.targetRole === "owner" && p.otherOwners === 0) return no("conflict", LAST_OWNER);
  return ok;
}

/** Inviting with `role`: admin+; an owner invitation only from an owner. */
export function decideInvite(p: { actor: OrgActor; role: OrgRole }): Decision {
  if (!isAdmin(p.actor)) return no("forbidden", "Inviting needs the admin role in the organization");
  if (p.role === "owner" && !isOwner(p.actor)) return no("forbidden", "Only an owner invites an owner");
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
