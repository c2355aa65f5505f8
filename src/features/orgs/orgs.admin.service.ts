import { runBatch } from "../../platform/db";
import type { z } from "@hono/zod-openapi";
import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../../audit/audit.repo";
import { limitsOfPlan } from "./orgs.policy";
import { adminOrg, adminOrgMembers, adminUpdateOrg, allOrgs, orgExists, type OrgRow } from "./orgs.repo";
import { toMemberOut } from "./orgs.service";
import { toOrgOut, type AdminOrgQuery, type AdminUpdateOrgInput } from "./orgs.schemas";

const toAdminOrgOut = (ctx: RequestContext, row: OrgRow, memberCount: number) => {
  const { role: _role, ...out } = toOrgOut(row, null, { now: ctx.now, free: ctx.config.PLAN_LIMITS.free });
  return { ...out, member_count: memberCount };
};

/** Every organization (permission-guarded by the route), by id, optionally filtered by name and plan. */
export async function adminListOrgs(ctx: RequestContext, query: z.infer<typeof AdminOrgQuery>) {
  const rows = await allOrgs(ctx.db, { limit: query.limit, after: decodeCursor(query.cursor), q: query.q, plan: query.subscription_plan });
  return toPage(rows, query.limit, (r) => r.org.id, (r) => toAdminOrgOut(ctx, r.org, Number(r.memberCount)));
}

/** One organization with its member count (GET /admin/orgs/{id}). */
export async function adminGetOrg(ctx: RequestContext, id: string) {
  const row = await adminOrg(ctx.db, id);
  if (!row) throw new AppError("not_found", "Organization not found");
  return toAdminOrgOut(ctx, row.org, Number(row.memberCount));
}

/** An organization's members (GET /admin/orgs/{id}/members); an unknown organization → 404. */
export async function adminListOrgMembers(ctx: RequestContext, id: string, page: { limit: number; cursor?: string }) {
  const [org, rows] = await Promise.all([adminOrg(ctx.db, id), adminOrgMembers(ctx.db, id, { limit: page.limit, after: decodeCursor(page.cursor) })]);
  if (!org) throw new AppError("not_found", "Organization not found");
  return toPage(rows, page.limit, (r) => r.userId, toMemberOut);
}

/**
 * An administrator changes an organization's subscription. Setting `subscription_plan` sets the
 * organization's limits to that plan's (PLAN_LIMITS) and starts the subscription now. Audited
 * with the administrator as actor.
 */
export async function adminUpdateOrgSubscription(ctx: RequestContext, admin: UserActor, id: string, input: z.infer<typeof AdminUpdateOrgInput>) {
  const { db, now, config } = ctx;
  const patch = {
    ...(input.subscription_plan ? { subscriptionPlan: input.subscription_plan, subscriptionStartsAt: now, ...limitsOfPlan(config.PLAN_LIMITS, input.subscription_plan) } : {}),
    ...(input.subscription_status ? { subscriptionStatus: input.subscription_status } : {}),
    ...(input.subscription_ends_at !== undefined ? { subscriptionEndsAt: input.subscription_ends_at === null ? null : new Date(input.subscription_ends_at) } : {}),
  };
  const [, updated] = await runBatch(ctx, [
    auditInsertIf(db, ctx, { userId: null, actorId: admin.userId, action: "admin.org_updated", details: { organization_id: id, ...input } }, orgExists(id)),
    adminUpdateOrg(db, id, patch, now),
  ]);
  const row = updated[0];
  if (!row) throw new AppError("not_found", "Organization not found");
  return toOrgOut(row, null, { now: ctx.now, free: ctx.config.PLAN_LIMITS.free });
}
