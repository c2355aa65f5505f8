import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse } from "../../platform/routes";
import { securedRoute } from "../access/secured-route";
import { adminListOrgs, adminUpdateOrgSubscription } from "./orgs.admin.service";
import { AdminOrgPage, AdminOrgQuery, AdminUpdateOrgInput, OrgSchema } from "./orgs.schemas";

const tags = ["Administration"];

// Like the rest of /admin, these need the admin:users permission (the `admin` and `superuser` roles).

const listRoute = securedRoute({ session: true, permission: "admin:users" }, {
  method: "get",
  path: `${API}/admin/orgs`,
  tags,
  summary: "Every organization, with its member count",
  request: { query: AdminOrgQuery },
  responses: { 200: jsonResponse(AdminOrgPage, "Organizations"), ...problemResponses(422) },
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
  app.openapi(updateRoute, async (c) =>
    c.json(await adminUpdateOrgSubscription(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json")), 200),
  );
}
