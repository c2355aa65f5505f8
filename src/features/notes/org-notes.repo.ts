import { and, desc, eq, getTableColumns, lt } from "drizzle-orm";
import { notes, organizationMembers, users } from "../../db/tables";
import type { OrgMembership } from "../../identity/membership";
import type { Db } from "../../platform/db";
import { actorMay } from "../orgs/orgs.repo";

/**
 * The notes members shared with one organization (reachable only with a membership proof), newest
 * first, each with its author's name: only while the author is still a member, and only while the
 * reader may read what is shared (re-checked in the statement, as for shared favorites).
 */
export const orgSharedNotes = (db: Db, m: OrgMembership, opts: { limit: number; before?: string }) =>
  db
    .select({ ...getTableColumns(notes), authorName: users.fullName })
    .from(notes)
    .innerJoin(organizationMembers, and(eq(organizationMembers.userId, notes.userId), eq(organizationMembers.organizationId, m.orgId)))
    .innerJoin(users, eq(users.id, notes.userId))
    .where(and(eq(notes.organizationId, m.orgId), actorMay(m, "shared.read"), opts.before ? lt(notes.id, opts.before) : undefined))
    .orderBy(desc(notes.id))
    .limit(opts.limit + 1);
