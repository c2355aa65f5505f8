import { requireRecentAuth, STEP_UP_NOTE } from "../../identity/recent-auth";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { DomainInput, DomainList, DomainParams, DomainSchema, SsoConfigInput, SsoConfigSchema } from "./sso.schemas";
import { claimDomain, deleteSso, getSso, listDomains, putSso, removeDomain, verifyDomain } from "./sso.service";

const tags = ["Organization SSO"];

// Who signs in to an organization, and how: owners and admins only ("sso.manage"), never a key.

const getRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "get",
  path: `${API}/orgs/{id}/sso`,
  tags,
  summary: "The organization's OpenID provider (admin+): the configuration, never the client secret, and the last 20 SSO sign-ins and errors",
  description: "404 `not_found` when SSO is not configured.",
  request: { params: IdParam },
  responses: { 200: jsonResponse(SsoConfigSchema, "SSO configuration") },
});

const putRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "put",
  path: `${API}/orgs/{id}/sso`,
  tags,
  summary: "Create or replace the organization's OpenID provider (admin+); the client secret is sealed at rest and never returned",
  description:
    "The issuer must be https (http://127.0.0.1 or localhost in development only). `client_secret` is required the first time; without it an update keeps the stored one. `enforce_sso: true` makes password, email-code and social sign-in of an address at a verified domain answer 403 `sso_required`. Audited. The provider decides who signs in as the organization's members, so changing it needs a recent authentication: " + STEP_UP_NOTE,
  request: { params: IdParam, ...jsonBody(SsoConfigInput) },
  responses: { 200: jsonResponse(SsoConfigSchema, "Saved"), ...problemResponses(400, 413, 422) },
});

const deleteRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "delete",
  path: `${API}/orgs/{id}/sso`,
  tags,
  summary: "Remove the organization's SSO (admin+); its domains stay claimed. Audited",
  description: STEP_UP_NOTE,
  request: { params: IdParam },
  responses: { 204: NoContent },
});

const listDomainsRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "get",
  path: `${API}/orgs/{id}/domains`,
  tags,
  summary: "The organization's claimed email domains with the TXT record that verifies each (admin+)",
  request: { params: IdParam },
  responses: { 200: jsonResponse(DomainList, "Domains") },
});

const claimRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "post",
  path: `${API}/orgs/{id}/domains`,
  tags,
  summary: "Claim an email domain (admin+): publish the returned TXT record, then verify",
  description:
    "422 `validation_failed` for a name that is not a domain or a public mail service (gmail.com, outlook.com …); 409 `conflict` when another organization holds it verified or this one already claimed it; 409 `limit_reached` past MAX_DOMAINS_PER_ORG. Audited.",
  request: { params: IdParam, ...jsonBody(DomainInput) },
  responses: { 201: jsonResponse(DomainSchema, "Claimed"), ...problemResponses(400, 409, 413, 422) },
});

const removeRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "delete",
  path: `${API}/orgs/{id}/domains/{domain}`,
  tags,
  summary: "Remove a claimed domain, verified or not (admin+). Audited",
  request: { params: DomainParams },
  responses: { 204: NoContent },
});

const verifyRoute = securedRoute({ session: true, orgAction: "sso.manage" }, {
  method: "post",
  path: `${API}/orgs/{id}/domains/{domain}/verify`,
  tags,
  summary: "Verify a claimed domain by its TXT record, looked up over DNS-over-HTTPS (admin+)",
  description:
    "200 with `verified_at` once the record holds the expected value (at once when already verified). 409 `conflict` with `expected` and `found` when it does not, or when another organization verified the domain meanwhile; 429 `rate_limited` past RATE_DOMAIN_VERIFY_PER_ORG; 503 `service_unavailable` when the resolver (DOH_URL) cannot be asked. Audited.",
  request: { params: DomainParams },
  responses: { 200: jsonResponse(DomainSchema, "Verified"), ...problemResponses(409, 503) },
});

/** Organization SSO and verified domains (issue 17, point 4); the sign-in itself is in the OpenID routes. */
export function registerSso(app: App): void {
  app.openapi(getRoute, async (c) => c.json(await getSso(c.var.ctx, c.var.membership), 200));
  app.openapi(putRoute, async (c) => {
    requireRecentAuth(c.var.ctx, c.var.actor);
    return c.json(await putSso(c.var.ctx, c.var.membership, c.req.valid("json")), 200);
  });
  app.openapi(deleteRoute, async (c) => {
    requireRecentAuth(c.var.ctx, c.var.actor);
    await deleteSso(c.var.ctx, c.var.membership);
    return c.body(null, 204);
  });
  app.openapi(listDomainsRoute, async (c) => c.json(await listDomains(c.var.ctx, c.var.membership), 200));
  app.openapi(claimRoute, async (c) => c.json(await claimDomain(c.var.ctx, c.var.membership, c.req.valid("json")), 201));
  app.openapi(removeRoute, async (c) => {
    await removeDomain(c.var.ctx, c.var.membership, c.req.valid("param").domain);
    return c.body(null, 204);
  });
  app.openapi(verifyRoute, async (c) => c.json(await verifyDomain(c.var.ctx, c.var.membership, c.req.valid("param").domain), 200));
}
