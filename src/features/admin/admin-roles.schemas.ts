import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../identity/grants";

const Permissions = z
  .array(z.enum(PERMISSIONS))
  .max(PERMISSIONS.length * 2)
  .transform((ps) => [...new Set(ps)].sort())
  .openapi({ description: `Permission names; an unknown one → 422. Built-in set: ${PERMISSIONS.join(", ")}` });

export const RoleSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    is_builtin: z.boolean(),
    permissions: z.array(z.string()),
    users: z.number().int().openapi({ description: "How many users hold the role (expired assignments included)" }),
    created_at: z.string(),
  })
  .openapi("Role");
export type RoleOut = z.infer<typeof RoleSchema>;

export const CreateRoleInput = z
  .strictObject({
    name: z
      .string()
      .trim()
      .regex(/^[a-z][a-z0-9_-]{1,39}$/, "2–40 characters: lowercase letters, digits, _ and -, starting with a letter"),
    description: z.string().trim().max(200).optional(),
    permissions: Permissions,
  })
  .openapi("CreateRoleInput");
export type CreateRoleInput = z.infer<typeof CreateRoleInput>;

export const ReplacePermissionsInput = z.strictObject({ permissions: Permissions }).openapi("ReplaceRolePermissionsInput");

export const RoleNameParam = z.object({ name: z.string().min(1).max(40).openapi({ param: { name: "name", in: "path" } }) });

export const AssignRoleInput = z
  .strictObject({
    role: z.string().trim().min(1).max(40),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .openapi({ description: "When the role stops granting anything (may be in the past: the assignment is then recorded but grants nothing)" }),
  })
  .openapi("AssignRoleInput");

export const UserRoleParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
  role: z.string().min(1).max(40).openapi({ param: { name: "role", in: "path" } }),
});
