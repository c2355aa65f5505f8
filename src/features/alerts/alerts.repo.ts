import type { Owner } from "../../identity/owner";
import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { IfMatch } from "../../platform/etag";
import { alertMatches, alerts, alertsVersion, tenders } from "../../db/tables";
import { insertIf, rawStatement, type Db } from "../../platform/db";
import type { TenderCriteria } from "../tenders/criteria.schema";

export type AlertRow = typeof alerts.$inferSelect;
export type AlertWrite = Pick<AlertRow, "name" | "description" | "criteria" | "notificationMethods" | "notificationFrequency" | "isActive">;

/**
 * Bumps the alerts version stamp (one row, id = 1). Put it in the same batch as every change to
 * what the matching index reads (an alert's id, owner, criteria, is_active): the matching
 * consumer rebuilds its compiled index when the stamp moved.
 */
export const bumpAlertsVersion = (db: Db) =>
  db
    .insert(alertsVersion)
    .values({ id: 1, version: 1 })
    .onConflictDoUpdate({ target: alertsVersion.id, set: { version: sql`${alertsVersion.version} + 1` } });

/**
 * The bump, only when `condition` holds at that point of the batch (place it before the write it
 * guards, with the write's own condition): a write that changes nothing the index reads (a 404,
 * a rename) does not make every matching isolate rebuild its index.
 */
export const bumpAlertsVersionIf = (db: Db, condition: SQL) =>
  rawStatement(
    db,
    sql`INSERT INTO ${alertsVersion} (id, version) SELECT 1, 1 WHERE ${condition}
        ON CONFLICT (id) DO UPDATE SET version = ${alertsVersion.version} + 1`,
  );

/** The alert's email is on: active, with "email" among its methods (SQL over the stored row). */
const emailOnSql = (isActive: SQL | boolean, methods: SQL | readonly string[]) =>
  sql`(${typeof isActive === "boolean" ? sql.raw(isActive ? "1" : "0") : isActive} = 1 AND ${
    Array.isArray(methods) ? sql.raw(methods.includes("email") ? "1" : "0") : sql`EXISTS (SELECT 1 FROM json_each(${methods}) WHERE value = 'email')`
  })`;
const storedEmailOn = () => emailOnSql(sql`${alerts.isActive}`, sql`${alerts.notificationMethods}`);

export const alertsVersionQuery = (db: Db) => db.select({ version: alertsVersion.version }).from(alertsVersion).where(eq(alertsVersion.id, 1));

/** Every active alert, for the compiled index (id, owner, criteria and how to notify). */
export const activeAlertsQuery = (db: Db) =>
  db
    .select({ id: alerts.id, userId: alerts.userId, criteria: alerts.criteria })
    .from(alerts)
    .where(eq(alerts.isActive, true));


/** Alerts of one user. Every query carries the owner. */
/** ` AND updated_at IN (…)` under If-Match, else nothing. */
const atVersion = (ifMatch: IfMatch): SQL => (ifMatch ? sql` AND ${inArray(alerts.updatedAt, [...ifMatch])}` : sql``);

export function alertsRepo(db: Db, userId: Owner) {
  const mine = eq(alerts.userId, userId);
  const changesIndex = (id: string, set: Partial<AlertWrite>): SQL =>
    set.criteria !== undefined
      ? sql`EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${id} AND ${alerts.userId} = ${userId})`
      : set.isActive !== undefined
        ? sql`EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${id} AND ${alerts.userId} = ${userId} AND ${alerts.isActive} <> ${set.isActive ? 1 : 0})`
        : sql`0`;
  return {
    /** Inserts only while the user has fewer than `limit` alerts, in one statement (see saved searches). */
    insertWithinLimit: (row: AlertWrite & { id: string; now: Date }, limit: number) =>
      insertIf(
        db,
        alerts,
        {
          id: row.id,
          userId,
          name: row.name,
          description: row.description,
          criteria: row.criteria,
          notificationMethods: row.notificationMethods,
          notificationFrequency: row.notificationFrequency,
          isActive: row.isActive,
          totalMatches: 0,
          totalNotificationsSent: 0,
          createdAt: row.now,
          updatedAt: row.now,
        },
        sql`(SELECT count(*) FROM ${alerts} WHERE ${alerts.userId} = ${userId}) < ${limit}`,
      ),
    byId: (id: string) => db.select().from(alerts).where(and(mine, eq(alerts.id, id))),
    /** `ifMatch`: and it is at one of those versions (If-Match). */
    exists: (id: string, ifMatch?: IfMatch) =>
      sql`EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${id} AND ${alerts.userId} = ${userId}${atVersion(ifMatch)})`,
    /**
     * The alert exists and `set` changes what the matching index reads: criteria (given), or
     * is_active (different from the stored value). The condition of the version bump of a PATCH.
     */
    changesIndex: (id: string, set: Partial<AlertWrite>, ifMatch?: IfMatch) =>
      ifMatch
        ? sql`(${changesIndex(id, set)}) AND EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${id}${atVersion(ifMatch)})`
        : changesIndex(id, set),
    /** `ifMatch`: only at one of those versions, checked by the statement itself (If-Match). */
    update: (id: string, set: Partial<AlertWrite>, now: Date, ifMatch?: IfMatch) =>
      db
        .update(alerts)
        .set({
          ...set,
          emailResumedAt: sql`CASE WHEN ${emailOnSql(set.isActive ?? sql`${alerts.isActive}`, set.notificationMethods ?? sql`${alerts.notificationMethods}`)}
            AND NOT ${storedEmailOn()} THEN ${now.getTime()} ELSE ${alerts.emailResumedAt} END`,
          updatedAt: now,
        })
        .where(and(mine, eq(alerts.id, id), ifMatch ? inArray(alerts.updatedAt, [...ifMatch]) : undefined))
        .returning(),
    remove: (id: string, ifMatch?: IfMatch) =>
      db
        .delete(alerts)
        .where(and(mine, eq(alerts.id, id), ifMatch ? inArray(alerts.updatedAt, [...ifMatch]) : undefined))
        .returning({ id: alerts.id }),
    list: (opts: { before?: string; limit: number }) =>
      db
        .select()
        .from(alerts)
        .where(and(mine, opts.before ? lt(alerts.id, opts.before) : undefined))
        .orderBy(desc(alerts.id))
        .limit(opts.limit + 1),
    /** Matches of one of the user's alerts, newest first, with the tender. */
    matches: (alertId: string, opts: { before?: string; limit: number }) =>
      db
        .select({ match: alertMatches, tender: tenders })
        .from(alertMatches)
        .innerJoin(tenders, eq(tenders.id, alertMatches.tenderId))
        .where(and(eq(alertMatches.userId, userId), eq(alertMatches.alertId, alertId), opts.before ? lt(alertMatches.id, opts.before) : undefined))
        .orderBy(desc(alertMatches.id))
        .limit(opts.limit + 1),
  };
}

export type { TenderCriteria };
