import { and, desc, eq, lt, sql } from "drizzle-orm";
import { alertMatches, alerts, alertsVersion, tenders } from "../../db/schema";
import { insertIf, type Db } from "../../platform/db";
import type { TenderCriteria } from "./criteria.schema";

export type AlertRow = typeof alerts.$inferSelect;
export type AlertWrite = Pick<AlertRow, "name" | "description" | "criteria" | "notificationMethods" | "notificationFrequency" | "isActive">;

/**
 * Bumps the alerts version stamp (one row, id = 1). Put it in the same batch as every change to
 * alerts: the matching consumer rebuilds its compiled index when the stamp moved.
 */
export const bumpAlertsVersion = (db: Db) =>
  db
    .insert(alertsVersion)
    .values({ id: 1, version: 1 })
    .onConflictDoUpdate({ target: alertsVersion.id, set: { version: sql`${alertsVersion.version} + 1` } });

export const alertsVersionQuery = (db: Db) => db.select({ version: alertsVersion.version }).from(alertsVersion).where(eq(alertsVersion.id, 1));

/** Every active alert, for the compiled index (id, owner, criteria and how to notify). */
export const activeAlertsQuery = (db: Db) =>
  db
    .select({ id: alerts.id, userId: alerts.userId, criteria: alerts.criteria })
    .from(alerts)
    .where(eq(alerts.isActive, true));

/** One-click unsubscribe: removes "email" from the alert's notification methods (owner in the where). */
export const turnAlertEmailOff = (db: Db, userId: string, alertId: string, now: Date) =>
  db
    .update(alerts)
    .set({
      notificationMethods: sql`(SELECT json_group_array(value) FROM json_each(${alerts.notificationMethods}) WHERE value <> 'email')`,
      updatedAt: now,
    })
    .where(and(eq(alerts.userId, userId), eq(alerts.id, alertId)))
    .returning({ id: alerts.id });

/** Alerts of one user. Every query carries the owner. */
export function alertsRepo(db: Db, userId: string) {
  const mine = eq(alerts.userId, userId);
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
    exists: (id: string) => sql`EXISTS (SELECT 1 FROM ${alerts} WHERE ${alerts.id} = ${id} AND ${alerts.userId} = ${userId})`,
    list: (opts: { before?: string; limit: number }) =>
      db
        .select()
        .from(alerts)
        .where(and(mine, opts.before ? lt(alerts.id, opts.before) : undefined))
        .orderBy(desc(alerts.id))
        .limit(opts.limit + 1),
    update: (id: string, set: Partial<AlertWrite>, now: Date) =>
      db
        .update(alerts)
        .set({ ...set, updatedAt: now })
        .where(and(mine, eq(alerts.id, id)))
        .returning(),
    remove: (id: string) => db.delete(alerts).where(and(mine, eq(alerts.id, id))).returning({ id: alerts.id }),
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
