import { z } from "@hono/zod-openapi";
import { ORG_ROLES, type OrgRole } from "../../identity/actor";
import { PLANS, type PlanLimits } from "../../platform/config";
import { pageOf } from "../../platform/pagination";
import { PlainTextName } from "../../platform/plain-text";
import type { InvitationRow } from "./invitations.repo";
import { limitsInForce, planInForce } from "./orgs.policy";
import type { OrgRow } from "./orgs.repo";

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

export const ORG_TYPES = ["contractor", "consultancy", "supplier", "government", "other"] as const;
export const SUBSCRIPTION_STATUSES = ["active", "trialing", "past_due", "cancelled", "expired"] as const;

const OrgRoleSchema = z.enum(ORG_ROLES).openapi({ description: "owner > admin > member > viewer" });

export const CreateOrgInput = z
  .strictObject({
    name: PlainTextName,
    org_type: z.enum(ORG_TYPES).optional(),
  })
  .openapi("CreateOrgInput");

export const UpdateOrgInput = z
  .strictObject({
    name: PlainTextName.optional(),
    org_type: z.enum(ORG_TYPES).nullable().optional(),
    billing_email: z.email().max(254).toLowerCase().nullable().optional(),
    billing_address: z.string().trim().max(1000).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "Send at least one field")
  .openapi("UpdateOrgInput");

export const OrgSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    org_type: z.string().nullable(),
    billing_email: z.string().nullable(),
    billing_address: z.string().nullable(),
    subscription_plan: z.enum(PLANS),
    subscription_status: z.string(),
    subscription_starts_at: z.string().nullable(),
    subscription_ends_at: z.string().nullable(),
    plan_in_force: z.boolean().openapi({
      description:
        "Whether the plan's limits apply now: `subscription_status` is active or trialing and `subscription_ends_at` has not passed. When false, the max_* fields are the free plan's until renewed",
    }),
    max_users: z.number().int().openapi({ description: "The limits in force now (the free plan's once a trial or subscription has ended)" }),
    max_alerts: z.number().int(),
    max_saved_searches: z.number().int(),
    role: OrgRoleSchema.nullable().openapi({ description: "The caller's role; null for a superuser acting in an organization it does not belong to" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Organization");

/** The organization as the API shows it, with the limits in force at `at.now` (`free` once its plan lapsed). */
export function toOrgOut(row: OrgRow, role: OrgRole | null, at: { now: Date; free: PlanLimits }): z.infer<typeof OrgSchema> {
  const limits = limitsInForce({ ...row, max_users: row.maxUsers, max_alerts: row.maxAlerts, max_saved_searches: row.maxSavedSearches }, at.now, at.free);
  return {
    id: row.id,
    name: row.name,
    org_type: row.orgType,
    billing_email: row.billingEmail,
    billing_address: row.billingAddress,
    subscription_plan: row.subscriptionPlan,
    subscription_status: row.subscriptionStatus,
    subscription_starts_at: iso(row.subscriptionStartsAt),
    subscription_ends_at: iso(row.subscriptionEndsAt),
    plan_in_force: planInForce(row, at.now),
    max_users: limits.max_users,
    max_alerts: limits.max_alerts,
    max_saved_searches: limits.max_saved_searches,
    role,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const OrgPage = pageOf(OrgSchema).openapi("OrganizationPage");

export const MemberSchema = z
  .object({ user_id: z.string(), email: z.string(), full_name: z.string(), role: OrgRoleSchema, joined_at: z.string() })
  .openapi("Member");
export const MemberPage = pageOf(MemberSchema).openapi("MemberPage");

export const MemberParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
  user_id: z.string().min(1).max(64).openapi({ param: { name: "user_id", in: "path" } }),
});

export const ChangeRoleInput = z.strictObject({ role: z.enum(ORG_ROLES) }).openapi("ChangeMemberRoleInput");

export const MembershipSchema = z
  .object({
    organization_id: z.string(),
    organization_name: z.string(),
    user_id: z.string(),
    role: OrgRoleSchema,
    joined_at: z.string(),
  })
  .openapi("Membership");

export const CreateInvitationInput = z
  .strictObject({ email: z.email().max(254).trim().toLowerCase(), role: z.enum(ORG_ROLES).default("member") })
  .openapi("CreateInvitationInput");

export const InvitationSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    email: z.string(),
    role: OrgRoleSchema,
    invited_by: z.string().nullable(),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi("Invitation");
export const InvitationPage = pageOf(InvitationSchema).openapi("InvitationPage");

export function toInvitationOut(row: InvitationRow): z.infer<typeof InvitationSchema> {
  return {
    id: row.id,
    organization_id: row.organizationId,
    email: row.email,
    role: row.role,
    invited_by: row.invitedBy,
    expires_at: row.expiresAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

export const InvitationParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
  invitation_id: z.string().min(1).max(64).openapi({ param: { name: "invitation_id", in: "path" } }),
});

export const AcceptInvitationInput = z.strictObject({ token: z.string().min(16).max(200) }).openapi("AcceptInvitationInput");

export const OrgFavoriteSchema = z
  .object({
    id: z.string(),
    tender: z.object({
      id: z.string(),
      title: z.string(),
      department: z.string().nullable(),
      state: z.string().nullable(),
      closing_date: z.string().nullable(),
      value: z.number().nullable(),
      currency: z.string(),
    }),
    folder: z.string().nullable(),
    tags: z.array(z.string()),
    priority: z.string().nullable(),
    bid_status: z.string().nullable(),
    created_at: z.string(),
    added_by: z.object({ user_id: z.string(), email: z.string(), full_name: z.string() }),
  })
  .openapi("OrganizationFavorite");
export const OrgFavoritePage = pageOf(OrgFavoriteSchema).openapi("OrganizationFavoritePage");

export const AdminOrgSchema = OrgSchema.omit({ role: true }).extend({ member_count: z.number().int() }).openapi("AdminOrganization");
export const AdminOrgPage = pageOf(AdminOrgSchema).openapi("AdminOrganizationPage");

export const AdminOrgQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
  q: z.string().trim().min(1).max(100).optional().openapi({ description: "Part of the organization's name" }),
  subscription_plan: z.enum(PLANS).optional(),
});

export const AdminUpdateOrgInput = z
  .strictObject({
    subscription_plan: z.enum(PLANS).optional(),
    subscription_status: z.enum(SUBSCRIPTION_STATUSES).optional(),
    subscription_ends_at: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "Send at least one field")
  .openapi("AdminUpdateOrgInput");
