import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { auditLog } from "../db/tables";
import type { RequestContext } from "../platform/context";
import { insertIf, rawStatement, type Db } from "../platform/db";
import { newId } from "../platform/ids";

/**
 * Every audited action is `<domain>.<event>` (`auth.login_failed`, `org.member_removed`, …): stable
 * strings that clients filter /admin/audit by. Each feature names its events where it writes them.
 */
export type AuditAction = `${"user" | "auth" | "mfa" | "api_key" | "org" | "admin" | "role" | "tender" | "alert" | "gdpr" | "favorite" | "saved_search" | "note"}.${string}`;

export interface AuditEntry {
  userId: string | null;
  action: AuditAction;
  details?: Record<string, unknown>;
  actorId?: string | null;
}

/**
 * An audit insert to put in the same `db.batch()` as the change it records, so the log can never
 * claim a change that did not happen, nor miss one that did.
 */
export function auditInsert(db: Db, ctx: AuditContext, entry: AuditEntry) {
  return db.insert(auditLog).values(auditRow(ctx, entry));
}

type AuditContext = Pick<RequestContext, "ip" | "userAgent" | "requestId" | "now"> & Partial<Pick<RequestContext, "correlationId">>;

function auditRow(ctx: AuditContext, entry: AuditEntry): typeof auditLog.$inferInsert {
  return {
    id: newId("aud", ctx.now.getTime()),
    userId: entry.userId,
    actorId: entry.actorId ?? entry.userId,
    action: entry.action,
    // The client's correlation id is recorded apart from our request id, never as it.
    details: ctx.correlationId ? { ...entry.details, correlation_id: ctx.correlationId } : (entry.details ?? {}),
    ipAddress: ctx.ip,
    userAgent: ctx.userAgent.slice(0, 512),
    requestId: ctx.requestId,
    createdAt: ctx.now,
  };
}

/**
 * Like `auditInsert`, but only writes when `condition` (an SQL boolean, e.g. `EXISTS (…)`) holds
 * at that point of the batch: for guarded changes whose audit row must not outlive a no-op.
 */
export function auditInsertIf(db: Db, ctx: AuditContext, entry: AuditEntry, condition: SQL) {
  return insertIf(db, auditLog, auditRow(ctx, entry), condition);
}

/**
 * An audit row as the user it is about sees it (/me/activity, /me/export): the IP address and
 * user agent are the actor's, so they are shown only on the user's own acts (actor = the user),
 * never those of an administrator or an organization owner who acted on them.
 */
export function asSeenBySubject<R extends { userId: string | null; actorId: string | null; ipAddress: string | null; userAgent: string | null }>(row: R): R {
  return row.actorId !== null && row.actorId === row.userId ? row : { ...row, ipAddress: null, userAgent: null };
}

/** A user's own audit trail, newest first, keyset-paginated by id (ids sort by time). */
export function listUserAudit(db: Db, userId: string, opts: { limit: number; before?: string }) {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.userId, userId), opts.before ? lt(auditLog.id, opts.before) : undefined))
    .orderBy(desc(auditLog.id))
    .limit(opts.limit + 1);
}

/**
 * One audit row per user of `userIds` (the same action, actor and details), as ONE statement
 * for a batch: the ids travel as one JSON array, so 500 users bind a handful of parameters.
 * A row is written only for a user that exists at that point of the batch (and for whom
 * `condition`, an SQL condition on the user id, holds: the guard of the change it records).
 */
export function auditInsertForUsers(db: Db, ctx: AuditContext, userIds: readonly string[], entry: Omit<AuditEntry, "userId">, condition?: (userId: SQL) => SQL) {
  const base = auditRow(ctx, { ...entry, userId: null });
  const pairs = JSON.stringify(userIds.map((id) => [newId("aud", ctx.now.getTime()), id]));
  return rawStatement(
    db,
    sql`INSERT INTO ${auditLog} (id, user_id, actor_id, action, details, ip_address, user_agent, request_id, created_at)
      SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${base.actorId}, ${base.action}, ${JSON.stringify(base.details)},
        ${base.ipAddress}, ${base.userAgent}, ${base.requestId}, ${ctx.now.getTime()}
      FROM json_each(${pairs}) j
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = json_extract(j.value, '$[1]'))${condition ? sql` AND ${condition(sql`json_extract(j.value, '$[1]')`)}` : sql``}`,
  );
}

/**
 * One audit row per listed user, each with its own details (same action and actor), as set-based
 * statements of at most 200 users each (one JSON parameter). Like `auditInsertForUsers`, a row is
 * written only for a user that exists at that point of the batch and for whom `condition` holds.
 */
export function auditInsertEach(
  db: Db,
  ctx: AuditContext,
  rows: readonly { userId: string; details: Record<string, unknown> }[],
  entry: { action: AuditAction; actorId: string },
  condition?: (userId: SQL) => SQL,
) {
  const base = auditRow(ctx, { ...entry, userId: null });
  const out = [];
  for (let i = 0; i < rows.length; i += 200) {
    const part = rows.slice(i, i + 200).map((r) => [newId("aud", ctx.now.getTime()), r.userId, ctx.correlationId ? { ...r.details, correlation_id: ctx.correlationId } : r.details]);
    out.push(
      rawStatement(
        db,
        sql`INSERT INTO ${auditLog} (id, user_id, actor_id, action, details, ip_address, user_agent, request_id, created_at)
          SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${base.actorId}, ${base.action}, json_extract(j.value, '$[2]'),
            ${base.ipAddress}, ${base.userAgent}, ${base.requestId}, ${ctx.now.getTime()}
          FROM json_each(${JSON.stringify(part)}) j
          WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = json_extract(j.value, '$[1]'))${condition ? sql` AND ${condition(sql`json_extract(j.value, '$[1]')`)}` : sql``}`,
      ),
    );
  }
  return out;
}
