import type { App } from "../../platform/context";
import { PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { ConditionalGetHeaders, ConditionalWriteHeaders, ifMatchOf, jsonResponseWithETag, jsonWithETag, jsonWithNewETag, NotModified } from "../../platform/etag";
import { securedRoute } from "../../identity/secured-route";
import { registerInvitations } from "./invitations.routes";
import { ChangeRoleInput, CreateOrgInput, MemberPage, MemberParams, MemberSchema, OrgFavoritePage, OrgPage, OrgSchema, UpdateOrgInput } from "./orgs.schemas";
import { changeMemberRole, createOrg, deleteOrg, getOrg, listMembers, listMyOrgs, listOrgFavorites, removeMember, updateOrg } from "./orgs.service";

const tags = ["Organizations"];

// Organization routes are for signed-in people only: "a key can never manage organizations".
// An organization's own API key may read it (read:org, read:members, read:shared), nothing more.

const createRoute = securedRoute({ session: true }, {
  method: "post",
  path: `${API}/orgs`,
  tags,
  summary: "Create an organization on the creator's one `team` trial (TRIAL_DAYS from their first organization; after it, on `free`); the caller becomes its owner",
  description: "409 `limit_reached` when the caller already created MAX_ORGS_CREATED_PER_USER organizations (default 5) that still exist.",
  request: jsonBody(CreateOrgInput),
  responses: { 201: jsonResponse(OrgSchema, "Created"), ...problemResponses(400, 409, 413, 422) },
});

const listRoute = securedRoute({ session: true }, {
  method: "get",
  path: `${API}/orgs`,
  tags,
  summary: "The organizations the caller belongs to, with the caller's role",
  request: { query: PageQuery },
  responses: { 200: jsonResponse(OrgPage, "Organizations"), ...problemResponses(422) },
});

const getRoute = securedRoute({ session: true, orgAction: "org.view", orgKey: "read:org" }, {
  method: "get",
  path: `${API}/orgs/{id}`,
  tags,
  summary: "One organization (members)",
  request: { params: IdParam, headers: ConditionalGetHeaders },
  responses: { 200: jsonResponseWithETag(OrgSchema, "Organization"), ...NotModified },
});

const updateRoute = securedRoute({ session: true, orgAction: "org.update" }, {
  method: "patch",
  path: `${API}/orgs/{id}`,
  tags,
  summary: "Update name, org_type, billing_email, billing_address (admin+)",
  request: { params: IdParam, headers: ConditionalWriteHeaders, ...jsonBody(UpdateOrgInput) },
  responses: { 200: jsonResponseWithETag(OrgSchema, "Updated"), ...problemResponses(400, 412, 413, 422) },
});

const deleteRoute = securedRoute({ session: true, orgAction: "org.delete", fresh: true }, {
  method: "delete",
  path: `${API}/orgs/{id}`,
  tags,
  summary: "Delete the organization (owner). Memberships and invitations go; members' own data (favorites, notes) stays theirs",
  request: { params: IdParam },
  responses: { 204: NoContent },
});

const membersRoute = securedRoute({ session: true, orgAction: "members.list", orgKey: "read:members" }, {
  method: "get",
  path: `${API}/orgs/{id}/members`,
  tags,
  summary: "Members of the organization, by user id",
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(MemberPage, "Members"), ...problemResponses(422) },
});

const changeRoleRoute = securedRoute({ session: true, orgAction: "member.change_role" }, {
  method: "patch",
  path: `${API}/orgs/{id}/members/{user_id}`,
  tags,
  summary: "Change a member's role (admin+). Only an owner makes or unmakes owners; the last owner cannot be demoted (409 conflict)",
  request: { params: MemberParams, ...jsonBody(ChangeRoleInput) },
  responses: { 200: jsonResponse(MemberSchema, "Updated member"), ...problemResponses(400, 409, 413, 422) },
});

const removeMemberRoute = securedRoute({ session: true, orgAction: "member.leave" }, {
  method: "delete",
  path: `${API}/orgs/{id}/members/{user_id}`,
  tags,
  summary: "Remove a member (admin+; owner to remove an owner), or leave (your own user id). The last owner cannot go (409 conflict)",
  request: { params: MemberParams },
  responses: { 204: NoContent, ...problemResponses(409) },
});

const favoritesRoute = securedRoute({ session: true, orgAction: "shared.read", orgKey: "read:shared" }, {
  method: "get",
  path: `${API}/orgs/{id}/favorites`,
  tags,
  summary: "Favorites of the organization's members, with who added each, newest first",
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(OrgFavoritePage, "Favorites"), ...problemResponses(422) },
});

/** Organizations, members, invitations and shared favorites (the administrators' organization routes are in features/admin). */
export function registerOrgs(app: App): void {
  app.openapi(createRoute, async (c) => c.json(await createOrg(c.var.ctx, c.var.actor, c.req.valid("json")), 201));
  app.openapi(listRoute, async (c) => c.json(await listMyOrgs(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(getRoute, async (c) => jsonWithETag(c, await getOrg(c.var.ctx, c.var.membership)));
  app.openapi(updateRoute, async (c) => jsonWithNewETag(c, await updateOrg(c.var.ctx, c.var.membership, c.req.valid("json"), ifMatchOf(c.req.header("If-Match")))));
  app.openapi(deleteRoute, async (c) => {
    await deleteOrg(c.var.ctx, c.var.membership);
    return c.body(null, 204);
  });
  app.openapi(membersRoute, async (c) => c.json(await listMembers(c.var.ctx, c.var.membership, c.req.valid("query")), 200));
  app.openapi(changeRoleRoute, async (c) =>
    c.json(await changeMemberRole(c.var.ctx, c.var.membership, c.req.valid("param").user_id, c.req.valid("json").role), 200),
  );
  app.openapi(removeMemberRoute, async (c) => {
    await removeMember(c.var.ctx, c.var.membership, c.req.valid("param").user_id);
    return c.body(null, 204);
  });
  app.openapi(favoritesRoute, async (c) => c.json(await listOrgFavorites(c.var.ctx, c.var.membership, c.req.valid("query")), 200));
  registerInvitations(app);
}
