import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt } from "../columns";
import { ORG_ROLES } from "../org-roles";
import { users } from "./users";

export { ORG_ROLES, type OrgRole } from "../org-roles";

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  orgType: text("org_type"),
  billingEmail: text("billing_email"),
  billingAddress: text("billing_address"),
  subscriptionPlan: text("subscription_plan", { enum: ["free", "team", "business", "enterprise"] })
    .notNull()
    .default("team"),
  subscriptionStatus: text("subscription_status").notNull().default("active"),
  subscriptionStartsAt: ts("subscription_starts_at"),
  subscriptionEndsAt: ts("subscription_ends_at"),
  maxUsers: integer("max_users").notNull().default(5),
  maxAlerts: integer("max_alerts").notNull().default(50),
  maxSavedSearches: integer("max_saved_searches").notNull().default(25),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  // Counts the organizations a user created (MAX_ORGS_CREATED_PER_USER) inside the guarded insert.
  index("organizations_created_by_idx").on(t.createdBy),
]);

export const organizationMembers = sqliteTable(
  "organization_members",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ORG_ROLES }).notNull().default("member"),
    joinedAt: ts("joined_at").notNull().default(sql`(unixepoch() * 1000)`),
  },
  (t) => [
    uniqueIndex("organization_members_org_user_unique").on(t.organizationId, t.userId),
    index("organization_members_user_idx").on(t.userId),
  ],
);

export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ORG_ROLES }).notNull().default("member"),
    /** SHA-256 of the emailed token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: ts("expires_at").notNull(),
    acceptedAt: ts("accepted_at"),
    revokedAt: ts("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("invitations_token_hash_unique").on(t.tokenHash),
    index("invitations_org_email_idx").on(t.organizationId, t.email),
  ],
);

/**
 * Every invitation sent in the last 7 days, for the invitation budgets (INVITES_PER_ORG_PER_DAY,
 * INVITES_PER_ADDRESS_PER_WEEK). A ledger of its own, without foreign keys, so deleting the
 * organization (whose invitations cascade away) does not reset the budgets; the address is kept
 * only as its SHA-256. Written in the invitation's batch; rows older than 7 days are deleted by
 * the next invitation's batch (no cron).
 */
export const invitationSends = sqliteTable(
  "invitation_sends",
  {
    /** The invitation's id. */
    id: text("id").primaryKey(),
    organizationId: text("organization_id").notNull(),
    /** SHA-256 of the lowercased address. */
    emailHash: text("email_hash").notNull(),
    /**
     * The sending organization's creator: once that organization is deleted, its sends still
     * count against the daily budget of the creator's other organizations, so deleting and
     * re-creating an organization does not renew INVITES_PER_ORG_PER_DAY.
     */
    creatorId: text("creator_id"),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [
    index("invitation_sends_creator_created_idx").on(t.creatorId, t.createdAt),
    index("invitation_sends_email_created_idx").on(t.emailHash, t.createdAt),
    index("invitation_sends_org_created_idx").on(t.organizationId, t.createdAt),
    index("invitation_sends_created_idx").on(t.createdAt),
  ],
);
