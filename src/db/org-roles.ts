/**
 * Roles inside an organization, strongest first (shared/API.md, Organizations): the values of the
 * `role` columns, so they live with the tables; identity builds its rules on them.
 */
export const ORG_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];
