import { EmailInput, FullNameInput, PhoneInput } from "../users/users.schemas";
import { z } from "@hono/zod-openapi";
import { UserSchema } from "../users/user.schema";

const isoDate = z.iso.datetime({ offset: true });
const Status = UserSchema.shape.status;
const AccountType = UserSchema.shape.account_type;

/** Sorts the search offers: each is served by an index (created_at, email). `-` = descending. */
export const USER_SORTS = ["-created_at", "created_at", "email", "-email"] as const;
export type UserSort = (typeof USER_SORTS)[number];

export const MIN_SEARCH_LENGTH = 3;

export const AdminUserSearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(MIN_SEARCH_LENGTH, `q needs at least ${MIN_SEARCH_LENGTH} characters (the search matches any part of the email or name)`)
    .max(200)
    .optional()
    .openapi({ description: "Matches any part of the email or full name, ignoring case; at least 3 characters" }),
  status: Status.optional(),
  account_type: AccountType.optional(),
  role: z.string().trim().min(1).max(40).optional().openapi({ description: "Users holding this role now (unexpired)" }),
  created_after: isoDate.optional(),
  created_before: isoDate.optional(),
  sort: z.enum(USER_SORTS).default("-created_at").openapi({ description: "Newest first by default" }),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(25),
});
export type AdminUserSearchQuery = z.infer<typeof AdminUserSearchQuery>;

/** A user in admin lists: the public User plus the state an administrator acts on. */
export const AdminUserListItem = UserSchema.extend({
  locked_until: z.string().nullable(),
  deletion_requested_at: z.string().nullable(),
}).openapi("AdminUserListItem");

export const AdminUserPage = z
  .object({ items: z.array(AdminUserListItem), total: z.number().int(), page: z.number().int(), page_size: z.number().int() })
  .openapi("AdminUserPage");

export const RoleAssignmentSchema = z
  .object({
    role: z.string(),
    granted_at: z.string(),
    granted_by: z.string().nullable(),
    expires_at: z.string().nullable(),
    active: z.boolean().openapi({ description: "False once expires_at has passed: an expired role grants nothing" }),
  })
  .openapi("RoleAssignment");

/** The full admin view of a user: no hash, secret or token. */
export const AdminUserView = AdminUserListItem.extend({
  email_verified_at: z.string().nullable(),
  password_set: z.boolean().openapi({ description: "False for an account created without a password that has not set one yet" }),
  password_changed_at: z.string().nullable(),
  failed_login_attempts: z.number().int(),
  last_login_ip: z.string().nullable(),
  updated_at: z.string(),
  role_assignments: z.array(RoleAssignmentSchema),
  sessions: z.object({
    active: z.number().int(),
    last_used_at: z.string().nullable(),
    last_sign_in_country: z.string().nullable().openapi({ description: "Country (request.cf) of the most recent sign-in on record" }),
    last_sign_in_city: z.string().nullable(),
    countries: z.array(z.string()).openapi({ description: "Every country the user signed in from, among the sessions kept (ended sessions are purged after 30 days)" }),
  }),
  sessions_list: z
    .array(
      z.object({
        id: z.string(),
        device_name: z.string().nullable(),
        ip_address: z.string().nullable(),
        country: z.string().nullable(),
        city: z.string().nullable(),
        created_at: z.string(),
        last_used_at: z.string(),
        expires_at: z.string(),
      }),
    )
    .openapi({ description: "Live sessions (not revoked, not expired), newest first, at most 50; `sessions.active` is the exact count" }),
  sign_in_methods: z
    .object({
      password: z.boolean().openapi({ description: "A password is set" }),
      passkeys: z.object({ count: z.number().int(), last_used_at: z.string().nullable() }),
      totp: z.boolean().openapi({ description: "Two-factor authentication with an authenticator app is on" }),
      email_codes: z.boolean().openapi({ description: "One-time email codes may be used to sign in (PASSWORDLESS_EMAIL)" }),
    })
    .openapi({ description: "How the user can sign in; POST /admin/users/{id}/reset-factors removes TOTP and passkeys" }),
  api_keys: z.object({ active: z.number().int() }),
  api_keys_list: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        prefix: z.string().openapi({ description: "The visible start of the key (never the key or its hash)" }),
        scopes: z.array(z.string()),
        created_at: z.string(),
        last_used_at: z.string().nullable(),
        expires_at: z.string().nullable(),
      }),
    )
    .openapi({ description: "Live API keys (not revoked, not expired), newest first, at most 50; `api_keys.active` is the exact count" }),
  organizations: z.array(z.object({ organization_id: z.string(), name: z.string(), role: z.string() })),
  profile: z
    .object({
      company_name: z.string().nullable(),
      designation: z.string().nullable(),
      head_office_city: z.string().nullable(),
      head_office_state: z.string().nullable(),
      timezone: z.string(),
      language_preference: z.string(),
    })
    .nullable(),
}).openapi("AdminUserView");
export type AdminUserView = z.infer<typeof AdminUserView>;

export const CreateUserInput = z
  .strictObject({
    email: EmailInput,
    full_name: FullNameInput,
    phone: PhoneInput.optional(),
    password: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .openapi({ description: "Checked against the password policy. Without it, the user is emailed a single-use link to set one and cannot sign in until then" }),
    email_verified: z.boolean().default(false),
    account_type: AccountType.default("free"),
  })
  .openapi("AdminCreateUserInput");
export type CreateUserInput = z.infer<typeof CreateUserInput>;

export const UpdateUserInput = z
  .strictObject({
    status: Status.optional().openapi({ description: "Same effect as the activate/deactivate/suspend routes" }),
    account_type: AccountType.optional(),
    full_name: FullNameInput.optional(),
    email_verified: z.boolean().optional(),
  })
  .openapi("AdminUpdateUserInput");
export type UpdateUserInput = z.infer<typeof UpdateUserInput>;

export const LIFECYCLE_ACTIONS = ["activate", "deactivate", "suspend", "delete"] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];
export const BULK_ACTIONS = [...LIFECYCLE_ACTIONS, "assign_role", "remove_role"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const MAX_BULK_IDS = 500;

export const BulkInput = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    role: z.string().trim().min(1).max(40).optional().openapi({ description: "Required for assign_role and remove_role" }),
    user_ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_BULK_IDS),
  })
  .refine((v) => !(v.action === "assign_role" || v.action === "remove_role") || v.role !== undefined, {
    path: ["role"],
    message: "role is required for assign_role and remove_role",
  })
  .openapi("AdminBulkInput");
export type BulkInput = z.infer<typeof BulkInput>;

export const BulkResult = z
  .object({
    succeeded: z.array(z.string()),
    failed: z.array(
      z.object({
        id: z.string(),
        code: z.enum(["not_found", "forbidden", "conflict"]).openapi({
          description:
            "`not_found`: unknown id (for remove_role also a role not held); `forbidden`: the acting administrator itself, or a superuser when the actor is not one; `conflict`: delete of the only owner of an organization that has other members",
        }),
      }),
    ),
  })
  .openapi("AdminBulkResult");
export type BulkResult = z.infer<typeof BulkResult>;

export const UserIdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });
