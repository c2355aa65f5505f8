import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { AdminUserPage, AdminUserSearchQuery, AdminUserView, CreateUserInput, UpdateUserInput, UserIdParam } from "./admin-users.schemas";
import { adminUserView, createUserAsAdmin, resendInvite, searchUsersAsAdmin, updateUserAsAdmin } from "./admin-users.service";

const tags = ["Administration"];
const auth = { session: true, permission: "admin:users" } as const;

const searchRoute = securedRoute(auth, {
  method: "get",
  path: `${API}/admin/users`,
  tags,
  summary: "Search users",
  description:
    "Filters combine with AND. `q` matches any part of the email or full name (case-insensitive) through a trigram index and needs at least 3 characters (shorter → 422). Newest first unless `sort` says otherwise; `page` counts from 1.",
  request: { query: AdminUserSearchQuery },
  responses: { 200: jsonResponse(AdminUserPage, "One page of users and the total"), ...problemResponses(422) },
});

const getRoute = securedRoute(auth, {
  method: "get",
  path: `${API}/admin/users/{id}`,
  tags,
  summary: "Full admin view of a user (no secrets)",
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(AdminUserView, "The user"), ...problemResponses(404) },
});

const createRouteDef = securedRoute(auth, {
  method: "post",
  path: `${API}/admin/users`,
  tags,
  summary: "Create a user",
  description:
    "With `password`: checked against the password policy (422 `weak_password`). Without: the user cannot sign in with any password and is emailed a single-use link (`/reset-password?token=…`, accepted by POST /auth/password/reset) to set one; setting it also verifies the email.",
  request: jsonBody(CreateUserInput),
  responses: { 201: jsonResponse(AdminUserView, "Created"), ...problemResponses(400, 409, 422) },
});

const patchRoute = securedRoute(auth, {
  method: "patch",
  path: `${API}/admin/users/{id}`,
  tags,
  summary: "Update status, account type, name or email verification",
  description: "A status change acts like the matching lifecycle route. Administrators cannot change their own account here (403), and only a superuser changes a superuser.",
  request: { params: UserIdParam, ...jsonBody(UpdateUserInput) },
  responses: { 200: jsonResponse(AdminUserView, "The updated user"), ...problemResponses(400, 404, 422) },
});

const resendInviteRoute = securedRoute(auth, {
  method: "post",
  path: `${API}/admin/users/{id}/resend-invite`,
  tags,
  summary: "Email a new set-password link to a user created without a password",
  request: { params: UserIdParam },
  responses: { 202: jsonResponse(z.object({ status: z.literal("sent") }), "Sent"), ...problemResponses(404, 409) },
});

export function registerAdminUsers(app: App): void {
  app.openapi(searchRoute, async (c) => c.json(await searchUsersAsAdmin(c.var.ctx, c.req.valid("query")), 200));
  app.openapi(getRoute, async (c) => c.json(await adminUserView(c.var.ctx, c.req.valid("param").id), 200));
  app.openapi(createRouteDef, async (c) => {
    const id = await createUserAsAdmin(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.json(await adminUserView(c.var.ctx, id), 201);
  });
  app.openapi(patchRoute, async (c) => {
    const { id } = c.req.valid("param");
    await updateUserAsAdmin(c.var.ctx, c.var.actor, id, c.req.valid("json"));
    return c.json(await adminUserView(c.var.ctx, id), 200);
  });
  app.openapi(resendInviteRoute, async (c) => {
    await resendInvite(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.json({ status: "sent" as const }, 202);
  });
}
