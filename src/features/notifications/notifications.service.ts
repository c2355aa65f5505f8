import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext, ServiceContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { decodeCursor, toPage } from "../../platform/pagination";
import { notificationsRepo, purgeExpiredNotifications as purgeExpired } from "./notifications.repo";
import { toNotificationOut } from "./notifications.schemas";
import { pushUnreadCount } from "./live";

/** GET /me/notifications: newest first, expired ones hidden, with the unread count (one batch). */
export async function listNotifications(ctx: RequestContext, actor: Actor, q: { limit: number; cursor?: string; unread_only?: boolean }) {
  const repo = notificationsRepo(ctx.db, ownerOf(actor), ctx.now);
  const [rows, [unread]] = await ctx.db.batch([repo.list({ before: decodeCursor(q.cursor), limit: q.limit, unreadOnly: q.unread_only ?? false }), repo.unreadCount()]);
  return { ...toPage(rows, q.limit, (r) => r.id, toNotificationOut), unread_count: unread?.n ?? 0 };
}

/** POST /me/notifications/{id}/read: idempotent; 404 for another user's (or an expired) notification. */
export async function markNotificationRead(ctx: RequestContext, actor: Actor, id: string) {
  const repo = notificationsRepo(ctx.db, ownerOf(actor), ctx.now);
  const [updated, found] = await ctx.db.batch([repo.markRead(id), repo.exists(id)]);
  if (updated.length === 0 && found.length === 0) throw new AppError("not_found", "Notification not found");
  if (updated.length > 0) pushUnreadCount(ctx, actor.userId);
}

export async function markAllNotificationsRead(ctx: RequestContext, actor: Actor) {
  const done = await notificationsRepo(ctx.db, ownerOf(actor), ctx.now).markAllRead();
  if (done.meta.changes) pushUnreadCount(ctx, actor.userId);
}

/** Cron: deletes notifications past their expiry. Returns how many. */
export async function purgeExpiredNotifications(ctx: Pick<ServiceContext, "db" | "now">): Promise<number> {
  return (await purgeExpired(ctx.db, ctx.now)).meta.changes ?? 0;
}
