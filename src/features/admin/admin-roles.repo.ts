import { and, eq, sql } from "drizzle-orm";
import { roles, userRoles } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";

export interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  isBuiltin: boolean;
  createdAt: Date;
  permissions: string[];
  holders: number;
}

const permissionsJson = sql<string>`(SELECT json_group_array(p.name) FROM role_permissions rp
  JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = "roles"."id")`;
const holdersCount = sql<number>`(SELECT count(*) FROM user_roles ur WHERE ur.role_id = "roles"."id")`;

const roleColumns = {
  id: roles.id,
  name: roles.name,
  description: roles.description,
  isBuiltin: roles.isBuiltin,
  createdAt: roles.createdAt,
  permissionsJson,
  holders: holdersCount,
};

const toRole = ({ permissionsJson: raw, ...r }: { permissionsJson: string } & Omit<RoleRow, "permissions">): RoleRow => ({
  ...r,
  permissions: (JSON.parse(raw || "[]") as string[]).sort(),
});

/** Every role with its permissions and how many users hold it (one query). */
export async function listRoles(db: Db): Promise<RoleRow[]> {
  return (await db.select(roleColumns).from(roles).orderBy(roles.name)).map(toRole);
}

export async function findRole(db: Db, name: string): Promise<RoleRow | undefined> {
  const row = await db.select(roleColumns).from(roles).where(eq(roles.name, name)).get();
  return row && toRole(row);
}

/** Links `roleId` to the permissions named in `permissions` (one statement, one JSON parameter). */
const grantPermissions = (db: Db, roleId: string, permissions: readonly string[]) =>
  rawStatement(
    db,
    sql`INSERT INTO role_permissions (role_id, permission_id)
      SELECT ${roleId}, p.id FROM permissions p WHERE p.name IN (SELECT value FROM json_each(${JSON.stringify(permissions)}))`,
  );

/** A new role and its permissions, for one batch. */
export function insertRoleStatements(db: Db, role: { id: string; name: string; description: string | null }, permissions: readonly string[], now: Date) {
  return [db.insert(roles).values({ ...role, isBuiltin: false, createdAt: now }), grantPermissions(db, role.id, permissions)] as const;
}

/** Replaces a role's permissions: delete and insert in the caller's batch, so no reader sees a half-set. */
export function replacePermissionsStatements(db: Db, roleId: string, permissions: readonly string[]) {
  return [rawStatement(db, sql`DELETE FROM role_permissions WHERE role_id = ${roleId}`), grantPermissions(db, roleId, permissions)] as const;
}

/** Deletes a custom role (never a built-in one: guarded in the statement too); returns its holders first. */
export function deleteRoleStatements(db: Db, roleId: string) {
  return [
    db
      .delete(userRoles)
      .where(and(eq(userRoles.roleId, roleId), sql`NOT EXISTS (SELECT 1 FROM roles WHERE id = ${roleId} AND is_builtin = 1)`))
      .returning({ userId: userRoles.userId }),
    db.delete(roles).where(and(eq(roles.id, roleId), eq(roles.isBuiltin, false))).returning({ id: roles.id }),
  ] as const;
}

/** One user's assignment of a role, with its expiry. */
export const findAssignment = (db: Db, userId: string, roleId: string) =>
  db
    .select({ grantedAt: userRoles.grantedAt, grantedBy: userRoles.grantedBy, expiresAt: userRoles.expiresAt })
    .from(userRoles)
    .where(and(eq(userRoles.userId, userId), eq(userRoles.roleId, roleId)))
    .get();
