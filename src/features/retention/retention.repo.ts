import { sql } from "drizzle-orm";
import { auditLog, notifications, tenderInteractions } from "../../db/tables";
import type { Db } from "../../platform/db";

// Each deletes at most `limit` rows created before `before`, oldest first, through the table's
// created_at index (one bounded statement; what is left waits for the next tick).

export const purgeOldNotifications = (db: Db, before: Date, limit: number) =>
  db.run(sql`DELETE FROM ${notifications} WHERE rowid IN (SELECT rowid FROM ${notifications} WHERE created_at < ${before.getTime()} ORDER BY created_at LIMIT ${limit})`);

export const purgeOldInteractions = (db: Db, before: Date, limit: number) =>
  db.run(sql`DELETE FROM ${tenderInteractions} WHERE rowid IN (SELECT rowid FROM ${tenderInteractions} WHERE created_at < ${before.getTime()} ORDER BY created_at LIMIT ${limit})`);

export const purgeOldAuditRows = (db: Db, before: Date, limit: number) =>
  db.run(sql`DELETE FROM ${auditLog} WHERE rowid IN (SELECT rowid FROM ${auditLog} WHERE created_at < ${before.getTime()} ORDER BY created_at LIMIT ${limit})`);
