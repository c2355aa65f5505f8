import { primaryDb } from "../../platform/db";
import type { RequestContext } from "../../platform/context";
import { IsolateCache } from "../../platform/isolate-cache";
import { toUserOut, type UserOut } from "./user.schema";
import { findUserById } from "./users.repo";

/**
 * Per-isolate cache of the public User view, the body of `GET /me` and the hottest read of
 * the API (web clients call it on every page load). Without it, every call pays a D1 round trip.
 *
 * Every committed change to a user row or its roles calls `userViewChanged`, so this isolate
 * never serves a stale view; other isolates may for at most USER_CACHE_SECONDS (default 5 s).
 * Authorization never reads this cache: status changes are enforced by the revocation markers
 * and sensitive routes read D1.
 */
const views = new IsolateCache<string, UserOut>();

export async function currentUserView(ctx: RequestContext, userId: string): Promise<UserOut | undefined> {
  const now = ctx.now.getTime();
  const hit = views.get(userId, now);
  if (hit) return hit;
  const row = await findUserById(primaryDb(ctx.env), userId, ctx.now); // cached: read the primary
  if (!row) {
    views.delete(userId);
    return undefined;
  }
  const view = toUserOut(row);
  views.set(userId, view, now, ctx.config.USER_CACHE_SECONDS * 1000);
  return view;
}

/** Call after a change to the user's row or roles has been committed. */
export function userViewChanged(userId: string): void {
  views.delete(userId);
}
