import { and, desc, eq, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { organizationMembers, permissions, rolePermissions, userRoles, users, webhookDeliveries, webhookEndpoints, webhookEvents } from "../../db/tables";
import type { WebhookScope } from "../../db/tables/webhooks";
import { orgRolesFor } from "../../db/org-roles";
import { insertIf, insertSelectSql, rawSelect, rawStatement, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Whose endpoints a query may touch: built by the service from a proven actor or membership only. */
export type EndpointOwnerKey = { scope: "user"; userId: string } | { scope: "org"; orgId: string } | { scope: "platform" };

const ownerWhere = (o: EndpointOwnerKey): SQL =>
  o.scope === "user"
    ? and(eq(webhookEndpoints.scope, "user"), eq(webhookEndpoints.userId, o.userId))!
    : o.scope === "org"
      ? and(eq(webhookEndpoints.scope, "org"), eq(webhookEndpoints.orgId, o.orgId))!
      : eq(webhookEndpoints.scope, "platform");

/** An event to record with the change that causes it. */
export interface WebhookEventInput {
  type: string;
  scope: WebhookScope;
  userId?: string | null;
  orgId?: string | null;
  data: Record<string, unknown>;
}

export const webhooksRepo = (db: Db) => ({
  /** The insert of a new endpoint, written only while its owner has fewer than `max` (one guarded statement). */
  insertEndpoint(row: typeof webhookEndpoints.$inferInsert, owner: EndpointOwnerKey, max: number) {
    return insertIf(db, webhookEndpoints, row, sql`(SELECT count(*) FROM ${webhookEndpoints} WHERE ${ownerWhere(owner)}) < ${max}`);
  },

  list(owner: EndpointOwnerKey, limit: number, after?: string) {
    return db
      .select()
      .from(webhookEndpoints)
      .where(and(ownerWhere(owner), after ? lt(webhookEndpoints.id, after) : undefined))
      .orderBy(desc(webhookEndpoints.id))
      .limit(limit + 1);
  },

  async get(owner: EndpointOwnerKey, id: string): Promise<EndpointRow | undefined> {
    const [row] = await db.select().from(webhookEndpoints).where(and(ownerWhere(owner), eq(webhookEndpoints.id, id))).limit(1);
    return row;
  },

  async byId(id: string): Promise<EndpointRow | undefined> {
    const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
    return row;
  },

  async update(owner: EndpointOwnerKey, id: string, set: Partial<typeof webhookEndpoints.$inferInsert>): Promise<EndpointRow | undefined> {
    const [row] = await db.update(webhookEndpoints).set(set).where(and(ownerWhere(owner), eq(webhookEndpoints.id, id))).returning();
    return row;
  },

  async remove(owner: EndpointOwnerKey, id: string): Promise<boolean> {
    const rows = await db.delete(webhookEndpoints).where(and(ownerWhere(owner), eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  },

  /** Whether any enabled endpoint of this owner listens to `type` (emitters skip the outbox row when none does). */
  async anyListener(event: Pick<WebhookEventInput, "type" | "scope" | "userId" | "orgId">): Promise<boolean> {
    const [row] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(listenerWhere(event)))
      .limit(1);
    return !!row;
  },

  /**
   * The outbox statements of one event, for the batch of the change: the event row and one
   * pending delivery per enabled endpoint of its owner that listens to its type (INSERT … SELECT,
   * so the endpoints are those of the moment the batch commits). Delivery ids keep the event's
   * time prefix, so they sort by creation.
   */
  eventStatements(id: string, event: WebhookEventInput, now: Date, when?: SQL) {
    const row = eventRow(id, event, now);
    return [when ? insertIf(db, webhookEvents, row, when) : db.insert(webhookEvents).values(row), deliveriesStatement(db, id, event, now)];
  },

  /**
   * Like `eventStatements`, with no read before the batch: the event row (and so any delivery)
   * is written only when an enabled endpoint of its owner listens to its type at that point of
   * the batch (and `when` holds there). The first statement returns the event's id when it was
   * written (RETURNING, not `meta.changes`: right after an insert into `users`, whose FTS trigger
   * flushes in the next statement, `changes` counts the index's writes).
   */
  listenedEventStatements(id: string, event: WebhookEventInput, now: Date, when?: SQL) {
    const listened = sql`EXISTS (SELECT 1 FROM ${webhookEndpoints} WHERE ${listenerWhere(event)})`;
    const insert = insertSelectSql(webhookEvents, eventRow(id, event, now), when ? and(listened, when)! : listened);
    return [rawSelect<{ id: string }>(db, sql`${insert} RETURNING ${sql.identifier("id")}`), deliveriesStatement(db, id, event, now)] as const;
  },

  /** A test event (`webhook.test`) or a replay: the event row (when new) and one delivery to one endpoint. */
  singleDeliveryStatements(event: { id: string; isNew: WebhookEventInput | null }, endpointId: string, type: string, now: Date) {
    const deliveryId = newId("whd", now.getTime());
    return {
      deliveryId,
      statements: [
        ...(event.isNew
          ? [db.insert(webhookEvents).values({ id: event.id, type, scope: event.isNew.scope, userId: event.isNew.userId ?? null, orgId: event.isNew.orgId ?? null, data: event.isNew.data, createdAt: now })]
          : []),
        db.insert(webhookDeliveries).values({ id: deliveryId, eventId: event.id, endpointId, eventType: type, attempt: 0, status: "pending", nextAttemptAt: now, createdAt: now, updatedAt: now }),
      ] as const,
    };
  },

  deliveries(endpointId: string, limit: number, after?: string) {
    return db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, endpointId), after ? lt(webhookDeliveries.id, after) : undefined))
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit + 1);
  },

  async delivery(endpointId: string, id: string): Promise<DeliveryRow | undefined> {
    const [row] = await db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, id))).limit(1);
    return row;
  },

  deliveryIdsOfEvent(eventId: string) {
    return db.select({ id: webhookDeliveries.id, attempt: webhookDeliveries.attempt }).from(webhookDeliveries).where(and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.status, "pending")));
  },

  /**
   * Claims attempt `attempt + 1` of a delivery: one statement that succeeds only while the row
   * still has `attempt` attempts and is pending (or its earlier claim lapsed), so a redelivered
   * queue message, a cron relay and the delayed retry cannot send the same attempt twice.
   */
  async claim(id: string, attempt: number, now: Date, claimMs: number): Promise<DeliveryRow | undefined> {
    const [row] = await db
      .update(webhookDeliveries)
      .set({ attempt: sql`${webhookDeliveries.attempt} + 1`, status: "sending", claimedUntil: new Date(now.getTime() + claimMs), updatedAt: now })
      .where(
        and(
          eq(webhookDeliveries.id, id),
          eq(webhookDeliveries.attempt, attempt),
          or(eq(webhookDeliveries.status, "pending"), and(eq(webhookDeliveries.status, "sending"), lt(webhookDeliveries.claimedUntil, now))),
        ),
      )
      .returning();
    return row;
  },

  async event(id: string) {
    const [row] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id)).limit(1);
    return row;
  },

  /** The outcome of a claimed attempt. */
  recordAttempt(id: string, set: Pick<DeliveryRow, "status" | "responseStatus" | "durationMs" | "responseBody" | "nextAttemptAt">, now: Date) {
    return db.update(webhookDeliveries).set({ ...set, claimedUntil: null, updatedAt: now }).where(eq(webhookDeliveries.id, id));
  },

  /** A success ends the endpoint's run of failures. */
  clearFailing(endpointId: string) {
    return db.update(webhookEndpoints).set({ failingSince: null }).where(and(eq(webhookEndpoints.id, endpointId), sql`${webhookEndpoints.failingSince} IS NOT NULL`));
  },

  /** A failure starts the run of failures (when none is running); returns the endpoint as it now is. */
  async markFailing(endpointId: string, now: Date): Promise<EndpointRow | undefined> {
    const [row] = await db
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.getTime()})` })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning();
    return row;
  },

  /** Disables an endpoint that has failed since before `since`; true when this call disabled it (one statement: emails go out once). */
  async disableFailing(endpointId: string, since: Date, now: Date): Promise<boolean> {
    const rows = await db
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: "failing", updatedAt: now })
      .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.enabled, true), lt(webhookEndpoints.failingSince, since)))
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  },

  /** Pending deliveries of a disabled or deleted endpoint end as failed (nothing is sent to it). */
  failUndeliverable(id: string, now: Date, reason: string) {
    return db.update(webhookDeliveries).set({ status: "failed", claimedUntil: null, nextAttemptAt: null, responseBody: reason, updatedAt: now }).where(eq(webhookDeliveries.id, id));
  },

  /** Deliveries due by `before` (retries the queue could not delay that long, lost sends, lapsed claims), oldest first. */
  due(before: Date, limit: number) {
    return db
      .select({ id: webhookDeliveries.id, attempt: webhookDeliveries.attempt })
      .from(webhookDeliveries)
      .where(
        or(
          and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.nextAttemptAt, before)),
          and(eq(webhookDeliveries.status, "sending"), lt(webhookDeliveries.claimedUntil, before)),
        ),
      )
      .orderBy(webhookDeliveries.nextAttemptAt)
      .limit(limit);
  },

  /** Retention: events (and, by cascade, their deliveries) older than `before` with nothing still pending; returns how many went. */
  async purgeEventsBefore(before: Date): Promise<number> {
    const res = await db.run(
      sql`DELETE FROM ${webhookEvents} WHERE ${webhookEvents.createdAt} < ${before.getTime()}
          AND NOT EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.event_id = ${webhookEvents.id} AND d.status IN ('pending', 'sending'))`,
    );
    return res.meta.changes ?? 0;
  },

  /** Who is told when an endpoint is disabled: the user; an organization's owners and admins; the holders of admin:system. */
  async ownersToEmail(endpoint: EndpointRow, now: Date): Promise<{ id: string; email: string; fullName: string }[]> {
    const cols = { id: users.id, email: users.email, fullName: users.fullName };
    if (endpoint.scope === "user" && endpoint.userId) return db.select(cols).from(users).where(and(eq(users.id, endpoint.userId), eq(users.status, "active")));
    if (endpoint.scope === "org" && endpoint.orgId) {
      return db
        .select(cols)
        .from(organizationMembers)
        .innerJoin(users, eq(users.id, organizationMembers.userId))
        .where(and(eq(organizationMembers.organizationId, endpoint.orgId), inArray(organizationMembers.role, [...orgRolesFor("webhooks.manage")]), eq(users.status, "active")));
    }
    return db
      .selectDistinct(cols)
      .from(userRoles)
      .innerJoin(rolePermissions, eq(rolePermissions.roleId, userRoles.roleId))
      .innerJoin(permissions, eq(permissions.id, rolePermissions.permissionId))
      .innerJoin(users, eq(users.id, userRoles.userId))
      .where(and(eq(permissions.name, "admin:system"), or(isNull(userRoles.expiresAt), sql`${userRoles.expiresAt} > ${now.getTime()}`), eq(users.status, "active")))
      .limit(50);
  },
});

/** A webhook event's row. */
const eventRow = (id: string, event: WebhookEventInput, now: Date) =>
  ({ id, type: event.type, scope: event.scope, userId: event.userId ?? null, orgId: event.orgId ?? null, data: event.data, createdAt: now }) satisfies typeof webhookEvents.$inferInsert;

/** One pending delivery per enabled endpoint that listens to the event, if the event row exists at that point of the batch. */
const deliveriesStatement = (db: Db, id: string, event: WebhookEventInput, now: Date) =>
  rawStatement(
    db,
    sql`INSERT INTO ${webhookDeliveries} (id, event_id, endpoint_id, event_type, attempt, status, next_attempt_at, created_at, updated_at)
        SELECT 'whd_' || substr(${id}, 5, 10) || lower(hex(randomblob(8))), ${id}, ${webhookEndpoints.id}, ${event.type}, 0, 'pending', ${now.getTime()}, ${now.getTime()}, ${now.getTime()}
        FROM ${webhookEndpoints} WHERE ${listenerWhere(event)} AND EXISTS (SELECT 1 FROM ${webhookEvents} WHERE ${webhookEvents.id} = ${id})`,
  );

/** Enabled endpoints of the event's owner whose `events` list holds its type. */
function listenerWhere(event: Pick<WebhookEventInput, "type" | "scope" | "userId" | "orgId">): SQL {
  const owner =
    event.scope === "user"
      ? eq(webhookEndpoints.userId, event.userId ?? "")
      : event.scope === "org"
        ? eq(webhookEndpoints.orgId, event.orgId ?? "")
        : sql`1 = 1`;
  return and(
    eq(webhookEndpoints.scope, event.scope),
    owner,
    eq(webhookEndpoints.enabled, true),
    sql`EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.events}) WHERE value = ${event.type})`,
  )!;
}
