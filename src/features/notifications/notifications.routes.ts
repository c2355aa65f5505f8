import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonResponse, NoContent } from "../../platform/route-helpers";
import { ListNotificationsQuery, NotificationPage } from "./notifications.schemas";
import { listNotifications, markAllNotificationsRead, markNotificationRead } from "./notifications.service";

const tags = ["Notifications"];

const listRoute = securedRoute({ scope: "read:notifications" }, {
  method: "get",
  path: `${API}/me/notifications`,
  tags,
  summary: "In-app notifications, newest first (expired ones hidden), with unread_count",
  request: { query: ListNotificationsQuery },
  responses: { 200: jsonResponse(NotificationPage, "A page of notifications"), ...problemResponses(422) },
});

const readRoute = securedRoute({ scope: "write:notifications" }, {
  method: "post",
  path: `${API}/me/notifications/{id}/read`,
  tags,
  summary: "Mark one notification read (idempotent)",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(404) },
});

const readAllRoute = securedRoute({ scope: "write:notifications" }, {
  method: "post",
  path: `${API}/me/notifications/read-all`,
  tags,
  summary: "Mark every notification read",
  responses: { 204: NoContent },
});

export function registerNotifications(app: App): void {
  app.openapi(listRoute, async (c) => c.json(await listNotifications(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(readAllRoute, async (c) => {
    await markAllNotificationsRead(c.var.ctx, c.var.actor);
    return c.body(null, 204);
  });
  app.openapi(readRoute, async (c) => {
    await markNotificationRead(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
