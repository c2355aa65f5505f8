import { orgRoleAtLeast, type Actor, type OrgKeyActor, type OrgRole } from "./actor";
import type { RequestContext } from "../platform/context";
import { AppError } from "../platform/errors";
import { auditInsert } from "../audit/audit.repo";
import { organizationExists } from "./grants.repo";
import { resolveAccess } from "./grants";

declare const proven: unique symbol;

/**
 * Proof that the actor may act in an organization with at least some role. Only
 * `requireMembership` makes one, and organization repositories take one instead of a bare id, so
 * no code path can reach another organization's rows without passing the check.
 */
export interface OrgMembership {
  readonly orgId: string;
  readonly userId: string;
  /** The actor's own role, or "owner" for a superuser acting across organizations. */
  readonly role: OrgRole;
  /** A platform superuser acting in an organization it does not belong to (audited). */
  readonly viaSuperuser: boolean;
  /**
   * Set when an organization API key acts (its key id): then `userId` is empty (no person acts) and
   * `role` is the least role of the route's action, which the key's scope admitted. Services that
   * audit or check a person's membership in SQL must handle it (orgs.repo's `actorMay` denies it).
   */
  readonly viaKey?: string;
  readonly [proven]: true;
}

const orgNotFound = () => new AppError("not_found", "Organization not found");

/**
 * The actor's membership of `orgId` with at least `minRole`. A non-member gets the same 404 as for
 * a missing organization; a member below `minRole` gets 403. A denial is re-checked against D1
 * first, so a membership granted moments ago in another isolate counts. A `superuser` may act in
 * any existing organization; each such access is audited with the organization it touched.
 */
export async function requireMembership(ctx: RequestContext, actor: Actor, orgId: string, minRole: OrgRole): Promise<OrgMembership> {
  let role = actor.access.memberships.get(orgId);
  let roles = actor.access.roles;
  if (role === undefined || !orgRoleAtLeast(role, minRole)) {
    const fresh = await resolveAccess(ctx, actor.userId, { fresh: true });
    role = fresh.memberships.get(orgId);
    roles = fresh.roles;
  }
  if (role !== undefined && orgRoleAtLeast(role, minRole)) {
    return { orgId, userId: actor.userId, role, viaSuperuser: false } as OrgMembership;
  }
  if (roles.includes("superuser")) {
    if (!(await organizationExists(ctx.db, orgId))) throw orgNotFound();
    ctx.waitUntil(
      ctx.db.batch([
        auditInsert(ctx.db, ctx, {
          userId: actor.userId,
          action: "org.superuser_access",
          details: { organization_id: orgId, required_role: minRole },
        }),
      ]),
    );
    return { orgId, userId: actor.userId, role: "owner", viaSuperuser: true } as OrgMembership;
  }
  if (role === undefined) throw orgNotFound();
  throw new AppError("forbidden", `This needs the ${minRole} role in the organization`);
}

/**
 * The membership an organization key holds on a route that admits it: only in its own
 * organization (another id answers the same 404 as a missing organization), with the route
 * action's least role. The organization's existence is proven by the key itself: its row
 * cascades away with the organization.
 */
export function orgKeyMembership(actor: OrgKeyActor, orgId: string, role: OrgRole): OrgMembership {
  if (orgId !== actor.orgId) throw orgNotFound();
  return { orgId, userId: "", role, viaSuperuser: false, viaKey: actor.keyId } as OrgMembership;
}
