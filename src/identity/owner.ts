import type { ApiKeyActor, UserActor } from "./actor";

declare const owner: unique symbol;

/**
 * The user whose rows a query may touch. Only identity mints one: `ownerOf` from an authenticated
 * actor, or `systemOwner` where no actor exists and the caller states why. Every user-owned repo
 * takes an `Owner` instead of a bare id, so a repo cannot be scoped to a user nobody proved; the
 * architecture test forbids `as Owner` outside identity.
 */
export type Owner = string & { readonly [owner]: true };

/** The owner an authenticated person or API key acts as. */
export const ownerOf = (actor: UserActor | ApiKeyActor): Owner => actor.userId as Owner;

/**
 * Why code without an actor may act as a user:
 * - `cron`: a scheduled job working through every user's rows;
 * - `queue`: a queue consumer handling a message about one user;
 * - `token-link`: an emailed link whose signed or single-use token names the user (unsubscribe,
 *   verify, reset);
 * - `sign-in`: a credential just proven (password, second factor, refresh token) before any
 *   access token exists;
 * - `sign-up`: the account being created in the same batch;
 * - `admin`: an administrator acting on one user (reset-factors), every statement guarded by
 *   the superuser line (`targetGuard`).
 */
export type SystemReason = "cron" | "queue" | "token-link" | "sign-in" | "sign-up" | "admin";

/** The owner for `userId`, where no actor exists; `reason` says who vouched for the id. */
export const systemOwner = (userId: string, _reason: SystemReason): Owner => userId as Owner;
