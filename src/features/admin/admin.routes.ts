import type { App } from "../../platform/context";
import { registerAdminAudit } from "./admin-audit.routes";
import { registerAdminDelivery } from "./admin-delivery.routes";
import { registerAdminFactors } from "./admin-factors.routes";
import { registerAdminImport } from "./admin-import.routes";
import { registerAdminLifecycle } from "./admin-lifecycle.routes";
import { registerAdminRoles } from "./admin-roles.routes";
import { registerAdminStats } from "./admin-stats.routes";
import { registerAdminUsers } from "./admin-users.routes";

/**
 * Administration (docs/api.md): every route is a `securedRoute` with a platform permission
 * (`admin:users`, `admin:roles` for roles and role assignments, `admin:audit` for the audit log).
 * Bulk, import and lifecycle routes are registered before `/admin/users/{id}` so `bulk` and `import` are never ids.
 * Every `/admin` route is declared in this folder; one over another feature's data calls that feature's
 * verbs (admin-orgs.routes.ts → orgs.admin.service.ts). registerAdminOrgs is called by app.ts after the
 * organization routes, where the OpenAPI document has always listed them.
 */
export function registerAdmin(app: App): void {
  registerAdminLifecycle(app);
  registerAdminFactors(app);
  registerAdminImport(app);
  registerAdminUsers(app);
  registerAdminRoles(app);
  registerAdminAudit(app);
  registerAdminStats(app);
  registerAdminDelivery(app);
}
