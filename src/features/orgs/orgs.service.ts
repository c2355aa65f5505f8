import { runBatch } from "../../platform/db";
import { webhookEvent } from "../webhooks/emit";
import type { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import type { OrgRole, UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { preconditionFailed, versionMatches, type IfMatch } from "../../platform/etag";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { accessChanged } from "../../identity/grants";
import type { OrgMembership } from "../../identity/membership";
import { auditInsertIf } from "../../audit/audit.repo";
import { decideRemoval, decideRoleChange, limitsOfPlan, type Decision, type OrgActor } from "./orgs.policy";
import { departureStatements } from "./member-departure";
import { invitationsRepo } from "./invitations.repo";
import { createdOrg, insertOrgStatements, isMemberSql, orgExists, orgRepo, orgsCreatedBy, orgsOfUser, trialStartedAt } from "./orgs.repo";
import { toOrgOut, type CreateOrgInput, type UpdateOrgInput } from "./orgs.schemas";
import { DAY } from "../../platform/time";

/**
 * SQL condition for an audit row placed right after a guarded UPDATE/DELETE in the same batch:
 * SQLite's `changes()` is the row count of the most recently completed statement of the
 * connection, and a D1 batch runs its statements one after another on one connection, inside one
 * transaction. So the audit row exists exactly when the guarded change happened.
 */
const previousStatementChanged = sql`changes() > 0`;

const orgNotFound = () => new AppError("not_found", "Organization not found");

/** Throws the error of a refused decision. */
export function enforce(decision: Decision): void {
  if (!decision.ok) throw new AppError(decision.code, decision.detail);
}

/** The role to show the caller: none for a superuser acting across organizations. */
export const shownRole = (m: OrgMembership): OrgRole | null => (m.viaSuperuser || m.viaKey ? null : m.role);

/** What `toOrgOut` needs to show the limits in force now. */
const at = (ctx: RequestContext) => ({ now: ctx.now, free: ctx.config.PLAN_LIMITS.free });


const actorOf = (m: OrgMembership, actorRole: OrgRole | null): OrgActor => ({ role: actorRole, viaSuperuser: m.viaSuperuser });

/**
 * Creates an organization; the creator becomes its owner. A user gets ONE `team` trial of
 * TRIAL_DAYS, starting with their first organization: organizations created while it runs share
 * its end, later ones (even after deleting every earlier one) start on the `free` plan
 * (`subscription_status` `active`, no end). Org + trial mark + membership + audit in one batch,
 * the org insert guarded by MAX_ORGS_CREATED_PER_USER (409 `limit_reached` beyond it) and the
 * trial by the user's row as read (see insertOrgStatements).
 */
export async function createOrg(ctx: RequestContext, actor: UserActor, input: z.infer<typeof CreateOrgInput>) {
  const { db, now, config } = ctx;
  const started = await trialStartedAt(db, actor.userId);
  const base = {
    id: newId("org", now.getTime()),
    name: input.name,
    orgType: input.org_type ?? null,
    subscriptionStartsAt: now,
    createdBy: actor.userId,
    createdAt: now,
    updatedAt: now,
  };
  const trialEnds = new Date((started ?? now).getTime() + config.TRIAL_DAYS * DAY);
  // A first trial of 0 days still starts (and lapses at once), as before; a used one never restarts.
  const trial =
    !started || trialEnds > now
      ? { ...base, subscriptionPlan: "team" as const, subscriptionStatus: "trialing", subscriptionEndsAt: trialEnds, ...limitsOfPlan(config.PLAN_LIMITS, "team") }
      : null;
  const after = { ...base, subscriptionPlan: "free" as const, subscriptionStatus: "active", subscriptionEndsAt: null, ...limitsOfPlan(config.PLAN_LIMITS, "free") };
  const isTrial = sql`EXISTS (SELECT 1 FROM organizations x WHERE x.id = ${base.id} AND x.subscription_status = 'trialing')`;
  const audit = (details: Record<string, unknown>, condition: SQL) =>
    auditInsertIf(db, ctx, { userId: actor.userId, action: "org.created", details: { organization_id: base.id, name: base.name, ...details } }, condition);
  const [asTrial, asFree] = await runBatch(ctx, [
    ...insertOrgStatements(db, { trial, after }, { memberId: newId("mem", now.getTime()), userId: actor.userId, trialStartedAt: started }, now, config.MAX_ORGS_CREATED_PER_USER),
    audit({ plan: "team", trial_ends_at: trialEnds.toISOString() }, isTrial),
    audit({ plan: "free", trial_ends_at: null, reason: "trial already used" }, sql`${orgExists(base.id)} AND NOT ${isTrial}`),
  ]);
  if ((asTrial as D1Result).meta.changes === 0 && (asFree as D1Result).meta.changes === 0) {
    const created = await orgsCreatedBy(db, actor.userId);
    throw new AppError("limit_reached", `A user can create at most ${config.MAX_ORGS_CREATED_PER_USER} organizations`, {
      fields: { limit: config.MAX_ORGS_CREATED_PER_USER, created },
    });
  }
  accessChanged(actor.userId);
  const row = await createdOrg(db, base.id);
  return toOrgOut(row!, "owner", at(ctx));
}

/** The caller's organizations with the caller's role, by id. */
export async function listMyOrgs(ctx: RequestContext, actor: UserActor, page: { limit: number; cursor?: string }) {
  const rows = await orgsOfUser(ctx.db, actor.userId, { limit: page.limit, after: decodeCursor(page.cursor) });
  return toPage(rows, page.limit, (r) => r.org.id, (r) => toOrgOut(r.org, r.role, at(ctx)));
}

export async function getOrg(ctx: RequestContext, m: OrgMembership) {
  const row = await orgRepo(ctx.db, m).get();
  if (!row) throw orgNotFound();
  return toOrgOut(row, shownRole(m), at(ctx));
}

/** Admin+: name, org_type, billing_email, billing_address. */
export async function updateOrg(ctx: RequestContext, m: OrgMembership, input: z.infer<typeof UpdateOrgInput>, ifMatch?: IfMatch) {
  const { db, now } = ctx;
  const patch = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.org_type !== undefined ? { orgType: input.org_type } : {}),
    ...(input.billing_email !== undefined ? { billingEmail: input.billing_email } : {}),
    ...(input.billing_address !== undefined ? { billingAddress: input.billing_address } : {}),
  };
  const repo = orgRepo(db, m);
  const [updated] = await runBatch(ctx, [
    repo.update(patch, now, ifMatch),
    auditInsertIf(
      db,
      ctx,
      { userId: m.userId, action: "org.updated", details: { organization_id: m.orgId, fields: Object.keys(input), via_superuser: m.viaSuperuser } },
      previousStatementChanged,
    ),
    ...(await webhookEvent(ctx, { type: "organization.updated", scope: "org", orgId: m.orgId, data: { organization_id: m.orgId, fields: Object.keys(input), updated_by: m.userId } }, previousStatementChanged)),
  ]);
  const row = (updated as Awaited<ReturnType<typeof repo.update>>)[0];
  if (!row) {
    const stored = ifMatch ? await repo.get() : undefined;
    if (stored && !versionMatches(ifMatch, stored.updatedAt)) throw preconditionFailed();
    throw new AppError("forbidden", "Updating the organization needs the admin role");
  }
  return toOrgOut(row, shownRole(m), at(ctx));
}


/**
 * Owner only. The organization, its memberships and its invitations go; the members' own data
 * (accounts, favorites, notes — shared notes stay their authors') stays theirs.
 */
export async function deleteOrg(ctx: RequestContext, m: OrgMembership): Promise<void> {
  const { db } = ctx;
  const repo = orgRepo(db, m);
  const members = await repo.memberIds();
  const [, removed] = await runBatch(ctx, [
    auditInsertIf(
      db,
      ctx,
      { userId: m.userId, action: "org.deleted", details: { organization_id: m.orgId, members: members.length, via_superuser: m.viaSuperuser } },
      repo.actorIsOwner(),
    ),
    repo.remove(),
  ]);
  if (removed.length === 0) throw new AppError("forbidden", "Only an owner deletes the organization");
  for (const { userId } of members) accessChanged(userId);
}

export async function listMembers(ctx: RequestContext, m: OrgMembership, page: { limit: number; cursor?: string }) {
  const rows = await orgRepo(ctx.db, m).members({ limit: page.limit, after: decodeCursor(page.cursor) });
  return toPage(rows, page.limit, (r) => r.userId, toMemberOut);
}

/**
 * Sets a member's role under the rules of orgs.policy (checked first for a clear error, then
 * enforced again by the one guarded UPDATE, so concurrent changes cannot both pass).
 */
export async function changeMemberRole(ctx: RequestContext, m: OrgMembership, userId: string, role: OrgRole) {
  const { db } = ctx;
  const repo = orgRepo(db, m);
  const decide = async () => {
    const facts = await repo.roleFacts(userId);
    return decideRoleChange({ actor: actorOf(m, facts.actorRole), targetRole: facts.targetRole, newRole: role, otherOwners: facts.otherOwners });
  };
  enforce(await decide());
  const [changed] = await runBatch(ctx, [
    repo.changeRole(userId, role),
    auditInsertIf(
      db,
      ctx,
      { userId, actorId: m.userId, action: "org.member_role_changed", details: { organization_id: m.orgId, role, via_superuser: m.viaSuperuser } },
      previousStatementChanged,
    ),
    ...(await webhookEvent(ctx, { type: "organization.member_role_changed", scope: "org", orgId: m.orgId, data: { organization_id: m.orgId, user_id: userId, role, changed_by: m.userId } }, previousStatementChanged)),
    // A member demoted below admin (or from owner) loses the invitations they could no longer send.
    ...revokeOutrankedInvitations(ctx, m, userId),
  ]);
  const row = (changed as Awaited<ReturnType<typeof repo.changeRole>>)[0];
  if (!row) {
    // Something changed between the check and the write: report what the rules say now.
    enforce(await decide());
    throw new AppError("conflict", "The membership changed meanwhile; try again");
  }
  accessChanged(userId);
  const r = await repo.memberView(userId);
  if (!r) throw new AppError("not_found", "Member not found");
  return toMemberOut(r);
}

/**
 * For a role change's or a removal's batch, after the guarded statement: revokes the pending
 * invitations `userId` sent that their role no longer allows, audited when there were any.
 */
function revokeOutrankedInvitations(ctx: RequestContext, m: OrgMembership, userId: string) {
  const { db, now } = ctx;
  return [
    invitationsRepo(db, m).revokeOutranked(userId, now),
    auditInsertIf(
      db,
      ctx,
      { userId, actorId: m.userId, action: "org.invitations_revoked", details: { organization_id: m.orgId, reason: "inviter_lost_admin_role" } },
      previousStatementChanged,
    ),
  ] as const;
}

export const toMemberOut = (r: { userId: string; email: string; fullName: string; role: OrgRole; joinedAt: Date }) => ({
  user_id: r.userId,
  email: r.email,
  full_name: r.fullName,
  role: r.role,
  joined_at: r.joinedAt.toISOString(),
});

/**
 * Removes a member, or lets the caller leave (any role). Admin+ removes others; only an owner
 * removes an owner; the last owner cannot go (409 `conflict`).
 */
export async function removeMember(ctx: RequestContext, m: OrgMembership, userId: string): Promise<void> {
  const { db } = ctx;
  const repo = orgRepo(db, m);
  const self = userId === m.userId && !m.viaSuperuser;
  const decide = async () => {
    const facts = await repo.roleFacts(userId);
    return decideRemoval({ actor: actorOf(m, facts.actorRole), self, targetRole: facts.targetRole, otherOwners: facts.otherOwners });
  };
  enforce(await decide());
  const gone = sql`NOT ${isMemberSql(m.orgId, userId)}`;
  const [removed] = await runBatch(ctx, [
    repo.removeMember(userId),
    auditInsertIf(
      db,
      ctx,
      { userId, actorId: m.userId, action: "org.member_removed", details: { organization_id: m.orgId, left: self, via_superuser: m.viaSuperuser } },
      previousStatementChanged,
    ),
    ...(await webhookEvent(ctx, { type: "organization.member_removed", scope: "org", orgId: m.orgId, data: { organization_id: m.orgId, user_id: userId, left: self, removed_by: m.userId } }, previousStatementChanged)),
    // The items they shared with the organization leave with them (private again, not re-shared
    // if they rejoin); reads also join the author's membership, so no path can leave them shown.
    ...departureStatements(db, m.orgId, userId, gone),
    ...revokeOutrankedInvitations(ctx, m, userId),
  ]);
  if (removed.length === 0) {
    enforce(await decide());
    throw new AppError("conflict", "The membership changed meanwhile; try again");
  }
  accessChanged(userId);
}

export async function listOrgFavorites(ctx: RequestContext, m: OrgMembership, page: { limit: number; cursor?: string }) {
  const rows = await orgRepo(ctx.db, m).favorites({ limit: page.limit, before: decodeCursor(page.cursor) });
  return toPage(rows, page.limit, (r) => r.id, (r) => ({
    id: r.id,
    tender: {
      id: r.tender.id,
      title: r.tender.title,
      department: r.tender.department,
      state: r.tender.state,
      closing_date: r.tender.closingDate?.toISOString() ?? null,
      value: r.tender.value,
      currency: r.tender.currency,
    },
    folder: r.folder,
    tags: r.tags,
    priority: r.priority,
    bid_status: r.bidStatus,
    created_at: r.createdAt.toISOString(),
    added_by: { user_id: r.userId, email: r.email, full_name: r.fullName },
  }));
}
