import type { RequestContext } from "../../platform/context";
import { toUserOut, type UserOut } from "./user.public";
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
const views = new Map<string, { view: UserOut; until: number }>();
const MAX_ENTRIES = 10_000;

export async function currentUserView(ctx: RequestContext, userId: string): Promise<UserOut | undefined> {
  const now = ctx.now.getTime();
  const hit = views.get(userId);
  if (hit && hit.until > now) return hit.view;
  const row = await findUserById(ctx.db, userId, ctx.now);
  if (!row) {
    views.delete(userId);
    return undefined;
  }
  const view = toUserOut(row);
  const ttl = ctx.config.USER_CACHE_SECONDS * 1000;
  if (ttl > 0) {
    if (views.size >= MAX_ENTRIES) views.clear();
    views.set(userId, { view, until: now + ttl });
  }
  return view;
}

/** Call after a change to the user's row or roles has been committed. */
export function userViewChanged(userId: string): void {
  views.delete(userId);
}
