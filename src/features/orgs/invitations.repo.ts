import { and, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { invitationSends, invitations, organizationMembers, organizations, users } from "../../db/tables";
import { sha256Hex } from "../../platform/crypto";
import type { OrgRole } from "../../identity/actor";
import { insertIf, type Db } from "../../platform/db";
import type { OrgMembership } from "../../identity/membership";
import { actorMay, isMemberSql, maxUsersInForce } from "./orgs.repo";
import { DAY } from "../../platform/time";
import { orgRolesFor } from "../../db/org-roles";

/** The per-organization and per-address invitation budgets, and the free plan's seats (config). */
export interface InviteBudget {
  freeMaxUsers: number;
  /** The organization's creator (its deleted organizations' sends count here too); null when unknown. */
  creatorId: string | null;
  perOrgPerDay: number;
  perAddressPerWeek: number;
}

/** The invitation windows: one organization's last 24 hours, one address's last 7 days. */
const ORG_WINDOW_MS = DAY;
const ADDRESS_WINDOW_MS = 7 * DAY;

/** SQL: invitations sent by `orgId` (any state: revoked and accepted ones count) since `since`, from the ledger. */
const sentByOrgSince = (orgId: string, since: number) => sql`(SELECT count(*) FROM invitation_sends r WHERE r.organization_id = ${orgId} AND r.created_at > ${since})`;
/**
 * SQL: invitations counted against organization `orgId`'s daily budget since `since`: its own,
 * and those of its creator's organizations that were deleted since (from the ledger), so deleting
 * an organization and creating another does not renew the budget. Live organizations of the same
 * creator keep their own budgets (bounded by MAX_ORGS_CREATED_PER_USER).
 */
const chargedToOrgSince = (orgId: string, creatorId: string | null, since: number) =>
  creatorId === null
    ? sentByOrgSince(orgId, since)
    : sql`(SELECT count(*) FROM invitation_sends r WHERE r.created_at > ${since} AND (r.organization_id = ${orgId}
        OR (r.creator_id = ${creatorId} AND NOT EXISTS (SELECT 1 FROM organizations d WHERE d.id = r.organization_id))))`;
/** SQL: invitations sent to `email` by any organization (deleted ones too) since `since`, from the ledger. */
const sentToAddressSince = (email: string, since: number) =>
  sql`(SELECT count(*) FROM invitation_sends r WHERE r.email_hash = ${sha256Hex(email)} AND r.created_at > ${since})`;

/**
 * The ledger statements of an invitation's batch: first `prune` (rows past the longest window
 * go), then, after the guarded insert, `record` (only if the invitation was written).
 */
export const invitationLedger = (db: Db, row: { id: string; organizationId: string; creatorId: string | null; email: string; createdAt: Date }) => ({
  prune: db.delete(invitationSends).where(lt(invitationSends.createdAt, new Date(row.createdAt.getTime() - ADDRESS_WINDOW_MS))),
  record: insertIf(
    db,
    invitationSends,
    { id: row.id, organizationId: row.organizationId, emailHash: sha256Hex(row.email), creatorId: row.creatorId, createdAt: row.createdAt },
    invitationExists(row.id),
  ),
});

export type InvitationRow = typeof invitations.$inferSelect;

/** SQL: invitation `id` is pending (not accepted, not revoked, not expired at `now`). */
const pending = (now: Date) => and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, now));

/** SQL: the invitation row `id` exists (for statements that depend on its insert or spend in the same batch). */
export const invitationExists = (id: string) => sql`EXISTS (SELECT 1 FROM invitations x WHERE x.id = ${id})`;

/** One organization's invitations, reachable only with a membership proof. */
export function invitationsRepo(db: Db, m: OrgMembership) {
  const orgId = m.orgId;
  const inOrg = eq(invitations.organizationId, orgId);
  return {
    /**
     * Inserts the invitation in ONE guarded statement (`INSERT … SELECT … WHERE`): it is written
     * only while members + pending invitations < the organization's `max_users` in force (the
     * free plan's once its trial or subscription ended), the organization sent fewer than
     * `perOrgPerDay` invitations in the last 24 hours (its creator's deleted organizations'
     * included, see chargedToOrgSince), and the address got fewer than
     * `perAddressPerWeek` from all organizations in the last 7 days (revoked ones included), the
     * email is neither a member nor already invited, and the actor is still admin+ (owner for an
     * owner invitation). Concurrent invitations are serialised by D1, so no limit can be passed
     * by racing. `meta.changes` of the result tells whether it was written.
     */
    insertGuarded: (row: Omit<typeof invitations.$inferInsert, "organizationId">, now: Date, budget: InviteBudget) =>
      insertIf(
        db,
        invitations,
        { ...row, organizationId: orgId },
        sql`(SELECT count(*) FROM organization_members a WHERE a.organization_id = ${orgId})
            + (SELECT count(*) FROM invitations i WHERE i.organization_id = ${orgId} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${now.getTime()})
            < ${maxUsersInForce(orgId, now, budget.freeMaxUsers)}
          AND ${chargedToOrgSince(orgId, budget.creatorId, now.getTime() - ORG_WINDOW_MS)} < ${budget.perOrgPerDay}
          AND ${sentToAddressSince(row.email, now.getTime() - ADDRESS_WINDOW_MS)} < ${budget.perAddressPerWeek}
          AND NOT EXISTS (SELECT 1 FROM organization_members a JOIN users u ON u.id = a.user_id WHERE a.organization_id = ${orgId} AND u.email = ${row.email})
          AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.organization_id = ${orgId} AND i.email = ${row.email} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${now.getTime()})
          AND ${actorMay(m, "invitation.create", { ownersInvolved: row.role === "owner" })}`,
      ),

    /** Why a guarded insert wrote nothing: the numbers it compared. */
    inviteFacts: async (email: string, now: Date, budget: InviteBudget) => {
      const [counts] = await db
        .select({
          members: sql<number>`(SELECT count(*) FROM organization_members a WHERE a.organization_id = ${orgId})`,
          pending: sql<number>`(SELECT count(*) FROM invitations i WHERE i.organization_id = ${orgId} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${now.getTime()})`,
          maxUsers: sql<number>`${maxUsersInForce(orgId, now, budget.freeMaxUsers)}`,
          sentByOrg: sql<number>`${chargedToOrgSince(orgId, budget.creatorId, now.getTime() - ORG_WINDOW_MS)}`,
          sentToAddress: sql<number>`${sentToAddressSince(email, now.getTime() - ADDRESS_WINDOW_MS)}`,
          isMember: sql<number>`EXISTS (SELECT 1 FROM organization_members a JOIN users u ON u.id = a.user_id WHERE a.organization_id = ${orgId} AND u.email = ${email})`,
          isInvited: sql<number>`EXISTS (SELECT 1 FROM invitations i WHERE i.organization_id = ${orgId} AND i.email = ${email} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${now.getTime()})`,
          actorRole: sql<OrgRole | null>`(SELECT a.role FROM organization_members a WHERE a.organization_id = ${orgId} AND a.user_id = ${m.userId})`,
        })
        .from(organizations)
        .where(eq(organizations.id, orgId));
      return counts;
    },

    /**
     * Seconds until one more invitation fits a spent budget: until the invitation whose leaving
     * the window brings the count below `limit` leaves it (`Retry-After`; waiting it is enough
     * unless others are sent meanwhile).
     */
    budgetFreesIn: async (scope: "org" | "address", email: string, now: Date, budget: InviteBudget): Promise<number> => {
      const windowMs = scope === "org" ? ORG_WINDOW_MS : ADDRESS_WINDOW_MS;
      const limit = scope === "org" ? budget.perOrgPerDay : budget.perAddressPerWeek;
      const fromDeletedOfCreator =
        budget.creatorId === null
          ? undefined
          : and(eq(invitationSends.creatorId, budget.creatorId), sql`NOT EXISTS (SELECT 1 FROM organizations d WHERE d.id = ${invitationSends.organizationId})`);
      const which = scope === "org" ? or(eq(invitationSends.organizationId, orgId), fromDeletedOfCreator) : eq(invitationSends.emailHash, sha256Hex(email));
      const since = now.getTime() - windowMs;
      const times = await db
        .select({ createdAt: invitationSends.createdAt })
        .from(invitationSends)
        .where(and(which, gt(invitationSends.createdAt, new Date(since))))
        .orderBy(invitationSends.createdAt);
      const frees = times.length >= limit ? times[times.length - limit]!.createdAt.getTime() + windowMs : now.getTime() + 1000;
      return Math.max(1, Math.ceil((frees - now.getTime()) / 1000));
    },

    /** Pending invitations, newest first (keyset before `before`). */
    listPending: (now: Date, opts: { limit: number; before?: string }) =>
      db
        .select()
        .from(invitations)
        .where(and(inOrg, pending(now), opts.before ? lt(invitations.id, opts.before) : undefined))
        .orderBy(desc(invitations.id))
        .limit(opts.limit + 1),

    /** SQL: invitation `id` of this organization is pending. */
    isPending: (id: string, now: Date) =>
      sql`EXISTS (SELECT 1 FROM invitations x WHERE x.id = ${id} AND x.organization_id = ${orgId} AND x.accepted_at IS NULL AND x.revoked_at IS NULL AND x.expires_at > ${now.getTime()})`,

    /**
     * Revokes the pending invitations `inviterId` sent here that the inviter could no longer send:
     * every one once the inviter is below admin or gone, an owner invitation once no longer owner.
     * The inviter's membership is read at that point of the batch, so placed after a guarded role
     * change or removal it follows exactly what that statement did (nothing, if it was refused).
     */
    revokeOutranked: (inviterId: string, now: Date) =>
      db
        .update(invitations)
        .set({ revokedAt: now })
        .where(
          and(
            inOrg,
            eq(invitations.invitedBy, inviterId),
            pending(now),
            sql`(NOT ${isMemberSql(orgId, inviterId, "invitation.create")} OR (${invitations.role} = 'owner' AND NOT ${isMemberSql(orgId, inviterId, "invitation.create", { ownersInvolved: true })}))`,
          ),
        ),

    /** Guarded revoke: only a pending invitation of this organization, by a still-admin+ actor. */
    revoke: (id: string, now: Date) =>
      db
        .update(invitations)
        .set({ revokedAt: now })
        .where(and(inOrg, eq(invitations.id, id), pending(now), actorMay(m, "invitation.revoke")))
        .returning({ id: invitations.id, email: invitations.email }),
  };
}

/** An invitation by the SHA-256 of its token, with its organization's name (to accept it). */
export const findInvitationByHash = (db: Db, tokenHash: string) =>
  db
    .select({ invitation: invitations, orgName: organizations.name })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
    .where(eq(invitations.tokenHash, tokenHash))
    .get();

/**
 * SQL: the organization has a seat for `userId`: fewer members than its `max_users` in force now
 * (the free plan's once its trial or subscription ended), or the user is a member already
 * (accepting then adds nobody).
 */
const hasSeatFor = (orgId: string, userId: string, now: Date, freeMaxUsers: number) => sql`(
  (SELECT count(*) FROM organization_members a WHERE a.organization_id = ${orgId}) < ${maxUsersInForce(orgId, now, freeMaxUsers)}
  OR EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${orgId} AND a.user_id = ${userId}))`;

/**
 * Spends an invitation in ONE guarded statement: only while it is pending, addressed to `email`,
 * and the organization still has a seat for the user (the plan limit checked again at acceptance:
 * invitations sent within the limit may outnumber the seats left after a plan change). Nothing
 * spent = the invitation stays pending. Two concurrent accepts of one invitation get it once; two
 * invitations accepted at once for the last seat fill it once (SQLite runs one write at a time,
 * and the count is read inside the statement whose batch then adds the member).
 */
export const spendInvitation = (db: Db, invitation: InvitationRow, userId: string, email: string, now: Date, freeMaxUsers: number) =>
  db
    .update(invitations)
    .set({ acceptedAt: now })
    .where(and(eq(invitations.id, invitation.id), eq(invitations.email, email), pending(now), hasSeatFor(invitation.organizationId, userId, now, freeMaxUsers)))
    .returning();

/** The organization's seats in force at `now`, to explain a refused acceptance. */
export const seatsOf = (db: Db, orgId: string, now: Date, freeMaxUsers: number) =>
  db
    .select({
      plan: organizations.subscriptionPlan,
      maxUsers: sql<number>`${maxUsersInForce(orgId, now, freeMaxUsers)}`,
      members: sql<number>`(SELECT count(*) FROM organization_members a WHERE a.organization_id = ${orgId})`,
    })
    .from(organizations)
    .where(eq(organizations.id, orgId))
    .get();

/**
 * The membership an accepted invitation creates, for the same batch right after `spendInvitation`:
 * written only if this batch spent it (accepted_at = this batch's `now`) and the user is not
 * already a member.
 */
export const insertMemberFromInvitation = (db: Db, p: { memberId: string; invitation: InvitationRow; userId: string; now: Date }) =>
  insertIf(
    db,
    organizationMembers,
    { id: p.memberId, organizationId: p.invitation.organizationId, userId: p.userId, role: p.invitation.role, joinedAt: p.now },
    sql`EXISTS (SELECT 1 FROM invitations x WHERE x.id = ${p.invitation.id} AND x.accepted_at = ${p.now.getTime()})
        AND NOT EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${p.invitation.organizationId} AND a.user_id = ${p.userId})`,
  );

/**
 * SQL: this batch's membership row exists, so this batch (and no concurrent one) spent the
 * invitation. A timestamp guard is not enough: two accepts in the same millisecond share `now`.
 */
export const joinedBy = (memberId: string) => sql`EXISTS (SELECT 1 FROM organization_members x WHERE x.id = ${memberId})`;

/** The accepting user's email and whether it is verified. */
export const userEmail = (db: Db, userId: string) =>
  db.select({ email: users.email, verified: users.emailVerified, fullName: users.fullName }).from(users).where(eq(users.id, userId)).get();

/** A user's membership of an organization, with the organization's name. */
export const membershipOf = (db: Db, orgId: string, userId: string) =>
  db
    .select({ member: organizationMembers, orgName: organizations.name })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(and(eq(organizationMembers.organizationId, orgId), eq(organizationMembers.userId, userId)))
    .get();

/**
 * Just-in-time membership of an SSO sign-in (issue 17): the user joins `orgId` with `role` in ONE
 * guarded INSERT, under the same seat rule as an invitation's acceptance (`hasSeatFor`: the plan's
 * max_users in force, counted inside the statement) and only if not a member already. Nothing
 * written = full (or a member: the caller tells them apart).
 */
export const insertMemberIfSeat = (db: Db, p: { memberId: string; orgId: string; userId: string; role: "admin" | "member" | "viewer"; now: Date; freeMaxUsers: number }) =>
  insertIf(
    db,
    organizationMembers,
    { id: p.memberId, organizationId: p.orgId, userId: p.userId, role: p.role, joinedAt: p.now },
    sql`(SELECT count(*) FROM organization_members a WHERE a.organization_id = ${p.orgId}) < ${maxUsersInForce(p.orgId, p.now, p.freeMaxUsers)}
        AND NOT EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${p.orgId} AND a.user_id = ${p.userId})`,
  );

/** Whether `userId` is a member of `orgId`. */
export const isMemberOf = (db: Db, orgId: string, userId: string) =>
  db
    .select({ id: organizationMembers.id })
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, orgId), eq(organizationMembers.userId, userId)))
    .get();

/** The members of `orgId` who may manage its SSO (owners and admins), with their addresses: whom an SSO notice goes to. */
export const orgAdminsOf = (db: Db, orgId: string) =>
  db
    .select({ userId: users.id, email: users.email, fullName: users.fullName, orgName: organizations.name })
    .from(organizationMembers)
    .innerJoin(users, eq(users.id, organizationMembers.userId))
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(and(eq(organizationMembers.organizationId, orgId), inArray(organizationMembers.role, [...orgRolesFor("sso.manage")]), eq(users.status, "active")))
    .all();
