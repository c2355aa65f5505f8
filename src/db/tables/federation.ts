import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, json } from "../columns";
import { users } from "./users";

/**
 * Where a sign-in flow came from: a configured social provider now; an organization's SSO
 * connection later (issue 17, point 4), resolved by the same flow.
 */
/** `session_id`: the session that started a link from My account; the link needs it still live. */
export type OidcSource = { kind: "social"; provider: string; session_id?: string } | { kind: "sso"; org_id: string };

/**
 * One pending OpenID Connect authorization request (10 minutes, single-use). Keyed by the SHA-256
 * of the `state` sent to the provider; `browser_hash` is the SHA-256 of the cookie that binds the
 * flow to the browser that started it. `link_user_id`: the flow links an identity to that signed-in
 * user instead of signing in.
 */
export const oidcStates = sqliteTable(
  "oidc_states",
  {
    stateHash: text("state_hash").primaryKey(),
    source: json<OidcSource>("source").notNull(),
    browserHash: text("browser_hash").notNull(),
    nonce: text("nonce").notNull(),
    codeVerifier: text("code_verifier").notNull(),
    returnTo: text("return_to").notNull(),
    linkUserId: text("link_user_id").references(() => users.id, { onDelete: "cascade" }),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("oidc_states_expires_idx").on(t.expiresAt)],
);

/** The verified outcome of a callback, waiting (60 s, single-use) for POST /auth/oidc/exchange. */
export interface OidcAssertion {
  source: OidcSource;
  issuer: string;
  subject: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  /** The provider asserted MFA (amr) and this provider's MFA is trusted. */
  mfa_trusted: boolean;
}

/** `browser_hash`: the flow's browser binding; the code is exchanged only with that browser's cookie (no login CSRF). */
export const oidcLoginCodes = sqliteTable(
  "oidc_login_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    browserHash: text("browser_hash").notNull(),
    assertion: json<OidcAssertion>("assertion").notNull(),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("oidc_login_codes_expires_idx").on(t.expiresAt)],
);

/** An external identity (issuer + subject) linked to exactly one user. */
export const userIdentities = sqliteTable(
  "user_identities",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    providerId: text("provider_id").notNull(),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    email: text("email"),
    createdAt: createdAt(),
    lastUsedAt: ts("last_used_at"),
  },
  (t) => [uniqueIndex("user_identities_issuer_subject_unique").on(t.issuer, t.subject), index("user_identities_user_idx").on(t.userId)],
);
