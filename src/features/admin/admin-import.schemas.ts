import { EmailInput, FullNameInput, PhoneInput } from "../users/users.schemas";
import { z } from "@hono/zod-openapi";
import { UpdateProfileInput } from "../profile/profile.schemas";
import { UserSchema } from "../users/user.schema";

export const MAX_IMPORT_ROWS = 1000;
export const IMPORT_MODES = ["skip", "upsert"] as const;

/**
 * One user of an import. Validated row by row (a bad row fails only itself). In `upsert` mode an
 * absent field leaves the stored value alone; for a new user it takes the usual default.
 */
export const ImportUserRow = z
  .strictObject({
    email: EmailInput,
    full_name: FullNameInput,
    phone: PhoneInput.nullable().optional(),
    email_verified: z.boolean().optional().openapi({ description: "Default false for a new user" }),
    status: UserSchema.shape.status.optional().openapi({ description: "Default active. In upsert mode a change acts like the lifecycle routes (sessions end)" }),
    account_type: UserSchema.shape.account_type.optional().openapi({ description: "Default free" }),
    roles: z
      .array(z.string().trim().min(1).max(40))
      .max(20)
      .optional()
      .openapi({ description: "Roles to grant (added, never removed; needs admin:roles, and the rules of role assignment apply). `user` is implicit and ignored" }),
    created_at: z.iso.datetime({ offset: true }).optional().openapi({ description: "When the account was created in the system it comes from (new users only)" }),
    profile: UpdateProfileInput.optional(),
    password_hash: z
      .string()
      .max(1024)
      .optional()
      .openapi({
        description:
          "The user's existing hash: bcrypt `$2a$/$2b$/$2y$` (cost 4–12), Werkzeug `pbkdf2:sha256|sha512:<iterations ≤ 1,000,000>$salt$hex` or `scrypt:N:r:p$salt$hex` (N·r·p ≤ 2^20, ≤ 64 MiB), or keel's `$scrypt$ln=…` (same caps); a costlier hash fails its row with `hash_too_costly`. On an existing user (upsert) only a superuser may change it. The user signs in with the old password and it is rehashed at that login. Without it, a new user is emailed a single-use set-password link and cannot sign in until then",
      }),
  })
  .openapi("ImportUserRow");
export type ImportUserRow = z.infer<typeof ImportUserRow>;

export const ImportInput = z
  .strictObject({
    mode: z.enum(IMPORT_MODES).default("skip").openapi({
      description:
        "An existing email: `skip` leaves that user alone, `upsert` updates it. `upsert` changes an existing user's password hash, status, roles or email verification only when the caller is a superuser; for anyone else a row that would change one of them fails with `forbidden` (values equal to the stored ones are no change). Every user an import creates or changes gets its own `admin.user_imported` audit row naming the caller; a changed hash ends the user's sessions and API keys and emails a \"password changed\" notice",
    }),
    users: z
      .array(z.unknown())
      .min(1)
      .max(MAX_IMPORT_ROWS)
      .openapi({ type: "array", items: { $ref: "#/components/schemas/ImportUserRow" }, description: `1 to ${MAX_IMPORT_ROWS} users; each is validated on its own` }),
  })
  .openapi("ImportUsersInput");
export type ImportInput = z.infer<typeof ImportInput>;

export const IMPORT_FAILURES = ["validation_failed", "invalid_password_hash", "hash_too_costly", "unknown_role", "duplicate_in_request", "forbidden"] as const;
export type ImportFailureCode = (typeof IMPORT_FAILURES)[number];

export const ImportResult = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    skipped: z.number().int(),
    failed: z.array(
      z.object({
        index: z.number().int().openapi({ description: "Position of the row in `users`, from 0" }),
        email: z.string().nullable().openapi({ description: "The row's email as sent, when it had one" }),
        code: z.enum(IMPORT_FAILURES).openapi({
          description:
            "`validation_failed` (the row does not match ImportUserRow), `invalid_password_hash` (not a recognised, well-formed hash), `hash_too_costly` (well formed, but costlier than a login may verify: bcrypt cost > 12, PBKDF2 > 1,000,000 iterations, scrypt N·r·p > 2^20 or > 64 MiB), `unknown_role`, `duplicate_in_request` (an earlier row has the same email), `forbidden` (a role the administrator may not grant, the administrator's own account, a superuser's account for a non-superuser, or — in upsert mode, unless the caller is a superuser — a change to an existing user's password hash, status, roles or email verification)",
        }),
      }),
    ),
  })
  .openapi("ImportUsersResult");
export type ImportResult = z.infer<typeof ImportResult>;
