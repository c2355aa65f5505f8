import { sql } from "drizzle-orm";
import { ownerOf } from "../../identity/owner";
import type { Actor, UserActor } from "../../identity/actor";
import { asSeenBySubject, listUserAudit } from "../../audit/audit.repo";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { decodeCursor, toPage } from "../../platform/pagination";
import { currentUserView, userViewChanged } from "./user-view-cache";
import { runBatch } from "../../platform/db";
import { webhookEvent } from "../webhooks/emit";
import { updateUserBasics } from "./users.repo";

/** GET /me: the signed-in user, as the API shows it. */
export async function getMe(ctx: RequestContext, actor: Actor) {
  const user = await currentUserView(ctx, actor.userId);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  return user;
}

/**
 * PATCH /me: name and phone; the user as it now is. The platform's `user.updated` (in the same
 * batch, only when the row was written) names the fields sent, with the new name; the phone's value stays out.
 */
export async function updateMe(ctx: RequestContext, actor: Actor, input: { full_name?: string; phone?: string | null }) {
  const patch: { fullName?: string; phone?: string | null } = {};
  if (input.full_name !== undefined) patch.fullName = input.full_name;
  if (input.phone !== undefined) patch.phone = input.phone;
  if (Object.keys(patch).length > 0) {
    const data = { id: actor.userId, fields: Object.keys(input).sort(), ...(input.full_name !== undefined ? { full_name: input.full_name } : {}) };
    await runBatch(ctx, [
      updateUserBasics(ctx.db, ownerOf(actor), patch, ctx.now),
      ...(await webhookEvent(ctx, { type: "user.updated", scope: "platform", data }, sql`changes() > 0`)),
    ]);
    userViewChanged(actor.userId);
  }
  return getMe(ctx, actor);
}

/** GET /me/activity: the user's own audit trail, newest first, as its subject sees it. */
export async function listMyActivity(ctx: RequestContext, actor: UserActor, q: { limit: number; cursor?: string }) {
  const rows = await listUserAudit(ctx.db, actor.userId, { limit: q.limit, before: decodeCursor(q.cursor) });
  return toPage(
    rows,
    q.limit,
    (r) => r.id,
    (row) => {
      const r = asSeenBySubject(row);
      return {
        id: r.id,
        action: r.action,
        details: r.details,
        ip_address: r.ipAddress,
        user_agent: r.userAgent,
        by_self: r.actorId === r.userId,
        created_at: r.createdAt.toISOString(),
      };
    },
  );
}
