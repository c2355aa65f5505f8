import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { ImportInput, ImportResult, ImportUserRow } from "./admin-import.schemas";

const importRoute = securedRoute(
  { session: true, permission: "admin:users" },
  {
    method: "post",
    path: `${API}/admin/users/import`,
    tags: ["Administration"],
    summary: "Import up to 1,000 users, with their existing password hashes",
    description:
      "Each row is validated on its own: a bad row (shape, unrecognised or malformed `password_hash`, unknown or forbidden role, an email repeated in the request, the administrator's own or a superuser's account) is reported in `failed` and never fails the request. Idempotent by email: `mode: skip` leaves an existing user alone, `upsert` updates the fields the row carries (the hash only when given; roles are added). Users imported with a hash sign in with their old password (rehashed to keel's scrypt at that login); users without one are emailed a single-use set-password link (`/reset-password?token=…`, accepted by POST /auth/password/reset) and cannot sign in until they use it. All accepted rows are written in one transaction, audited as one `admin.users_imported` event with the counts. 409 `conflict` when a concurrent request created one of the same emails first (nothing was written; retry).",
    request: jsonBody(ImportInput),
    responses: { 200: jsonResponse(ImportResult, "What happened to each row"), ...problemResponses(400, 409, 413, 422) },
  },
);

export function registerAdminImport(app: App): void {
  app.openAPIRegistry.register("ImportUserRow", ImportUserRow);
  app.openapi(importRoute, async (c) => {
    // Loaded on first use, as its own chunk (docs/performance.md): imports are rare.
    const { importUsers } = await import("./admin-import.service");
    return c.json(await importUsers(c.var.ctx, c.var.actor, c.req.valid("json")), 200);
  });
}
