import { sql } from "drizzle-orm";
import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { bool, createdAt, ts, updatedAt } from "../columns";
import { ORG_ROLES } from "../org-roles";
import { organizations } from "./orgs";

/**
 * An organization's own OpenID provider (issue 17, per-organization SSO): at most one per
 * organization. The client secret is sealed at rest (AES-256-GCM under DATA_ENCRYPTION_KEY, bound
 * to the organization id: platform/secrets `seal`) and never returned by the API.
 */
export const orgSsoConnections = sqliteTable("org_sso_connections", {
  organizationId: text("organization_id")
    .primaryKey()
    .references(() => organizations.id, { onDelete: "cascade" }),
  issuer: text("issuer").notNull(),
  clientId: text("client_id").notNull(),
  clientSecretSealed: text("client_secret_sealed").notNull(),
  enforceSso: bool("enforce_sso").notNull().default(false),
  /** The role a first SSO sign-in joins with (never owner). */
  defaultRole: text("default_role", { enum: ORG_ROLES }).notNull().default("member"),
  enabled: bool("enabled").notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * Email domains an organization claims. Several organizations may claim one domain, but only one
 * can hold it verified (the partial unique index): the proof is a DNS TXT record that only the
 * domain's owner can publish. The verification token is public by design (it is published in
 * DNS), so it is stored as it is shown.
 */
export const orgDomains = sqliteTable(
  "org_domains",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** Lowercased, ASCII (punycode), no trailing dot. */
    domain: text("domain").notNull(),
    verificationToken: text("verification_token").notNull(),
    createdAt: createdAt(),
    verifiedAt: ts("verified_at"),
  },
  (t) => [
    uniqueIndex("org_domains_org_domain_unique").on(t.organizationId, t.domain),
    uniqueIndex("org_domains_verified_unique").on(t.domain).where(sql`verified_at IS NOT NULL`),
  ],
);

/** The last SSO sign-ins and errors of an organization, for its admins (GET /orgs/{id}/sso `recent`; the newest 20 are kept). */
export const ssoSignIns = sqliteTable(
  "sso_sign_ins",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    outcome: text("outcome").notNull(),
    at: ts("at").notNull(),
  },
  (t) => [index("sso_sign_ins_org_at_idx").on(t.organizationId, t.at)],
);
