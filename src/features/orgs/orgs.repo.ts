import { and, asc, desc, eq, gt, inArray, lt, sql, type SQL } from "drizzle-orm";
import { favorites, organizationMembers, organizations, tenders, users } from "../../db/tables";
import { markTrialStartedIf } from "../users/users.repo";
import type { OrgRole } from "../../identity/actor";
import { orgRolesFor, orgRolesSql, type OrgAction } from "../../db/org-roles";
import { insertIf, type Db } from "../../platform/db";
import type { OrgMembership } from "../../identity/membership";
import type { IfMatch } from "../../platform/etag";

export type OrgRow = typeof organizations.$inferSelect;
export type NewOrg = typeof organizations.$inferInsert;

const om = organizationMembers;

/**
 * SQL condition: the acting member holds, in the organization right now, a role that may take
 * `action` (ORG_RULES; `ownersInvolved`: the action makes, unmakes, removes or invites an owner).
 * Read inside the guarded statement, so an actor demoted a moment ago cannot still act. A
 * superuser acting across organizations holds no membership and passes.
 */
export function actorMay(m: OrgMembership, action: OrgAction, opts: { ownersInvolved?: boolean } = {}): SQL {
  if (m.viaSuperuser) return sql`1`;
  // An organization key (issue 18.6) holds the least role of the action its scope was admitted to,
  // and no membership row: it passes for that action (and any other its role may take), else not.
  if (m.viaKey) return orgRolesFor(action, opts).includes(m.role) ? sql`1` : sql`0`;
  return sql`EXISTS (SELECT 1 FROM organization_members a WHERE a.organization_id = ${m.orgId} AND a.user_id = ${m.userId} AND a.role IN (${orgRolesSql(action, opts)}))`;
}

/** SQL: the number of owners of the organization other than `userId`. */
const otherOwners = (orgId: string, userId: string) =>
  sql`(SELECT count(*) FROM organization_members o WHERE o.organization_id = ${orgId} AND o.role = 'owner' AND o.user_id <> ${userId})`;

/** When `userId`'s trial started (their first organization's creation), or null while unused. */
export const trialStartedAt = async (db: Db, userId: string): Promise<Date | null> =>
  (await db.select({ at: users.trialStartedAt }).from(users).where(eq(users.id, userId)).get())?.at ?? null;

/**
 * A new organization and its owner's membership, for one batch. The organization is inserted by
 * ONE of two guarded statements, only while the owner has created fewer than `maxCreated`
 * organizations that still exist (concurrent creates are serialised by D1, so the cap cannot be
 * raced): `trial` (when given) only while the owner's trial start is still `trialStartedAt` as
 * read (NULL: unused), else `after` (the same organization without a trial). A first trial is
 * then marked as started, and the membership follows only if the organization was written.
 * `meta.changes` of the first two results tells which (if any) was.
 */
export function insertOrgStatements(
  db: Db,
  org: { trial: (NewOrg & { id: string }) | null; after: NewOrg & { id: string } },
  owner: { memberId: string; userId: string; trialStartedAt: Date | null },
  now: Date,
  maxCreated: number,
) {
  const underCap = sql`(SELECT count(*) FROM organizations c WHERE c.created_by = ${owner.userId}) < ${maxCreated}`;
  const trialAsRead = owner.trialStartedAt
    ? sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${owner.userId} AND u.trial_started_at = ${owner.trialStartedAt.getTime()})`
    : sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${owner.userId} AND u.trial_started_at IS NULL)`;
  const id = org.after.id;
  return [
    insertIf(db, organizations, org.trial ?? org.after, org.trial ? sql`${underCap} AND ${trialAsRead}` : sql`0`),
    insertIf(db, organizations, org.after, sql`${underCap} AND NOT ${orgExists(id)}`),
    markTrialStartedIf(db, owner.userId, now, sql`EXISTS (SELECT 1 FROM organizations x WHERE x.id = ${id} AND x.subscription_status = 'trialing')`),
    insertIf(db, om, { id: owner.memberId, organizationId: id, userId: owner.userId, role: "owner", joinedAt: now }, orgExists(id)),
  ] as const;
}

/** How many existing organizations `userId` created (to explain a refused create). */
export const orgsCreatedBy = async (db: Db, userId: string) =>
  Number((await db.select({ n: sql<number>`count(*)` }).from(organizations).where(eq(organizations.createdBy, userId)).get())?.n ?? 0);

/**
 * SQL: the plan of organization row `o` is in force at `now` (status `active` or `trialing`, and
 * not past `subscription_ends_at`); otherwise the organization has the `free` plan's limits.
 * The SQL twin of `planInForce` in orgs.policy.
 */
const planInForceSql = (now: Date) =>
  sql`(o.subscription_status IN ('active', 'trialing') AND (o.subscription_ends_at IS NULL OR o.subscription_ends_at > ${now.getTime()}))`;

/**
 * SQL: organization `orgId`'s `max_users` in force at `now`: its plan's, or `freeMaxUsers` once
 * its trial or subscription ended. Every guarded statement that counts seats reads this.
 */
export const maxUsersInForce = (orgId: string, now: Date, freeMaxUsers: number) =>
  sql`(SELECT CASE WHEN ${planInForceSql(now)} THEN o.max_users ELSE ${freeMaxUsers} END FROM organizations o WHERE o.id = ${orgId})`;

/** The organizations `userId` belongs to, with the user's role, by id (keyset after `after`). */
export function orgsOfUser(db: Db, userId: string, opts: { limit: number; after?: string }) {
  return db
    .select({ org: organizations, role: om.role })
    .from(om)
    .innerJoin(organizations, eq(organizations.id, om.organizationId))
    .where(and(eq(om.userId, userId), opts.after ? gt(organizations.id, opts.after) : undefined))
    .orderBy(asc(organizations.id))
    .limit(opts.limit + 1);
}

/** The plan limits and subscription state of every organization `userId` belongs to (one indexed query). */
export const orgLimitsOfUser = (db: Db, userId: string) =>
  db
    .select({
      max_users: organizations.maxUsers,
      max_alerts: organizations.maxAlerts,
      max_saved_searches: organizations.maxSavedSearches,
      subscriptionStatus: organizations.subscriptionStatus,
      subscriptionEndsAt: organizations.subscriptionEndsAt,
    })
    .from(om)
    .innerJoin(organizations, eq(organizations.id, om.organizationId))
    .where(eq(om.userId, userId));

/**
 * SQL condition: `userId` may share with organization `orgId` right now (ORG_RULES' `share`),
 * read inside the guarded write so a removal or a demotion a moment ago counts.
 */
export const maySharePredicate = (userId: string, orgId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM organization_members s WHERE s.organization_id = ${orgId} AND s.user_id = ${userId} AND s.role IN (${orgRolesSql("share")}))`;

/**
 * SQL condition for a read of shared items (notes, favorites): the item's organization
 * (`orgColumn`) is one `readerId` belongs to (any role: a viewer reads), AND its author
 * (`authorColumn`) still belongs to it. Both memberships are read from D1 in the same query, so a
 * member who leaves or is removed stops seeing the organization's items, and stops showing theirs,
 * at once, whichever path deleted the membership. Two lookups on the (organization, user) unique index.
 */
export const sharedItemVisible = (orgColumn: SQL | { getSQL(): SQL }, authorColumn: SQL | { getSQL(): SQL }, readerId: string): SQL =>
  sql`(${orgColumn} IS NOT NULL
    AND EXISTS (SELECT 1 FROM organization_members r WHERE r.organization_id = ${orgColumn} AND r.user_id = ${readerId})
    AND EXISTS (SELECT 1 FROM organization_members w WHERE w.organization_id = ${orgColumn} AND w.user_id = ${authorColumn}))`;

/**
 * SQL condition: `userId` belongs to `orgId` (with a role that may take `action`, when given). For
 * statements that follow a guarded membership change in the same batch and must apply only to its outcome.
 */
export const isMemberSql = (orgId: string, userId: string, action?: OrgAction, opts: { ownersInvolved?: boolean } = {}): SQL =>
  sql`EXISTS (SELECT 1 FROM organization_members x WHERE x.organization_id = ${orgId} AND x.user_id = ${userId}${action ? sql` AND x.role IN (${orgRolesSql(action, opts)})` : sql``})`;

/** The organizations where `userId` may share (ORG_RULES' `share`), at most `limit`. */
export const sharingOrgsOf = (db: Db, userId: string, limit: number) =>
  db
    .select({ orgId: om.organizationId })
    .from(om)
    .where(and(eq(om.userId, userId), inArray(om.role, [...orgRolesFor("share")])))
    .limit(limit);

/** `userId`'s role in `orgId`, or none (read from D1, to explain a refused share). */
export const roleIn = (db: Db, orgId: string, userId: string) =>
  db.select({ role: om.role }).from(om).where(and(eq(om.organizationId, orgId), eq(om.userId, userId))).get();

/**
 * One organization's rows, reachable only with a membership proof (`requireMembership`). Every
 * query carries the organization id of the proof.
 */
/** The organization just created by this request (no membership to scope by yet: its creator is its owner). */
export const createdOrg = (db: Db, orgId: string) => db.select().from(organizations).where(eq(organizations.id, orgId)).get();

export function orgRepo(db: Db, m: OrgMembership) {
  const orgId = m.orgId;
  const inOrg = eq(om.organizationId, orgId);
  return {
    orgId,
    get: () => db.select().from(organizations).where(eq(organizations.id, orgId)).get(),

    /** Admin+ (re-checked in the statement); returns the updated row. */
    /** `ifMatch`: only at one of those versions, checked by the statement itself (If-Match). */
    update: (patch: Partial<Pick<OrgRow, "name" | "orgType" | "billingEmail" | "billingAddress">>, now: Date, ifMatch?: IfMatch) =>
      db
        .update(organizations)
        .set({ ...patch, updatedAt: now })
        .where(and(eq(organizations.id, orgId), actorMay(m, "org.update"), ifMatch ? inArray(organizations.updatedAt, [...ifMatch]) : undefined))
        .returning(),

    /** SQL condition: the acting member is (still) an owner, for the deletion's batch. */
    actorIsOwner: () => actorMay(m, "org.delete"),

    /** Deletes the organization when the actor is (still) an owner; memberships and invitations cascade. */
    remove: () =>
      db
        .delete(organizations)
        .where(and(eq(organizations.id, orgId), actorMay(m, "org.delete")))
        .returning({ id: organizations.id }),

    memberIds: () => db.select({ userId: om.userId }).from(om).where(inOrg),

    /** Members with their user, by user id (keyset after `after`), served by the (org, user) unique index. */
    members: (opts: { limit: number; after?: string }) =>
      db
        .select({ userId: om.userId, role: om.role, joinedAt: om.joinedAt, email: users.email, fullName: users.fullName })
        .from(om)
        .innerJoin(users, eq(users.id, om.userId))
        .where(and(inOrg, opts.after ? gt(om.userId, opts.after) : undefined))
        .orderBy(asc(om.userId))
        .limit(opts.limit + 1),

    memberView: (userId: string) =>
      db
        .select({ userId: om.userId, role: om.role, joinedAt: om.joinedAt, email: users.email, fullName: users.fullName })
        .from(om)
        .innerJoin(users, eq(users.id, om.userId))
        .where(and(inOrg, eq(om.userId, userId)))
        .get(),

    /** What the role rules need, read together: the target's and the actor's role, and the other owners. */
    roleFacts: async (targetUserId: string) => {
      const [target, actor, owners] = await db.batch([
        db.select({ role: om.role }).from(om).where(and(inOrg, eq(om.userId, targetUserId))),
        db.select({ role: om.role }).from(om).where(and(inOrg, eq(om.userId, m.userId))),
        db.select({ n: sql<number>`count(*)` }).from(om).where(and(inOrg, eq(om.role, "owner"), sql`${om.userId} <> ${targetUserId}`)),
      ]);
      return { targetRole: target[0]?.role ?? null, actorRole: actor[0]?.role ?? null, otherOwners: Number(owners[0]?.n ?? 0) };
    },

    /**
     * Sets a member's role in ONE guarded statement: the actor is still admin+ (owner when an
     * owner is made or unmade) and, when an owner is demoted, another owner exists at that moment.
     * Two concurrent demotions of the last two owners are serialised by D1: the second finds no
     * other owner and changes nothing. Returns the updated row, or none when a rule refused.
     */
    changeRole: (userId: string, role: OrgRole) =>
      db
        .update(om)
        .set({ role })
        .where(
          and(
            inOrg,
            eq(om.userId, userId),
            sql`CASE WHEN ${om.role} = 'owner' OR ${role} = 'owner' THEN ${actorMay(m, "member.change_role", { ownersInvolved: true })} ELSE ${actorMay(m, "member.change_role")} END`,
            sql`(${om.role} <> 'owner' OR ${role} = 'owner' OR ${otherOwners(orgId, userId)} > 0)`,
          ),
        )
        .returning(),

    /**
     * Removes a member (or lets the actor leave) in ONE guarded statement: the actor leaves, or is
     * still admin+ (owner to remove an owner); an owner goes only while another owner remains.
     */
    removeMember: (userId: string) =>
      db
        .delete(om)
        .where(
          and(
            inOrg,
            eq(om.userId, userId),
            userId === m.userId && !m.viaSuperuser
              ? undefined
              : sql`CASE WHEN ${om.role} = 'owner' THEN ${actorMay(m, "member.remove", { ownersInvolved: true })} ELSE ${actorMay(m, "member.remove")} END`,
            sql`(${om.role} <> 'owner' OR ${otherOwners(orgId, userId)} > 0)`,
          ),
        )
        .returning({ userId: om.userId, role: om.role }),

    /**
     * The favorites shared with this organization, with who added each, newest first (keyset
     * before `before`): only those whose owner still belongs to it (the membership join).
     */
    favorites: (opts: { limit: number; before?: string }) =>
      db
        .select({
          id: favorites.id,
          folder: favorites.folder,
          tags: favorites.tags,
          priority: favorites.priority,
          bidStatus: favorites.bidStatus,
          createdAt: favorites.createdAt,
          userId: users.id,
          email: users.email,
          fullName: users.fullName,
          tender: {
            id: tenders.id,
            title: tenders.title,
            department: tenders.department,
            state: tenders.state,
            closingDate: tenders.closingDate,
            value: tenders.value,
            currency: tenders.currency,
          },
        })
        .from(favorites)
        .innerJoin(om, and(eq(om.userId, favorites.userId), inOrg))
        .innerJoin(users, eq(users.id, favorites.userId))
        .innerJoin(tenders, eq(tenders.id, favorites.tenderId))
        // The reader's membership too, read here and not from the access cache: a member removed a
        // moment ago sees nothing, whichever isolate answers.
        .where(and(eq(favorites.organizationId, orgId), actorMay(m, "shared.read"), opts.before ? lt(favorites.id, opts.before) : undefined))
        .orderBy(desc(favorites.id))
        .limit(opts.limit + 1),
  };
}

/** Every organization with its member count, for administrators (keyset by id). */
export function allOrgs(db: Db, opts: { limit: number; after?: string; q?: string; plan?: string }) {
  return db
    .select({ org: organizations, memberCount: sql<number>`(SELECT count(*) FROM organization_members c WHERE c.organization_id = "organizations"."id")` })
    .from(organizations)
    .where(
      and(
        opts.after ? gt(organizations.id, opts.after) : undefined,
        opts.q ? sql`${organizations.name} LIKE ${`%${opts.q.replace(/[%_\\]/g, (ch) => `\\${ch}`)}%`} ESCAPE '\\'` : undefined,
        opts.plan ? eq(organizations.subscriptionPlan, opts.plan as OrgRow["subscriptionPlan"]) : undefined,
      ),
    )
    .orderBy(asc(organizations.id))
    .limit(opts.limit + 1);
}

/** One organization with its member count, for administrators (permission-guarded, not membership-scoped). */
export const adminOrg = (db: Db, id: string) =>
  db
    .select({ org: organizations, memberCount: sql<number>`(SELECT count(*) FROM organization_members c WHERE c.organization_id = "organizations"."id")` })
    .from(organizations)
    .where(eq(organizations.id, id))
    .get();

/** An organization's members with their user, for administrators (keyset by user id). */
export const adminOrgMembers = (db: Db, id: string, opts: { limit: number; after?: string }) =>
  db
    .select({ userId: om.userId, role: om.role, joinedAt: om.joinedAt, email: users.email, fullName: users.fullName })
    .from(om)
    .innerJoin(users, eq(users.id, om.userId))
    .where(and(eq(om.organizationId, id), opts.after ? gt(om.userId, opts.after) : undefined))
    .orderBy(asc(om.userId))
    .limit(opts.limit + 1);

/** An administrator's change of an organization's subscription (not membership-scoped: permission-guarded). */
export const adminUpdateOrg = (
  db: Db,
  id: string,
  patch: Partial<Pick<OrgRow, "subscriptionPlan" | "subscriptionStatus" | "subscriptionEndsAt" | "subscriptionStartsAt" | "maxUsers" | "maxAlerts" | "maxSavedSearches">>,
  now: Date,
) => db.update(organizations).set({ ...patch, updatedAt: now }).where(eq(organizations.id, id)).returning();

/** SQL condition: the organization exists (for an admin change's audit row). */
export const orgExists = (id: string) => sql`EXISTS (SELECT 1 FROM organizations x WHERE x.id = ${id})`;
