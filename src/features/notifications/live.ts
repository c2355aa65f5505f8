/**
 * Live notifications (issue 18.2): after notifications were written, each user's hub
 * (durable-objects/notification-hub.ts) pushes them to that user's open WebSockets:
 *   {"type":"notification","notification":{…as in GET /me/notifications}}  then
 *   {"type":"unread_count","count":n}
 * Every insert site calls `pushNewNotifications` once its batch committed; mark-read calls
 * `pushUnreadCount`. The push runs after the response (waitUntil) and never fails the caller:
 * a client that misses one reads GET /me/notifications when it reconnects. Rows are grouped by
 * user, so a batch costs one D1 round trip and one hub call per user (a hub with no socket answers at once).
 */
import { detached, type ServiceContext } from "../../platform/context";
import { log as rootLog } from "../../platform/log";
import { hubOf } from "../../platform/notification-hub";
import { liveRepo } from "./live.repo";
import { toNotificationOut } from "./notifications.schemas";

/** The matching code passes a DeliveryContext (no logger, no waitUntil): the push then runs detached. */
type LiveContext = Pick<ServiceContext, "db" | "env" | "now"> & Partial<Pick<ServiceContext, "log" | "waitUntil">>;

const later = (ctx: LiveContext, what: string, work: Promise<void>) =>
  (ctx.waitUntil ?? detached)(work.catch((err: unknown) => (ctx.log ?? rootLog).warn(what, {}, err)));

/** Hub calls at once, at most (a matching run can reach many users). */
const PARALLEL_HUBS = 50;

export const unreadCountMessage = (count: number) => JSON.stringify({ type: "unread_count", count });

/** The notifications `ids` (those that exist: pass every id a batch may have inserted) reach their users' open sockets. */
export function pushNewNotifications(ctx: LiveContext, ids: readonly string[]): void {
  if (ids.length === 0) return;
  later(ctx, "live notification push failed", pushNow(ctx, ids));
}

/** The user's unread count reaches their open sockets (after mark-read). */
export function pushUnreadCount(ctx: LiveContext, userId: string): void {
  later(
    ctx,
    "live unread count push failed",
    (async () => {
      const [row] = await liveRepo(ctx.db, ctx.now).unreadCount(userId);
      await hubOf(ctx.env, userId).push([unreadCountMessage(row?.n ?? 0)]);
    })(),
  );
}

/** The push itself, awaited (exported for tests). */
export async function pushNow(ctx: LiveContext, ids: readonly string[]): Promise<void> {
  const repo = liveRepo(ctx.db, ctx.now);
  const [rows, unread] = await ctx.db.batch([repo.byIds(ids), repo.unreadCountsOfOwners(ids)]);
  if (rows.length === 0) return;
  const byUser = new Map<string, string[]>();
  for (const r of rows) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), JSON.stringify({ type: "notification", notification: toNotificationOut(r) })]);
  const counts = new Map(unread.map((c) => [c.userId, c.n]));
  const users = [...byUser];
  for (let i = 0; i < users.length; i += PARALLEL_HUBS) {
    await Promise.all(users.slice(i, i + PARALLEL_HUBS).map(([userId, messages]) => hubOf(ctx.env, userId).push([...messages, unreadCountMessage(counts.get(userId) ?? 0)])));
  }
}
