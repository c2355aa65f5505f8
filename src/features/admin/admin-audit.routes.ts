import { z } from "@hono/zod-openapi";
import type { App, RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { decodeCursor, PageQuery, pageOf, toPage } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { listAudit } from "./admin-audit.repo";

const AuditQuery = PageQuery.extend({
  user_id: z.string().min(1).max(64).optional(),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]*)?\*?$/, "An action such as auth.login_failed, or a prefix ending in * (auth.*)")
    .optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Inclusive" }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Exclusive" }),
});

const AuditEventSchema = z
  .object({
    id: z.string(),
    user_id: z.string().nullable(),
    actor_id: z.string().nullable(),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("AuditEvent");

const auditRoute = securedRoute({ session: true, permission: "admin:audit" }, {
  method: "get",
  path: `${API}/admin/audit`,
  tags: ["Administration"],
  summary: "Audit events, newest first",
  description: "Filters combine with AND. `action` is exact, or a prefix when it ends with `*`. Cursor-paginated (`limit`, `cursor` → `next_cursor`).",
  request: { query: AuditQuery },
  responses: { 200: jsonResponse(pageOf(AuditEventSchema), "Audit events"), ...problemResponses(422) },
});

/** The keyset position a cursor carries: `<created_at ms>|<id>`. */
function positionOf(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const match = /^(\d+)\|(aud_[0-9a-z]+)$/.exec(decodeCursor(cursor) ?? "");
  if (!match) throw new AppError("validation_failed", "Invalid cursor", { errors: [{ path: "cursor", message: "Invalid cursor" }] });
  return { createdAt: Number(match[1]), id: match[2]! };
}

async function listAuditEvents(ctx: RequestContext, q: z.infer<typeof AuditQuery>) {
  const rows = await listAudit(ctx.db, {
    userId: q.user_id,
    action: q.action,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
    after: positionOf(q.cursor),
    limit: q.limit,
  });
  return toPage(
    rows,
    q.limit,
    (r) => `${r.createdAt.getTime()}|${r.id}`,
    (r) => ({
      id: r.id,
      user_id: r.userId,
      actor_id: r.actorId,
      action: r.action,
      details: r.details,
      ip_address: r.ipAddress,
      user_agent: r.userAgent,
      request_id: r.requestId,
      created_at: r.createdAt.toISOString(),
    }),
  );
}

export function registerAdminAudit(app: App): void {
  app.openapi(auditRoute, async (c) => c.json(await listAuditEvents(c.var.ctx, c.req.valid("query")), 200));
}
