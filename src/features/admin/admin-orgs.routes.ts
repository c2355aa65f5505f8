import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { adminGetOrg, adminListOrgMembers, adminListOrgs, adminUpdateOrgSubscription } from "../orgs/orgs.admin.service";
import { AdminOrgPage, AdminOrgQuery, AdminOrgSchema, AdminUpdateOrgInput, MemberPage, OrgSchema } from "../orgs/orgs.schemas";

const tags = ["Administration"];

// Organizations, for administrators (the verbs are the orgs feature's: orgs.admin.service.ts). Like the rest of /admin, these need the admin:users permission (the `admin` and `superuser` roles).

const listRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "get",
  path: `${API}/admin/orgs`,
  tags,
  summary: "Every organization, with its member count",
  request: { query: AdminOrgQuery },
  responses: { 200: jsonResponse(AdminOrgPage, "Organizations"), ...problemResponses(422) },
});

const getRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "get",
  path: `${API}/admin/orgs/{id}`,
  tags,
  summary: "One organization, with its member count",
  request: { params: IdParam },
  responses: { 200: jsonResponse(AdminOrgSchema, "The organization"), ...problemResponses(404, 422) },
});

const membersRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "get",
  path: `${API}/admin/orgs/{id}/members`,
  tags,
  summary: "An organization's members, for administrators who are not members",
  request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(25), cursor: z.string().max(200).optional() }) },
  responses: { 200: jsonResponse(MemberPage, "Members, by user id"), ...problemResponses(404, 422) },
});

const updateRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "patch",
  path: `${API}/admin/orgs/{id}`,
  tags,
  summary: "Change an organization's subscription; its limits follow the plan (PLAN_LIMITS)",
  request: { params: IdParam, ...jsonBody(AdminUpdateOrgInput) },
  responses: { 200: jsonResponse(OrgSchema, "Updated"), ...problemResponses(400, 404, 413, 422) },
});

export function registerAdminOrgs(app: App): void {
  app.openapi(listRoute, async (c) => c.json(await adminListOrgs(c.var.ctx, c.req.valid("query")), 200));
  app.openapi(getRoute, async (c) => c.json(await adminGetOrg(c.var.ctx, c.req.valid("param").id), 200));
  app.openapi(membersRoute, async (c) => c.json(await adminListOrgMembers(c.var.ctx, c.req.valid("param").id, c.req.valid("query")), 200));
  app.openapi(updateRoute, async (c) =>
    c.json(await adminUpdateOrgSubscription(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json")), 200),
  );
}
