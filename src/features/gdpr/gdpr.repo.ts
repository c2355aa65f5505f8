import type { Owner } from "../../identity/owner";
import { and, asc, eq, isNotNull, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import { apiKeys, auditLog, emailOutbox, invitations, organizationMembers, organizations, users } from "../../db/tables";
import { forgetSsoSignInsOf } from "../sso/sso.repo";
import { forgetUserWebhookEventsOf } from "../webhooks/webhook-outbox.repo";
import type { Db } from "../../platform/db";

/**
 * SQL condition: the user is the only owner of an organization that has other members. Such an
 * owner must hand the organization over first (API.md: the last owner is protected).
 */
const soleOwnerWithMembers = (userId: string) => sql`EXISTS (
  SELECT 1 FROM ${organizationMembers} m
  WHERE m.user_id = ${userId} AND m.role = 'owner'
    AND NOT EXISTS (SELECT 1 FROM ${organizationMembers} o WHERE o.organization_id = m.organization_id AND o.role = 'owner' AND o.user_id <> ${userId})
    AND EXISTS (SELECT 1 FROM ${organizationMembers} p WHERE p.organization_id = m.organization_id AND p.user_id <> ${userId}))`;

/** Organizations the user alone owns while others are members (for the 409's detail). */
export async function orgsBlockingDeletion(db: Db, userId: Owner): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT m.organization_id AS id FROM ${organizationMembers} m
    WHERE m.user_id = ${userId} AND m.role = 'owner'
      AND NOT EXISTS (SELECT 1 FROM ${organizationMembers} o WHERE o.organization_id = m.organization_id AND o.role = 'owner' AND o.user_id <> ${userId})
      AND EXISTS (SELECT 1 FROM ${organizationMembers} p WHERE p.organization_id = m.organization_id AND p.user_id <> ${userId})`);
  return rows.map((r) => r.id);
}

/** The account's own repo for erasure: built with the owner, every statement scoped to it. */
export function accountRepo(db: Db, userId: Owner) {
  return {
    /**
     * Deactivates the account for erasure, in one guarded statement: only an active account
     * with no pending request, and only if the user is not the sole owner of an organization
     * with other members, checked in the same statement, so a co-owner leaving concurrently
     * cannot strand an organization without owner. No row back = refused.
     */
    requestDeletion: (now: Date) =>
      db
        .update(users)
        .set({ status: "inactive", deletionRequestedAt: now, updatedAt: now })
        .where(and(eq(users.id, userId), eq(users.status, "active"), isNull(users.deletionRequestedAt), sql`NOT ${soleOwnerWithMembers(userId)}`))
        .returning({ id: users.id }),

    /** SQL condition: the deletion request of `now` is the one recorded (for the audit row). */
    deletionRequestedAt: (now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.deletionRequestedAt} = ${now.getTime()})`,

    /**
     * Revokes every live API key of the user when `condition` holds at that point of the batch;
     * returns the hashes, to evict the edge caches.
     */
    revokeAllApiKeysIf: (now: Date, condition: SQL) =>
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), condition))
        .returning({ keyHash: apiKeys.keyHash }),
  };
}

// ─── purge (cron) ──────────────────────────────────────────────────────────────────────────

export interface DueAccount {
  id: string;
  email: string;
  fullName: string;
  phone: string | null;
  createdAt: Date;
  deletionRequestedAt: Date | null;
}

/** Accounts whose erasure is due: deactivated for deletion before `cutoff`, oldest first. */
export const dueAccounts = (db: Db, cutoff: Date, limit: number): Promise<DueAccount[]> =>
  db
    .select({
      id: users.id,
      email: users.email,
      fullName: users.fullName,
      phone: users.phone,
      createdAt: users.createdAt,
      deletionRequestedAt: users.deletionRequestedAt,
    })
    .from(users)
    .where(and(eq(users.status, "inactive"), isNotNull(users.deletionRequestedAt), lte(users.deletionRequestedAt, cutoff)))
    .orderBy(asc(users.deletionRequestedAt))
    .limit(limit);

/** SQL condition: the erasure of `userId` is still due (not reactivated in the meantime). */
const stillDue = (userId: string, cutoff: Date) =>
  sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.status} = 'inactive' AND ${users.deletionRequestedAt} <= ${cutoff.getTime()})`;

/** Audit rows about or by the user. */
const auditOf = (userId: string): SQL => or(eq(auditLog.userId, userId), eq(auditLog.actorId, userId))!;

/**
 * Audit rows about or by the user that still carry personal fields. Anonymising a row clears its
 * IP and user agent and leaves no `@` in its details, so each row is returned once: the purge
 * can stop anywhere (bounded per tick) and resume on the next tick.
 */
export const auditRowsToAnonymise = (db: Db, userId: Owner, limit: number) =>
  db
    .select({ id: auditLog.id, details: auditLog.details })
    .from(auditLog)
    .where(and(auditOf(userId), sql`(${auditLog.ipAddress} IS NOT NULL OR ${auditLog.userAgent} IS NOT NULL OR instr(${auditLog.details}, '@') > 0)`))
    .limit(limit);

export const anonymiseAuditRow = (db: Db, id: string, details: Record<string, unknown>) =>
  db.update(auditLog).set({ ipAddress: null, userAgent: null, details }).where(eq(auditLog.id, id));

/**
 * The final erasure of one account, as statements for one batch, each guarded by `stillDue` so
 * a reactivation between the scan and this batch leaves everything in place:
 * - audit rows keep the event (action, time, ids) but lose IP, user agent and any address
 *   (rows written since the scan, e.g. a failed sign-in, are caught here too);
 * - other audit rows that quote the address lose it (a bounded scan: rows since sign-up, less
 *   the invitation window);
 * - invitations to the address (current or earlier ones the outbox knows), the user's emails,
 *   the billing email of organizations that used it, organizations left without members;
 * - the user row, whose deletion cascades to every user-keyed table (ON DELETE CASCADE) and
 *   sets `audit_log.user_id`, `tender_interactions.user_id`, … to NULL.
 */
export function eraseAccountStatements(db: Db, account: DueAccount, cutoff: Date, invitationWindowMs: number) {
  const due = stillDue(account.id, cutoff);
  // The current address and earlier ones the account held (mail went there for it). Not the
  // candidates of unconfirmed email changes: those may belong to someone else.
  const addresses = sql`(SELECT ${account.email} UNION SELECT ${emailOutbox.toAddress} FROM ${emailOutbox} WHERE ${emailOutbox.userId} = ${account.id} AND ${emailOutbox.template} <> 'email_change')`;
  const since = account.createdAt.getTime() - invitationWindowMs;
  return [
    db
      .update(auditLog)
      .set({ ipAddress: null, userAgent: null, details: sql`CASE WHEN instr(${auditLog.details}, '@') > 0 THEN '{}' ELSE ${auditLog.details} END` })
      .where(and(auditOf(account.id), due)),
    db
      .update(auditLog)
      .set({ details: sql`replace(${auditLog.details}, ${account.email}, '[erased]')` })
      .where(and(sql`${auditLog.createdAt} >= ${since}`, sql`instr(${auditLog.details}, ${account.email}) > 0`, due)),
    db.delete(invitations).where(and(sql`${invitations.email} IN ${addresses}`, due)),
    db.update(organizations).set({ billingEmail: null }).where(and(sql`${organizations.billingEmail} IN ${addresses}`, due)),
    forgetSsoSignInsOf(db, addresses, due),
    forgetUserWebhookEventsOf(db, account.id, due),
    db.delete(emailOutbox).where(and(or(eq(emailOutbox.userId, account.id), eq(emailOutbox.toAddress, account.email)), due)),
    db.delete(organizations).where(
      and(
        sql`${organizations.id} IN (SELECT organization_id FROM ${organizationMembers} WHERE user_id = ${account.id})`,
        sql`NOT EXISTS (SELECT 1 FROM ${organizationMembers} o WHERE o.organization_id = ${organizations.id} AND o.user_id <> ${account.id})`,
        due,
      ),
    ),
    db
      .delete(users)
      .where(and(eq(users.id, account.id), due))
      .returning({ id: users.id }),
  ] as const;
}
