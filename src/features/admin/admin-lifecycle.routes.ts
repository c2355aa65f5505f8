import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { UserSchema } from "../users/user.schema";
import { currentUserView, userViewChanged } from "../users/user-view-cache";
import { applyBulk, applyToOne } from "./admin-lifecycle.service";
import { BulkInput, BulkResult, MAX_BULK_IDS, UserIdParam, type LifecycleAction } from "./admin-users.schemas";
import { unlockUser } from "./admin-users.service";
import { AppError } from "../../platform/errors";

const tags = ["Administration"];
const auth = { session: true, permission: "admin:users" } as const;

const DESCRIPTIONS = {
  activate: "Sets the status to active (and cancels a pending account deletion); the user's tokens and API keys work again.",
  deactivate: "Sets the status to inactive and ends every session at once: access tokens, refresh tokens and API keys stop working immediately.",
  suspend: "Sets the status to suspended and ends every session at once: access tokens, refresh tokens and API keys stop working immediately.",
  unlock: "Clears the failed sign-in count and the lock of the account.",
} as const;

const lifecycleRoute = (action: keyof typeof DESCRIPTIONS) =>
  securedRoute(auth, {
    method: "post",
    path: `${API}/admin/users/{id}/${action}`,
    tags,
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} a user`,
    description: `${DESCRIPTIONS[action]} Administrators cannot act on their own account (403), and only a superuser acts on a superuser.`,
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(UserSchema, "The user"), ...problemResponses(404) },
  });

const bulkRoute = securedRoute(auth, {
  method: "post",
  path: `${API}/admin/users/bulk`,
  tags,
  summary: `Apply one action to up to ${MAX_BULK_IDS} users`,
  description:
    "Each id is reported: `succeeded`, or `failed` with `not_found` (unknown id; for remove_role also a role the user does not hold) or `forbidden` (the acting administrator itself, or a superuser when the actor is not one), or `conflict` (`delete` of the only owner of an organization that has other members: an organization is never left with members and no owner). These rules hold inside the statements, not only in a read before them. An id's change is never half-applied. `delete` deactivates at once and requests erasure after the grace period (the GDPR path); `assign_role`/`remove_role` also need `admin:roles`. One audit row per changed user.",
  request: jsonBody(BulkInput),
  responses: { 200: jsonResponse(BulkResult, "Outcome per id"), ...problemResponses(400, 413, 422) },
});

async function userOut(c: { var: { ctx: Parameters<typeof currentUserView>[0] } }, id: string) {
  const user = await currentUserView(c.var.ctx, id);
  if (!user) throw new AppError("not_found", "User not found");
  return user;
}

export function registerAdminLifecycle(app: App): void {
  for (const action of ["activate", "deactivate", "suspend"] as const satisfies LifecycleAction[]) {
    app.openapi(lifecycleRoute(action), async (c) => {
      const { id } = c.req.valid("param");
      await applyToOne(c.var.ctx, c.var.actor, action, id);
      return c.json(await userOut(c, id), 200);
    });
  }
  app.openapi(lifecycleRoute("unlock"), async (c) => {
    const { id } = c.req.valid("param");
    await unlockUser(c.var.ctx, c.var.actor, id);
    userViewChanged(id);
    return c.json(await userOut(c, id), 200);
  });
  app.openapi(bulkRoute, async (c) => c.json(await applyBulk(c.var.ctx, c.var.actor, c.req.valid("json")), 200));
}
