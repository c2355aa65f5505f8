import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { AssignRoleInput, CreateRoleInput, ReplacePermissionsInput, RoleNameParam, RoleSchema, UserRoleParams } from "./admin-roles.schemas";
import { assignRoleToUser, createRole, deleteRole, listRolesAsAdmin, removeRoleFromUser, replaceRolePermissions } from "./admin-roles.service";
import { UserIdParam } from "./admin-users.schemas";

const tags = ["Administration"];
const auth = { session: true, permission: "admin:roles" } as const;

const listRoute = securedRoute(auth, {
  method: "get",
  path: `${API}/admin/roles`,
  tags,
  summary: "Roles with their permissions",
  responses: { 200: jsonResponse(z.object({ items: z.array(RoleSchema) }), "Every role"), ...problemResponses() },
});

const createRoleRoute = securedRoute(auth, {
  method: "post",
  path: `${API}/admin/roles`,
  tags,
  summary: "Create a role",
  description: "An unknown permission → 422; a taken name → 409; a permission the caller does not hold itself → 403.",
  request: jsonBody(CreateRoleInput),
  responses: { 201: jsonResponse(RoleSchema, "Created"), ...problemResponses(400, 409, 422) },
});

const replaceRoute = securedRoute(auth, {
  method: "put",
  path: `${API}/admin/roles/{name}/permissions`,
  tags,
  summary: "Replace a role's permissions",
  description:
    "Replaces the whole set atomically. `superuser` holds every permission and cannot lose one (409 `conflict`); the implicit `user` role cannot carry `admin:*` permissions (409); other built-in roles can be edited. A permission the caller does not hold itself → 403. Holders are affected at once in this isolate, elsewhere within ACCESS_CACHE_SECONDS.",
  request: { params: RoleNameParam, ...jsonBody(ReplacePermissionsInput) },
  responses: { 200: jsonResponse(RoleSchema, "The role"), ...problemResponses(400, 404, 409, 422) },
});

const deleteRoleRoute = securedRoute(auth, {
  method: "delete",
  path: `${API}/admin/roles/{name}`,
  tags,
  summary: "Delete a custom role (its assignments go with it)",
  description: "Built-in roles (user, moderator, admin, superuser) cannot be deleted: 409 `conflict`.",
  request: { params: RoleNameParam },
  responses: { 204: NoContent, ...problemResponses(404, 409) },
});

const AssignmentSchema = z
  .object({ user_id: z.string(), role: z.string(), granted_at: z.string(), granted_by: z.string().nullable(), expires_at: z.string().nullable(), active: z.boolean() })
  .openapi("UserRoleAssignment");

const assignRoute = securedRoute(auth, {
  method: "post",
  path: `${API}/admin/users/{id}/roles`,
  tags,
  summary: "Assign a role, optionally until expires_at",
  description:
    "Re-assigning a held role replaces its expiry. An expired role grants nothing (checked at every request, no job needed). Only a superuser grants `superuser`; nobody grants a role carrying a permission they do not hold, or to themselves (403). Unknown role → 422.",
  request: { params: UserIdParam, ...jsonBody(AssignRoleInput) },
  responses: { 201: jsonResponse(AssignmentSchema, "Assigned"), ...problemResponses(400, 404, 422) },
});

const unassignRoute = securedRoute(auth, {
  method: "delete",
  path: `${API}/admin/users/{id}/roles/{role}`,
  tags,
  summary: "Remove a role from a user",
  request: { params: UserRoleParams },
  responses: { 204: NoContent, ...problemResponses(404) },
});

export function registerAdminRoles(app: App): void {
  app.openapi(listRoute, async (c) => c.json({ items: await listRolesAsAdmin(c.var.ctx) }, 200));
  app.openapi(createRoleRoute, async (c) => c.json(await createRole(c.var.ctx, c.var.actor, c.req.valid("json")), 201));
  app.openapi(replaceRoute, async (c) =>
    c.json(await replaceRolePermissions(c.var.ctx, c.var.actor, c.req.valid("param").name, c.req.valid("json").permissions), 200),
  );
  app.openapi(deleteRoleRoute, async (c) => {
    await deleteRole(c.var.ctx, c.var.actor, c.req.valid("param").name);
    return c.body(null, 204);
  });
  app.openapi(assignRoute, async (c) => c.json(await assignRoleToUser(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json")), 201));
  app.openapi(unassignRoute, async (c) => {
    const { id, role } = c.req.valid("param");
    await removeRoleFromUser(c.var.ctx, c.var.actor, id, role);
    return c.body(null, 204);
  });
}
