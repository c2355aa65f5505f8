import { sql, type SQL } from "drizzle-orm";

/**
 * Roles inside an organization, strongest first (docs/api.md, Organizations): the values of the
 * `role` columns, so they live with the tables; identity builds its rules on them.
 */
export const ORG_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Whether `role` is at least `required` (owner > admin > member > viewer). */
export const orgRoleAtLeast = (role: OrgRole, required: OrgRole) => ORG_ROLES.indexOf(role) <= ORG_ROLES.indexOf(required);

interface OrgRule {
  /** The weakest role that may take the action. */
  readonly least: OrgRole;
  /** When the action makes, unmakes, removes or invites an owner, only an owner may take it. */
  readonly ownerOnlyWhenOwnersInvolved?: true;
}

/**
 * The organization rules of docs/api.md, written once. Everything that checks a role in an
 * organization derives from this table: the route's membership check (`securedRoute`'s
 * `orgAction`), the pure decisions of features/orgs/orgs.policy.ts, and the role lists inside the
 * guarded SQL statements (`orgRolesSql`). A superuser acting across organizations may take every
 * action (it holds no membership; see identity/membership.ts).
 */
export const ORG_RULES = {
  /** GET /orgs/{id}. */
  "org.view": { least: "viewer" },
  /** PATCH /orgs/{id}. */
  "org.update": { least: "admin" },
  /** DELETE /orgs/{id}. */
  "org.delete": { least: "owner" },
  /** GET /orgs/{id}/members. */
  "members.list": { least: "viewer" },
  /** PATCH /orgs/{id}/members/{userId}: only an owner makes or unmakes owners. */
  "member.change_role": { least: "admin", ownerOnlyWhenOwnersInvolved: true },
  /** DELETE /orgs/{id}/members/{userId} of another member: only an owner removes an owner. */
  "member.remove": { least: "admin", ownerOnlyWhenOwnersInvolved: true },
  /** DELETE /orgs/{id}/members/{own id}: any member leaves (the route is reached with this, the removal of another is decided after). */
  "member.leave": { least: "viewer" },
  /** POST /orgs/{id}/invitations: only an owner invites an owner; pending invitations follow their inviter's role. */
  "invitation.create": { least: "admin", ownerOnlyWhenOwnersInvolved: true },
  /** GET /orgs/{id}/invitations. */
  "invitations.list": { least: "admin" },
  /** DELETE /orgs/{id}/invitations/{invitationId}. */
  "invitation.revoke": { least: "admin" },
  /** Sharing a note or a favorite with the organization (a viewer only reads). */
  "share": { least: "member" },
  /** GET /orgs/{id}/favorites: reading what members shared. */
  "shared.read": { least: "viewer" },
  /** GET / PUT / DELETE /orgs/{id}/sso and the organization's domains (issue 17): who signs in to the organization, and how. */
  "sso.manage": { least: "admin" },
  /** POST / GET /orgs/{id}/api-keys, DELETE /orgs/{id}/api-keys/{key_id} (issue 18.6): keys that act for the organization. */
  "api_keys.manage": { least: "admin" },
  /** /orgs/{id}/webhooks and everything under it (issue 18): where the organization's events are sent. */
  "webhooks.manage": { least: "admin" },
} as const satisfies Record<string, OrgRule>;
export type OrgAction = keyof typeof ORG_RULES;
export const ORG_ACTIONS = Object.keys(ORG_RULES) as OrgAction[];

/** The weakest role that may take `action` (owners not involved). */
export const leastRoleFor = (action: OrgAction): OrgRole => ORG_RULES[action].least;

/** The roles that may take `action`, strongest first; only `owner` when owners are involved and the rule says so. */
export function orgRolesFor(action: OrgAction, opts: { ownersInvolved?: boolean } = {}): readonly OrgRole[] {
  const rule: OrgRule = ORG_RULES[action];
  const least = opts.ownersInvolved && rule.ownerOnlyWhenOwnersInvolved ? "owner" : rule.least;
  return ORG_ROLES.filter((r) => orgRoleAtLeast(r, least));
}

/** Whether a member with `role` may take `action`. */
export const orgRoleMay = (role: OrgRole, action: OrgAction, opts: { ownersInvolved?: boolean } = {}) => orgRolesFor(action, opts).includes(role);

/** The roles that may take `action`, as an SQL list for `role IN (…)`. */
export const orgRolesSql = (action: OrgAction, opts: { ownersInvolved?: boolean } = {}): SQL =>
  sql.join(orgRolesFor(action, opts).map((r) => sql`${r}`), sql`, `);
