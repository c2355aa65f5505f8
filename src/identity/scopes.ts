/** Every scope an API key can carry (docs/api.md). */
export const API_KEY_SCOPES = [
  "read:tenders",
  "write:tenders",
  "read:favorites",
  "write:favorites",
  "read:alerts",
  "write:alerts",
  "read:searches",
  "write:searches",
  "read:notes",
  "write:notes",
  "read:notifications",
  "write:notifications",
  "read:profile",
  "write:profile",
  "write:webhooks",
] as const;

export type Scope = (typeof API_KEY_SCOPES)[number];

/** Scopes only a user holding this permission may put on a key. */
export const PRIVILEGED_SCOPES: Partial<Record<Scope, string>> = {
  "write:tenders": "admin:system",
};

/**
 * Scopes of an organization API key (issue 18.6). They name what the key may do inside its one
 * organization; a route admits organization keys only by naming one (securedRoute's `orgKey`).
 */
export const ORG_KEY_SCOPES = ["read:org", "read:members", "read:shared", "write:webhooks"] as const;

export type OrgKeyScope = (typeof ORG_KEY_SCOPES)[number];
