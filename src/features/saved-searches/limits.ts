// Replace with orgs limitsFor on merge (src/features/orgs/limits.ts, branch `orgs`).
import type { Actor } from "../../platform/actor";
import type { RequestContext } from "../../platform/context";
import { orgLimitsOf } from "./saved-searches.repo";

/** The `free` plan's limits (API.md, Organizations): a user in no organization gets these. */
export const FREE_PLAN_LIMITS = { maxAlerts: 10, maxSavedSearches: 5 } as const;

export interface PlanLimits {
  maxAlerts: number;
  maxSavedSearches: number;
}

/**
 * The caller's plan limits: the most generous `max_alerts` / `max_saved_searches` across the
 * organizations they belong to (any role), or the free plan's for a user in none. One query.
 */
export async function limitsFor(ctx: RequestContext, actor: Actor): Promise<PlanLimits> {
  const org = await orgLimitsOf(ctx.db, actor.userId);
  return {
    maxAlerts: org.maxAlerts ?? FREE_PLAN_LIMITS.maxAlerts,
    maxSavedSearches: org.maxSavedSearches ?? FREE_PLAN_LIMITS.maxSavedSearches,
  };
}
