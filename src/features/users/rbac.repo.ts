import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db";

/** Whether the user holds `permission` through an unexpired role (the implicit `user` role included). */
export async function userHasPermission(db: Db, userId: string, permission: string, now: Date): Promise<boolean> {
  const result = await db.run(sql`
    SELECT 1 FROM permissions p
    JOIN role_permissions rp ON rp.permission_id = p.id
    WHERE p.name = ${permission} AND (
      rp.role_id = 'role_user' OR rp.role_id IN (
        SELECT role_id FROM user_roles WHERE user_id = ${userId} AND (expires_at IS NULL OR expires_at > ${now.getTime()})
      )
    ) LIMIT 1`);
  return result.results.length > 0;
}
