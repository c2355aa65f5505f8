import type { Actor } from "./actor";
import type { RequestContext } from "../platform/context";
import { AppError } from "../platform/errors";

/** The sentence every step-up route adds to its OpenAPI description. */
export const STEP_UP_NOTE =
  "Needs a recent authentication (REAUTH_MINUTES, from the access token's `auth_time`): otherwise 401 `reauthentication_required`; POST /auth/reauthenticate returns fresh tokens.";

/** Whether the actor's last proof of identity is within REAUTH_MINUTES. API keys never are: they cannot step up. */
export function hasRecentAuth(ctx: Pick<RequestContext, "config" | "now">, actor: Actor): boolean {
  if (actor.kind !== "user") return false;
  const ageSeconds = ctx.now.getTime() / 1000 - actor.authTime;
  return ageSeconds <= ctx.config.REAUTH_MINUTES * 60;
}

/**
 * Step-up for sensitive actions: throws 401 `reauthentication_required` unless the caller proved
 * who they are within REAUTH_MINUTES (a sign-in, or POST /auth/reauthenticate). A route that takes
 * a password or code in its body and got one does not call this: that proof is the authentication.
 */
export function requireRecentAuth(ctx: Pick<RequestContext, "config" | "now">, actor: Actor): void {
  if (!hasRecentAuth(ctx, actor)) {
    throw new AppError("reauthentication_required", "This action needs a recent sign-in: confirm it is you with POST /auth/reauthenticate, then retry");
  }
}
