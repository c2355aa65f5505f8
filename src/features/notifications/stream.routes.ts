import { createRoute, z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { issueStreamTicket, openStream } from "./stream.service";

const tags = ["Notifications"];

const StreamTicket = z
  .object({
    ticket: z.string().openapi({ description: "Single use, bound to this session; pass it as `?ticket=` to GET /me/notifications/stream" }),
    expires_in: z.literal(60).openapi({ description: "Seconds the ticket can be used for" }),
  })
  .openapi("StreamTicket");

const ticketRoute = securedRoute({ session: true }, {
  method: "post",
  path: `${API}/me/notifications/ticket`,
  tags,
  summary: "A single-use, 60-second ticket to open the live notification stream (signed-in users only; not API keys)",
  responses: { 200: jsonResponse(StreamTicket, "The ticket") },
});

const streamRoute = createRoute({
  method: "get",
  path: `${API}/me/notifications/stream`,
  tags,
  summary:
    'Live notifications over a WebSocket (Upgrade: websocket). Server messages: {"type":"unread_count","count":n} on open and after every change, {"type":"notification","notification":{…as in GET /me/notifications}} for each new one. Send "ping" for "pong". Closed with 4001 when the session is revoked or the account stops being active; 4002 when the user opens more than 20 streams (the oldest closes)',
  request: { query: z.object({ ticket: z.string().min(1).max(200).openapi({ description: "From POST /me/notifications/ticket" }) }) },
  responses: {
    101: { description: "Switching Protocols: the WebSocket is open" },
    ...problemResponses(401, 422, 426),
  },
});

export function registerNotificationStream(app: App): void {
  app.openapi(ticketRoute, async (c) => c.json(await issueStreamTicket(c.var.ctx, c.var.actor), 200));
  app.openapi(streamRoute, async (c) => (await openStream(c.var.ctx, c.req.valid("query").ticket, c.req.header("Upgrade"))) as never);
}
