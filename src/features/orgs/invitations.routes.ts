import type { App } from "../../platform/context";
import { PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { acceptInvitation, inviteMember, listInvitations, revokeInvitation } from "./invitations.service";
import { AcceptInvitationInput, CreateInvitationInput, InvitationPage, InvitationParams, InvitationSchema, MembershipSchema } from "./orgs.schemas";

const tags = ["Organizations"];

const inviteRoute = securedRoute({ session: true, orgAction: "invitation.create" }, {
  method: "post",
  path: `${API}/orgs/{id}/invitations`,
  tags,
  summary: "Invite by email (admin+): a single-use link valid INVITATION_TTL_DAYS (default 7)",
  description:
    "409 `limit_reached` when members + pending invitations would exceed the `max_users` in force (the free plan's once the trial or subscription ended); 409 `conflict` when the email is already a member or has a pending invitation; 429 `rate_limited` (with a `Retry-After` covering every spent budget) past INVITES_PER_ORG_PER_DAY invitations from the organization in 24 hours (the sends of its creator's organizations deleted since count too) or INVITES_PER_ADDRESS_PER_WEEK to the address from all organizations in 7 days, revoked ones included. Only an owner invites an owner.",
  request: { params: IdParam, ...jsonBody(CreateInvitationInput) },
  responses: { 201: jsonResponse(InvitationSchema, "Invitation sent"), ...problemResponses(400, 409, 413, 422) },
});

const listRoute = securedRoute({ session: true, orgAction: "invitations.list" }, {
  method: "get",
  path: `${API}/orgs/{id}/invitations`,
  tags,
  summary: "Pending invitations (admin+), newest first",
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(InvitationPage, "Pending invitations"), ...problemResponses(422) },
});

const revokeRoute = securedRoute({ session: true, orgAction: "invitation.revoke" }, {
  method: "delete",
  path: `${API}/orgs/{id}/invitations/{invitation_id}`,
  tags,
  summary: "Revoke a pending invitation (admin+); its link stops working",
  request: { params: InvitationParams },
  responses: { 204: NoContent },
});

const acceptRoute = securedRoute({ session: true }, {
  method: "post",
  path: `${API}/invitations/accept`,
  tags,
  summary: "Accept an invitation with the emailed token",
  description:
    "The signed-in user's verified email must be the invited one (else 403 `forbidden`). An unknown, revoked or expired token → 400 `validation_failed`; an invitation already accepted → 409 `conflict`; an organization with no free seat left under its plan's `max_users` (it filled up or its plan shrank since the invitation was sent) → 409 `limit_reached`, and the invitation stays pending.",
  request: jsonBody(AcceptInvitationInput),
  responses: { 200: jsonResponse(MembershipSchema, "The membership"), ...problemResponses(400, 409, 413, 422) },
});

export function registerInvitations(app: App): void {
  app.openapi(inviteRoute, async (c) => c.json(await inviteMember(c.var.ctx, c.var.membership, c.req.valid("json")), 201));
  app.openapi(listRoute, async (c) => c.json(await listInvitations(c.var.ctx, c.var.membership, c.req.valid("query")), 200));
  app.openapi(revokeRoute, async (c) => {
    await revokeInvitation(c.var.ctx, c.var.membership, c.req.valid("param").invitation_id);
    return c.body(null, 204);
  });
  app.openapi(acceptRoute, async (c) => c.json(await acceptInvitation(c.var.ctx, c.var.actor, c.req.valid("json").token), 200));
}
