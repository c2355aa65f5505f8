import { z } from "@hono/zod-openapi";
import type { users } from "../../db/tables";

/** The public view of a user: never a hash, secret or token. */
export const UserSchema = z
  .object({
    id: z.string().openapi({ example: "usr_01jd3k5v7c8q2w0x9y4z6a1b3c" }),
    email: z.email(),
    email_verified: z.boolean(),
    full_name: z.string(),
    phone: z.string().nullable(),
    status: z.enum(["active", "inactive", "suspended"]),
    account_type: z.enum(["free", "basic", "premium", "enterprise"]),
    two_factor_enabled: z.boolean(),
    roles: z.array(z.string()),
    created_at: z.string().openapi({ example: "2026-11-22T09:00:00.000Z" }),
    last_login_at: z.string().nullable(),
  })
  .openapi("User");

export type UserOut = z.infer<typeof UserSchema>;

export type UserRow = typeof users.$inferSelect;

/** Maps a row (plus its effective roles) to the public shape. */
export function toUserOut(row: Omit<UserRow, "passwordHash"> & { roles: string[] }): UserOut {
  return {
    id: row.id,
    email: row.email,
    email_verified: row.emailVerified,
    full_name: row.fullName,
    phone: row.phone,
    status: row.status,
    account_type: row.accountType,
    two_factor_enabled: row.twoFactorEnabled,
    roles: row.roles,
    created_at: row.createdAt.toISOString(),
    last_login_at: row.lastLoginAt?.toISOString() ?? null,
  };
}
