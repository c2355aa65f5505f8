import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { EXPORTERS } from "./exporters.repo";
import { exportAccount, requestAccountDeletion } from "./gdpr.service";
import { STEP_UP_NOTE } from "../../identity/recent-auth";

const tags = ["Me"];

const ExportSchema = z
  .object({
    format: z.literal("keel-export/1"),
    exported_at: z.string(),
    user_id: z.string(),
    sections: z.object(Object.fromEntries(EXPORTERS.map((e) => [e.section, z.array(z.record(z.string(), z.unknown()))]))),
  })
  .openapi("AccountExport", {
    description:
      "Every record held about the user, one array of rows per section (column names as stored, timestamps ISO 8601). Credentials (password, key, token and backup-code hashes, TOTP secrets) and email bodies (they carry single-use links) are never included.",
  });

const DeleteAccountInput = z
  .strictObject({
    password: z.string().min(1, "Required").max(1024).optional().openapi({ description: "Optional: without it, the session needs a recent authentication (step-up)" }),
  })
  .openapi("DeleteAccountInput");

const DeletionSchema = z
  .object({
    status: z.literal("inactive"),
    deletion_requested_at: z.string(),
    purge_after: z.string().openapi({ description: "When the personal data will be erased (ACCOUNT_PURGE_DAYS after the request)" }),
  })
  .openapi("AccountDeletion");

const exportRoute = securedRoute({ session: true, fresh: true }, {
  method: "get",
  path: `${API}/me/export`,
  tags,
  summary: "Everything held about the user, as one JSON document (GDPR access)",
  description: "Streamed section by section. Rate-limited per user.",
  responses: { 200: jsonResponse(ExportSchema, "The export"), ...problemResponses(429) },
});

const deleteRoute = securedRoute({ session: true, fresh: true }, {
  method: "delete",
  path: `${API}/me`,
  tags,
  summary: "Delete the account (GDPR erasure)",
  description:
    "Needs the password, or a recent authentication: " + STEP_UP_NOTE + " The account is deactivated at once: every session, access token and API key stops working. Personal data is erased after ACCOUNT_PURGE_DAYS (default 30); audit events stay without personal fields. The last owner of an organization that has other members must transfer ownership first (409 `conflict`, with `organization_ids`).",
  request: jsonBody(DeleteAccountInput),
  responses: { 202: jsonResponse(DeletionSchema, "Deactivated; erasure scheduled"), ...problemResponses(400, 409, 422, 429) },
});

export function registerGdpr(app: App): void {
  app.openapi(exportRoute, async (c) => {
    const stream = await exportAccount(c.var.ctx, c.var.actor);
    return c.body(stream, 200, {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": 'attachment; filename="keel-export.json"',
      "cache-control": "no-store",
    }) as never;
  });
  app.openapi(deleteRoute, async (c) => c.json(await requestAccountDeletion(c.var.ctx, c.var.actor, c.req.valid("json").password), 202));
}
