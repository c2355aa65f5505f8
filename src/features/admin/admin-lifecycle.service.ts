import { runBatch, type Statement } from "../../platform/db";
import type { UserActor } from "../../identity/actor";
import { sql } from "drizzle-orm";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { publishRevokedSessions, publishUserBlocked } from "../../platform/revocation";
import { closeStreamsOf } from "../../platform/notification-hub";
import { accessChanged, hasPermission } from "../../identity/grants";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";
import { auditInsertForUsers, type AuditAction } from "../../audit/audit.repo";
import { userViewChanged } from "../users/user-view-cache";
import { webhookEvent } from "../webhooks/emit";
import type { UserStatus } from "../../db/tables";
import {
  assignRoleTo,
  loadTargets,
  mayActOn,
  removeRoleFrom,
  soleOwnerWithMembers,
  type TargetGuard,
  type TargetRow,
} from "./admin-lifecycle.repo";
import { findRole, type RoleRow } from "./admin-roles.repo";
import { setStatuses } from "../users/users.repo";
import { revokeSessionsOf } from "../sessions/sessions.repo";
import { revokeApiKeysOf } from "../api-keys/api-keys.repo";
import type { BulkInput, BulkResult, LifecycleAction } from "./admin-users.schemas";

const STATUS_OF: Record<LifecycleAction, UserStatus> = { activate: "active", deactivate: "inactive", suspend: "suspended", delete: "inactive" };
const AUDIT_OF: Record<LifecycleAction, AuditAction> = {
  activate: "admin.user_activated",
  deactivate: "admin.user_deactivated",
  suspend: "admin.user_suspended",
  delete: "admin.user_deletion_requested",
};

export const isSuperuserActor = (actor: UserActor) => actor.access.roles.includes("superuser");

/** The SQL form of "the actor may act on this user" (not itself; a superuser only as a superuser), for every statement of an admin change. */
export const targetGuard = (ctx: RequestContext, actor: UserActor): TargetGuard => mayActOn({ userId: actor.userId, isSuperuser: isSuperuserActor(actor) }, ctx.now);

/** Why the actor may not act on a target it read (null: it may), in the order a client can fix them. */
export function refusal(actor: UserActor, action: BulkInput["action"], t: TargetRow | undefined): BulkResult["failed"][number]["code"] | null {
  if (!t) return "not_found";
  if (t.id === actor.userId || (t.isSuperuser && !isSuperuserActor(actor))) return "forbidden";
  if (action === "delete" && t.soleOwner) return "conflict";
  if (action === "remove_role" && !t.hasRole) return "not_found";
  return null;
}
/**
 * Publishes sessions that a batch ended to the edge (KV markers), so their access tokens stop
 * working everywhere. Only a session used within one access-token lifetime can still have a live
 * access token (tokens are minted at login and refresh, which both set last_used_at): those only.
 */
export async function publishEndedSessions(ctx: RequestContext, ended: readonly { id: string; lastUsedAt: Date; userId?: string }[]): Promise<void> {
  const horizon = ctx.now.getTime() - ctx.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
  const recent = ended.filter((s) => s.lastUsedAt.getTime() >= horizon).map((s) => s.id);
  if (recent.length) await publishRevokedSessions(ctx.env, ctx.config, recent, ctx.now.getTime());
  // A notification stream outlives its session's last refresh: every ended session's streams close.
  ctx.waitUntil(closeStreamsOf(ctx.env, ctx.config, ended, ctx.now.getTime()));
}

/**
 * The statements of a status change for `ids` (all set-based, for one batch) and what to publish
 * once it committed. Deactivate, suspend and delete end every session in D1; after the commit,
 * the user marker (`publishUserBlocked`) makes every access token AND API key of the user fail at
 * once, and the revoked sessions are published so their tokens stay dead after a reactivation.
 * The first statement returns the ids that were changed. Every statement is guarded in SQL by
 * the superuser line (`targetGuard`) and, for delete, by the last-owner rule: a user who alone
 * owns an organization with other members is not deleted (nor its sessions or keys touched).
 */
export function statusChangePlan(ctx: RequestContext, actor: UserActor, action: LifecycleAction, ids: readonly string[], details: Record<string, unknown> = {}) {
  const { db, now } = ctx;
  const idsJson = JSON.stringify(ids);
  const status = STATUS_OF[action];
  const blocks = status !== "active";
  const allowed = targetGuard(ctx, actor);
  const guard: TargetGuard = action === "delete" ? (id) => sql`(${allowed(id)} AND NOT ${soleOwnerWithMembers(id)})` : allowed;
  const statements: Statement[] = [
    setStatuses(db, idsJson, status, { requestDeletion: action === "delete", guard }, now),
    auditInsertForUsers(db, ctx, ids, { action: AUDIT_OF[action], actorId: actor.userId, details: { ...details, status } }, guard),
  ];
  if (blocks) statements.push(revokeSessionsOf(db, idsJson, `admin_${action}`, now, guard));
  if (action === "delete") statements.push(revokeApiKeysOf(db, idsJson, now, guard));
  return {
    statements,
    /** Run after the batch committed, with its results (the plan's statements at `offset`). */
    async publish(results: readonly unknown[], offset: number) {
      const changed = (results[offset] as { id: string }[]).map((r) => r.id);
      const sessionsEnded = blocks ? (results[offset + 2] as { id: string; lastUsedAt: Date }[]) : [];
      await Promise.all([...changed.map((id) => publishUserBlocked(ctx.env, id, blocks ? status : null)), publishEndedSessions(ctx, sessionsEnded)]);
      for (const id of changed) {
        accessChanged(id);
        userViewChanged(id);
      }
      return changed;
    },
  };
}

/**
 * The platform webhook events of a lifecycle change, for the batch BEFORE `statusChangePlan`'s
 * statements: per user, written only when the plan's guard lets the change through AND it really
 * changes something (suspend: not suspended yet → `user.suspended`; delete: no deletion requested
 * yet → `user.deleted`, data `{id}` only; activate / deactivate: another status → `user.updated`
 * with the new status). One listener read for all ids (the platform's endpoints are the same for each).
 */
async function lifecycleEvents(ctx: RequestContext, actor: UserActor, action: LifecycleAction, ids: readonly string[]): Promise<Statement[]> {
  const allowed = targetGuard(ctx, actor);
  const status = STATUS_OF[action];
  const type = action === "suspend" ? "user.suspended" : action === "delete" ? "user.deleted" : "user.updated";
  const out: Statement[] = [];
  for (const id of ids) {
    const guard = action === "delete" ? sql`(${allowed(id)} AND NOT ${soleOwnerWithMembers(id)})` : allowed(id);
    const changes =
      action === "delete"
        ? sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${id} AND u.deletion_requested_at IS NULL)`
        : sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${id} AND u.status <> ${status})`;
    const data = action === "delete" ? { id } : action === "suspend" ? { id, status } : { id, fields: ["status"], status };
    const stmts = await webhookEvent(ctx, { type, scope: "platform", data }, sql`(${guard} AND ${changes})`);
    if (stmts.length === 0) break;
    out.push(...stmts);
  }
  return out;
}

/**
 * A role that the actor may hand out or take away: it exists, is not the implicit `user` role,
 * `superuser` only by a superuser, and only roles whose permissions the actor holds itself (an
 * administrator cannot grant more than it has). 422 for an unknown role, 403 otherwise.
 */
export async function assignableRole(ctx: RequestContext, actor: UserActor, name: string): Promise<RoleRow> {
  if (!(await hasPermission(ctx, actor, "admin:roles"))) throw new AppError("forbidden", "This needs the admin:roles permission");
  const role = await findRole(ctx.db, name);
  if (!role) throw new AppError("validation_failed", `Unknown role ${name}`, { errors: [{ path: "role", message: "Unknown role" }] });
  if (role.name === IMPLICIT_ROLE) {
    throw new AppError("validation_failed", "Every user holds the user role implicitly", { errors: [{ path: "role", message: "Implicit role" }] });
  }
  if (role.name === "superuser" && !isSuperuserActor(actor)) throw new AppError("forbidden", "Only a superuser may grant or remove the superuser role");
  const missing = role.permissions.filter((p) => !actor.access.permissions.has(p));
  if (missing.length) throw new AppError("forbidden", `You cannot hand out permissions you do not hold: ${missing.join(", ")}`);
  return role;
}

/**
 * POST /admin/users/bulk, and the single-user lifecycle and role routes (one id). Each id is
 * reported as succeeded or failed (`not_found`: unknown id, or for remove_role a role it does not
 * hold; `forbidden`: the acting administrator itself, or a superuser when the actor is not one;
 * `conflict`: delete of the only owner of an organization with other members). The pre-read only
 * picks the failure codes: the rules hold in the statements themselves. The change of all
 * eligible ids is one batch of set-based statements over a JSON id list, so no id is ever
 * half-changed. One audit row per changed user, with the acting administrator.
 */
export async function applyBulk(ctx: RequestContext, actor: UserActor, input: BulkInput & { expires_at?: Date | null }): Promise<BulkResult> {
  const { db, now } = ctx;
  const ids = [...new Set(input.user_ids)];
  const roleAction = input.action === "assign_role" || input.action === "remove_role";
  const role = roleAction ? await assignableRole(ctx, actor, input.role!) : null;
  const targets = new Map((await loadTargets(db, JSON.stringify(ids), now, role?.name ?? null)).map((t) => [t.id, t]));
  const failed: BulkResult["failed"] = [];
  const eligible: string[] = [];
  for (const id of ids) {
    const code = refusal(actor, input.action, targets.get(id));
    if (code) failed.push({ id, code });
    else eligible.push(id);
  }
  if (eligible.length === 0) return { succeeded: [], failed };

  let succeeded: string[];
  if (role) {
    const assign = input.action === "assign_role";
    const expiresAt = input.expires_at ?? null;
    const guard = targetGuard(ctx, actor);
    const change = assign
      ? assignRoleTo(db, JSON.stringify(eligible.map((id) => [newId("uro", now.getTime()), id])), role.id, actor.userId, expiresAt, now, guard)
      : removeRoleFrom(db, JSON.stringify(eligible), role.id, guard);
    const audit = auditInsertForUsers(
      db,
      ctx,
      eligible,
      {
        action: assign ? "role.assigned" : "role.removed",
        actorId: actor.userId,
        details: { role: role.name, ...(assign ? { expires_at: expiresAt?.toISOString() ?? null } : {}) },
      },
      // On removal the audit row goes first, so it also needs the role to be there to remove.
      assign ? guard : (id) => sql`(${guard(id)} AND EXISTS (SELECT 1 FROM user_roles ar WHERE ar.user_id = ${id} AND ar.role_id = ${role.id}))`,
    );
    // The audit row goes first on removal (the user still holds the role then), after on grant.
    const results = await runBatch(ctx, assign ? [change, audit] : [audit, change]);
    succeeded = (results[assign ? 0 : 1] as { userId: string }[]).map((r) => r.userId);
    for (const id of succeeded) {
      accessChanged(id);
      userViewChanged(id);
    }
  } else {
    const plan = statusChangePlan(ctx, actor, input.action as LifecycleAction, eligible, { bulk: ids.length > 1 });
    const events = await lifecycleEvents(ctx, actor, input.action as LifecycleAction, eligible);
    succeeded = await plan.publish(await runBatch(ctx, [...events, ...plan.statements]), events.length);
  }
  const done = new Set(succeeded);
  const missed = eligible.filter((id) => !done.has(id));
  if (missed.length) {
    // Changed between the pre-read and the batch (made a superuser, became a sole owner, gone):
    // the guarded statements left them alone; read again to say why.
    const now2 = new Map((await loadTargets(db, JSON.stringify(missed), now, role?.name ?? null)).map((t) => [t.id, t]));
    for (const id of missed) failed.push({ id, code: refusal(actor, input.action, now2.get(id)) ?? "not_found" });
  }
  return { succeeded: ids.filter((id) => done.has(id)), failed };
}

/** A lifecycle route on one user: 404 for an unknown id, 403 for oneself or a superuser target, 409 for a delete that would strand an organization. */
export async function applyToOne(ctx: RequestContext, actor: UserActor, action: LifecycleAction, id: string): Promise<void> {
  const result = await applyBulk(ctx, actor, { action, user_ids: [id] });
  const failure = result.failed[0];
  if (failure?.code === "not_found") throw new AppError("not_found", "User not found");
  if (failure?.code === "conflict") throw new AppError("conflict", "This user is the last owner of an organization with other members: make another member owner first");
  if (failure) throw new AppError("forbidden", "Administrators cannot change their own account, and only a superuser changes a superuser");
}
