import { and, desc, eq, gte, like, lt, or, sql, type SQL } from "drizzle-orm";
import { auditLog } from "../../db/tables";
import type { Db } from "../../platform/db";

export interface AuditFilter {
  userId?: string;
  /** An exact action, or a prefix when it ends with `*` (`auth.*`). */
  action?: string;
  since?: Date;
  until?: Date;
  /** Keyset position: the (created_at, id) of the last row of the previous page. */
  after?: { createdAt: number; id: string };
  limit: number;
}

/**
 * The audit log, newest first, keyset-paginated on (created_at, id): each filter has an index
 * that starts with it and continues with created_at (audit_log_user_idx, audit_log_action_idx,
 * audit_log_created_idx), so a page costs `limit` index steps however old the cursor is.
 */
export function listAudit(db: Db, f: AuditFilter) {
  const conds: (SQL | undefined)[] = [
    f.userId ? eq(auditLog.userId, f.userId) : undefined,
    f.action ? (f.action.endsWith("*") ? like(auditLog.action, `${f.action.slice(0, -1).replace(/[%_\\]/g, "\\$&")}%`) : eq(auditLog.action, f.action)) : undefined,
    f.since ? gte(auditLog.createdAt, f.since) : undefined,
    f.until ? lt(auditLog.createdAt, f.until) : undefined,
    f.after
      ? or(
          sql`${auditLog.createdAt} < ${f.after.createdAt}`,
          and(sql`${auditLog.createdAt} = ${f.after.createdAt}`, lt(auditLog.id, f.after.id)),
        )
      : undefined,
  ];
  return db
    .select()
    .from(auditLog)
    .where(and(...conds))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(f.limit + 1);
}
