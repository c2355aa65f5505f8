import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { isUniqueViolation, runBatch } from "../../platform/db";
import { newId } from "../../platform/ids";
import { accessChanged, allAccessChanged, PERMISSIONS } from "../../identity/grants";
import { IMPLICIT_ROLE } from "../../identity/grants.repo";
import { auditInsert } from "../../audit/audit.repo";
import { userViewChanged } from "../users/user-view-cache";
import { applyBulk } from "./admin-lifecycle.service";
import { deleteRoleStatements, findAssignment, findRole, insertRoleStatements, listRoles, replacePermissionsStatements, type RoleRow } from "./admin-roles.repo";
import type { CreateRoleInput, RoleOut } from "./admin-roles.schemas";

export const toRoleOut = (r: RoleRow): RoleOut => ({
  name: r.name,
  description: r.description,
  is_builtin: r.isBuiltin,
  permissions: r.permissions,
  users: r.holders,
  created_at: r.createdAt.toISOString(),
});

const roleNotFound = () => new AppError("not_found", "Role not found");

/** The actor may only put permissions it holds itself on a role (no escalation through roles). */
function assertHolds(actor: UserActor, permissions: readonly string[]): void {
  const missing = permissions.filter((p) => !actor.access.permissions.has(p));
  if (missing.length) throw new AppError("forbidden", `You cannot grant permissions you do not hold: ${missing.join(", ")}`);
}

export async function listRolesAsAdmin(ctx: RequestContext): Promise<RoleOut[]> {
  return (await listRoles(ctx.db)).map(toRoleOut);
}

/** POST /admin/roles: a custom role with its permissions, one batch. 409 when the name is taken. */
export async function createRole(ctx: RequestContext, actor: UserActor, input: CreateRoleInput): Promise<RoleOut> {
  const { db, now } = ctx;
  assertHolds(actor, input.permissions);
  const id = newId("role", now.getTime());
  try {
    await runBatch(ctx, [
      ...insertRoleStatements(db, { id, name: input.name, description: input.description ?? null }, input.permissions, now),
      auditInsert(db, ctx, { userId: null, actorId: actor.userId, action: "role.created", details: { role: input.name, permissions: input.permissions } }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err, "roles.name")) throw new AppError("conflict", `A role named ${input.name} already exists`);
    throw err;
  }
  return toRoleOut((await findRole(db, input.name))!);
}

/**
 * PUT /admin/roles/{name}/permissions: replaces the set in one batch. Built-in rules:
 * - `superuser` holds every permission and can never lose one: a smaller set → 409 `conflict`;
 * - `user` is everyone's implicit role, so it can never carry an `admin:*` permission → 409;
 * - the actor can only grant permissions it holds (403).
 * Every holder's cached access is dropped in this isolate; other isolates follow within
 * ACCESS_CACHE_SECONDS.
 */
export async function replaceRolePermissions(ctx: RequestContext, actor: UserActor, name: string, permissions: string[]): Promise<RoleOut> {
  const { db } = ctx;
  const role = await findRole(db, name);
  if (!role) throw roleNotFound();
  if (role.name === "superuser" && PERMISSIONS.some((p) => !permissions.includes(p))) {
    throw new AppError("conflict", "The superuser role holds every permission; its grants cannot be weakened");
  }
  if (role.name === IMPLICIT_ROLE && permissions.some((p) => p.startsWith("admin:"))) {
    throw new AppError("conflict", "Every user holds the user role: it cannot carry admin:* permissions");
  }
  assertHolds(actor, permissions.filter((p) => !role.permissions.includes(p)));
  await runBatch(ctx, [
    ...replacePermissionsStatements(db, role.id, permissions),
    auditInsert(db, ctx, {
      userId: null,
      actorId: actor.userId,
      action: "role.permissions_changed",
      details: { role: role.name, before: role.permissions, after: permissions },
    }),
  ]);
  allAccessChanged();
  return toRoleOut((await findRole(db, name))!);
}

/** DELETE /admin/roles/{name}: a custom role and its assignments; built-in roles → 409 `conflict`. */
export async function deleteRole(ctx: RequestContext, actor: UserActor, name: string): Promise<void> {
  const { db } = ctx;
  const role = await findRole(db, name);
  if (!role) throw roleNotFound();
  if (role.isBuiltin) throw new AppError("conflict", `${role.name} is a built-in role and cannot be deleted`);
  const [holders] = await runBatch(ctx, [
    ...deleteRoleStatements(db, role.id),
    auditInsert(db, ctx, { userId: null, actorId: actor.userId, action: "role.deleted", details: { role: role.name, permissions: role.permissions } }),
  ]);
  for (const { userId } of holders as { userId: string }[]) {
    accessChanged(userId);
    userViewChanged(userId);
  }
}

/** POST /admin/users/{id}/roles: grants (or re-dates) a role; rules of `assignableRole`. */
export async function assignRoleToUser(ctx: RequestContext, actor: UserActor, userId: string, input: { role: string; expires_at?: string | null }) {
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  const result = await applyBulk(ctx, actor, { action: "assign_role", role: input.role, user_ids: [userId], expires_at: expiresAt });
  failOne(result.failed[0]?.code);
  const role = (await findRole(ctx.db, input.role))!;
  const row = await findAssignment(ctx.db, userId, role.id);
  if (!row) throw new AppError("not_found", "User not found");
  return {
    user_id: userId,
    role: role.name,
    granted_at: row.grantedAt.toISOString(),
    granted_by: row.grantedBy,
    expires_at: row.expiresAt?.toISOString() ?? null,
    active: row.expiresAt === null || row.expiresAt > ctx.now,
  };
}

/** DELETE /admin/users/{id}/roles/{role}: 404 for an unknown user or role, or a role not held. */
export async function removeRoleFromUser(ctx: RequestContext, actor: UserActor, userId: string, roleName: string): Promise<void> {
  if (!(await findRole(ctx.db, roleName))) throw roleNotFound();
  const result = await applyBulk(ctx, actor, { action: "remove_role", role: roleName, user_ids: [userId] });
  failOne(result.failed[0]?.code);
}

function failOne(code: "not_found" | "forbidden" | "conflict" | undefined): void {
  if (code === "not_found") throw new AppError("not_found", "User (or role assignment) not found");
  if (code === "forbidden") throw new AppError("forbidden", "Administrators cannot change their own roles, and only a superuser changes a superuser");
}
