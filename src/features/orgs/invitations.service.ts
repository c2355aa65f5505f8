import { runBatch } from "../../platform/db";
import { webhookEvent } from "../webhooks/emit";
import type { z } from "@hono/zod-openapi";
import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { randomToken, sha256Hex } from "../../platform/crypto";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails, tokenLink } from "../../email/templates";
import { accessChanged } from "../../identity/grants";
import type { OrgMembership } from "../../identity/membership";
import { auditInsertIf } from "../../audit/audit.repo";
import {
  findInvitationByHash,
  insertMemberFromInvitation,
  invitationLedger,
  invitationExists,
  invitationsRepo,
  membershipOf,
  seatsOf,
  spendInvitation,
  joinedBy,
  userEmail,
} from "./invitations.repo";
import { decideInvite, planInForce } from "./orgs.policy";
import { orgRepo } from "./orgs.repo";
import { toInvitationOut, type CreateInvitationInput } from "./orgs.schemas";
import { enforce } from "./orgs.service";
import { DAY } from "../../platform/time";

/** An invitation that can no longer be accepted: 400 `validation_failed`, like other spent or expired links. */
const invalidToken = (detail: string) =>
  new AppError("validation_failed", detail, { status: 400, errors: [{ path: "token", message: detail }] });

/**
 * Invites `email` with `role` (admin+; an owner invitation only from an owner). The invitation,
 * its email (transactional outbox) and the audit row are one batch, and the invitation insert is
 * one guarded statement: 409 `limit_reached` when members + pending invitations would exceed the
 * `max_users` in force, 409 `conflict` when the email is already a member or already invited,
 * 429 `rate_limited` past INVITES_PER_ORG_PER_DAY (per organization, its creator's deleted
 * organizations' sends included) or INVITES_PER_ADDRESS_PER_WEEK; `Retry-After` covers every spent budget.
 * Only the SHA-256 of the emailed token is stored.
 */
export async function inviteMember(ctx: RequestContext, m: OrgMembership, input: z.infer<typeof CreateInvitationInput>) {
  const { db, now, config } = ctx;
  const repo = invitationsRepo(db, m);
  enforce(decideInvite({ actor: { role: m.role, viaSuperuser: m.viaSuperuser }, role: input.role }));
  const [org, inviter] = await Promise.all([orgRepo(db, m).get(), userEmail(db, m.userId)]);
  if (!org) throw new AppError("not_found", "Organization not found");
  const budget = {
    freeMaxUsers: config.PLAN_LIMITS.free.max_users,
    creatorId: org.createdBy,
    perOrgPerDay: config.INVITES_PER_ORG_PER_DAY,
    perAddressPerWeek: config.INVITES_PER_ADDRESS_PER_WEEK,
  };

  const token = randomToken(32);
  const row = {
    id: newId("inv", now.getTime()),
    email: input.email,
    role: input.role,
    tokenHash: sha256Hex(token),
    invitedBy: m.userId,
    expiresAt: new Date(now.getTime() + config.INVITATION_TTL_DAYS * DAY),
    createdAt: now,
  };
  const mail = await outboxInsertIf(
    ctx,
    {
      to: input.email,
      userId: null,
      email: emails.invitation({
        orgName: org.name,
        inviterName: inviter?.fullName ?? "A keel user",
        role: input.role,
        url: tokenLink(config, "accept-invitation", token),
        days: config.INVITATION_TTL_DAYS,
      }),
    },
    invitationExists(row.id),
  );
  const ledger = invitationLedger(db, { ...row, organizationId: m.orgId, creatorId: org.createdBy });
  const [, inserted] = await runBatch(ctx, [
    ledger.prune,
    repo.insertGuarded(row, now, budget),
    ledger.record,
    mail.statement,
    auditInsertIf(
      db,
      ctx,
      { userId: m.userId, action: "org.invitation_sent", details: { organization_id: m.orgId, invitation_id: row.id, email: input.email, role: input.role, via_superuser: m.viaSuperuser } },
      invitationExists(row.id),
    ),
    ...(await webhookEvent(ctx, { type: "organization.invitation_created", scope: "org", orgId: m.orgId, data: { organization_id: m.orgId, invitation_id: row.id, email: input.email, role: input.role, invited_by: m.userId } }, invitationExists(row.id))),
  ]);
  if ((inserted as D1Result).meta.changes === 0) {
    const facts = await repo.inviteFacts(input.email, now, budget);
    if (!facts) throw new AppError("not_found", "Organization not found");
    enforce(decideInvite({ actor: { role: facts.actorRole, viaSuperuser: m.viaSuperuser }, role: input.role }));
    // Every spent budget is named, and Retry-After is the latest of their waits: a client that
    // waits only for the first would be refused again by the next.
    const spent = [
      Number(facts.sentByOrg) >= budget.perOrgPerDay && {
        scope: "org" as const,
        why: `an organization may send ${budget.perOrgPerDay} invitations a day (revoked ones and those of its creator's organizations deleted since included)`,
      },
      Number(facts.sentToAddress) >= budget.perAddressPerWeek && {
        scope: "address" as const,
        why: `this address received ${budget.perAddressPerWeek} invitations this week; no more can be sent to it for now`,
      },
    ].filter((b) => b !== false);
    if (spent.length > 0) {
      const waits = await Promise.all(spent.map((b) => repo.budgetFreesIn(b.scope, input.email, now, budget)));
      const detail = spent.map((b) => b.why).join("; ");
      throw new AppError("rate_limited", detail.charAt(0).toUpperCase() + detail.slice(1), { retryAfter: Math.max(...waits) });
    }
    if (facts.isMember) throw new AppError("conflict", "This email already belongs to a member");
    if (facts.isInvited) throw new AppError("conflict", "This email already has a pending invitation; revoke it to send a new one");
    const plan = planInForce(org, now) ? `The ${org.subscriptionPlan} plan` : `The ${org.subscriptionPlan} plan has ended: the free plan`;
    throw new AppError("limit_reached", `${plan} allows ${facts.maxUsers} users (members and pending invitations)`, {
      fields: { limit: facts.maxUsers, members: facts.members, pending_invitations: facts.pending },
    });
  }
  ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
  return toInvitationOut({ ...row, organizationId: m.orgId, acceptedAt: null, revokedAt: null });
}

export async function listInvitations(ctx: RequestContext, m: OrgMembership, page: { limit: number; cursor?: string }) {
  const rows = await invitationsRepo(ctx.db, m).listPending(ctx.now, { limit: page.limit, before: decodeCursor(page.cursor) });
  return toPage(rows, page.limit, (r) => r.id, toInvitationOut);
}

/** Revokes a pending invitation of the organization (admin+); its link stops working. */
export async function revokeInvitation(ctx: RequestContext, m: OrgMembership, invitationId: string): Promise<void> {
  const { db, now } = ctx;
  const repo = invitationsRepo(db, m);
  const [, revoked] = await runBatch(ctx, [
    auditInsertIf(
      db,
      ctx,
      { userId: m.userId, action: "org.invitation_revoked", details: { organization_id: m.orgId, invitation_id: invitationId, via_superuser: m.viaSuperuser } },
      repo.isPending(invitationId, now),
    ),
    repo.revoke(invitationId, now),
  ]);
  if (revoked.length === 0) throw new AppError("not_found", "Invitation not found");
}

/**
 * Accepts an invitation for the signed-in user, whose verified email must be the invited one
 * (else 403 `forbidden`). An unknown, revoked or expired token → 400 `validation_failed`; an
 * invitation already accepted → 409 `conflict`; an organization without a free seat (it filled
 * up, or its plan shrank, since the invitation was sent) → 409 `limit_reached`, the invitation
 * still pending. Spending it is one guarded UPDATE that also counts the seats, and the membership
 * and audit row join it in the same batch.
 */
export async function acceptInvitation(ctx: RequestContext, actor: UserActor, token: string) {
  const { db, now } = ctx;
  const [found, me] = await Promise.all([findInvitationByHash(db, sha256Hex(token)), userEmail(db, actor.userId)]);
  if (!found) throw invalidToken("The invitation link is invalid");
  const inv = found.invitation;
  if (!me || !me.verified || me.email !== inv.email) {
    throw new AppError("forbidden", "This invitation was sent to another email address: sign in with that (verified) address to accept it");
  }
  const check = () => {
    if (inv.acceptedAt) throw new AppError("conflict", "This invitation was already accepted");
    if (inv.revokedAt) throw invalidToken("This invitation was revoked");
    if (inv.expiresAt <= now) throw invalidToken("This invitation has expired");
  };
  check();
  const memberId = newId("mem", now.getTime());
  const [spent] = await runBatch(ctx, [
    spendInvitation(db, inv, actor.userId, me.email, now, ctx.config.PLAN_LIMITS.free.max_users),
    insertMemberFromInvitation(db, { memberId, invitation: inv, userId: actor.userId, now }),
    auditInsertIf(
      db,
      ctx,
      { userId: actor.userId, action: "org.invitation_accepted", details: { organization_id: inv.organizationId, invitation_id: inv.id, role: inv.role } },
      joinedBy(memberId),
    ),
    ...(await webhookEvent(ctx, { type: "organization.member_added", scope: "org", orgId: inv.organizationId, data: { organization_id: inv.organizationId, user_id: actor.userId, role: inv.role, invitation_id: inv.id } }, joinedBy(memberId))),
  ]);
  if (spent.length === 0) {
    // Spent or revoked by a concurrent request, or no seat left: report its state now.
    const again = await findInvitationByHash(db, sha256Hex(token));
    if (!again) throw invalidToken("The invitation link is invalid");
    Object.assign(inv, again.invitation);
    check();
    const seats = await seatsOf(db, inv.organizationId, now, ctx.config.PLAN_LIMITS.free.max_users);
    if (!seats) throw invalidToken("The invitation link is invalid");
    throw new AppError("limit_reached", `The organization is full: the ${seats.plan} plan allows ${seats.maxUsers} users. The invitation stays valid until it expires`, {
      fields: { limit: seats.maxUsers, members: seats.members },
    });
  }
  accessChanged(actor.userId);
  const membership = await membershipOf(db, inv.organizationId, actor.userId);
  if (!membership) throw new AppError("conflict", "The organization was deleted meanwhile");
  return {
    organization_id: membership.member.organizationId,
    organization_name: membership.orgName,
    user_id: membership.member.userId,
    role: membership.member.role,
    joined_at: membership.member.joinedAt.toISOString(),
  };
}
