import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { securedRoute, type Auth } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { pageOf, PageQuery } from "../../platform/pagination";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { WEBHOOK_EVENTS } from "./events";
import {
  AcceptedSchema,
  CreatedWebhookSchema,
  CreateWebhookInput,
  toDeliveryOut,
  toWebhookOut,
  UpdateWebhookInput,
  WebhookDeliverySchema,
  WebhookSchema,
  WebhookSecretSchema,
} from "./webhooks.schemas";
import type { WebhookOwner } from "./webhooks.service";

/** The endpoint management code (URL checks, sealing, signing secrets) loads on first use. */
const service = () => import("./webhooks.service");

const tags = ["Webhooks"];

interface Surface {
  /** The collection path, e.g. `/me/webhooks`. */
  base: string;
  /** The endpoint's path parameter name. */
  param: string;
  auth: Auth;
  who: (c: Context) => WebhookOwner;
  label: string;
  events: readonly string[];
}

const param = (name: string) => z.object({ [name]: z.string().min(1).max(64).openapi({ param: { name, in: "path" } }) });

/** The nine routes of one scope of endpoints (user, organization, platform): same shapes, its own auth. */
function register(app: App, s: Surface) {
  const one = `${s.base}/{${s.param}}`;
  const orgParams = s.base.includes("{id}") ? param("id") : z.object({});
  const Params = orgParams.extend(param(s.param).shape);
  const DeliveryParams = Params.extend(param("delivery_id").shape);
  const events = `Events: ${s.events.map((e) => `\`${e}\``).join(", ")} (and \`webhook.test\` from POST …/test).`;
  const routes = {
    create: securedRoute(s.auth, {
      method: "post",
      path: `${API}${s.base}`,
      tags,
      summary: `Create a webhook endpoint (${s.label}); the secret is shown once`,
      description: `${events} 422 \`invalid_webhook_url\` for a URL keel will not call; 409 \`limit_reached\` beyond MAX_WEBHOOKS_PER_OWNER.`,
      request: { params: orgParams, ...jsonBody(CreateWebhookInput) },
      responses: { 201: jsonResponse(CreatedWebhookSchema, "Created"), ...problemResponses(400, 409, 422) },
    }),
    list: securedRoute(s.auth, {
      method: "get",
      path: `${API}${s.base}`,
      tags,
      summary: `Webhook endpoints (${s.label}), newest first`,
      request: { params: orgParams, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(WebhookSchema), "Endpoints"), ...problemResponses(404, 422) },
    }),
    get: securedRoute(s.auth, {
      method: "get",
      path: `${API}${one}`,
      tags,
      summary: `One webhook endpoint (${s.label})`,
      request: { params: Params },
      responses: { 200: jsonResponse(WebhookSchema, "Endpoint"), ...problemResponses(404) },
    }),
    update: securedRoute(s.auth, {
      method: "patch",
      path: `${API}${one}`,
      tags,
      summary: `Change a webhook endpoint (${s.label}); enabling it again clears a failure disable`,
      request: { params: Params, ...jsonBody(UpdateWebhookInput) },
      responses: { 200: jsonResponse(WebhookSchema, "Endpoint"), ...problemResponses(400, 404, 422) },
    }),
    remove: securedRoute(s.auth, {
      method: "delete",
      path: `${API}${one}`,
      tags,
      summary: `Delete a webhook endpoint (${s.label}) and its delivery log`,
      request: { params: Params },
      responses: { 204: NoContent, ...problemResponses(404) },
    }),
    deliveries: securedRoute(s.auth, {
      method: "get",
      path: `${API}${one}/deliveries`,
      tags,
      summary: `The endpoint's delivery log, newest first (${s.label})`,
      request: { params: Params, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(WebhookDeliverySchema), "Deliveries"), ...problemResponses(404, 422) },
    }),
    replay: securedRoute(s.auth, {
      method: "post",
      path: `${API}${one}/deliveries/{delivery_id}/replay`,
      tags,
      summary: `Send a delivery's event again, as a new delivery with the same event id (${s.label})`,
      request: { params: DeliveryParams },
      responses: { 202: jsonResponse(AcceptedSchema, "Queued"), ...problemResponses(404) },
    }),
    test: securedRoute(s.auth, {
      method: "post",
      path: `${API}${one}/test`,
      tags,
      summary: `Send a \`webhook.test\` event to this endpoint (${s.label})`,
      request: { params: Params },
      responses: { 202: jsonResponse(AcceptedSchema, "Queued"), ...problemResponses(404) },
    }),
    rotate: securedRoute(s.auth, {
      method: "post",
      path: `${API}${one}/rotate-secret`,
      tags,
      summary: `A new signing secret (${s.label}); the old one keeps signing beside it for 24 hours`,
      request: { params: Params },
      responses: { 200: jsonResponse(WebhookSecretSchema, "The new secret, shown once"), ...problemResponses(404) },
    }),
  };
  // One handler per verb for the three surfaces: the routes differ only in path and auth, so the
  // handlers read their inputs untyped by route and validate through the shared schemas.
  const a = app as unknown as { openapi(route: unknown, handler: (c: Context & { var: { ctx: never } }) => Promise<Response>): void };
  const ctxOf = (c: Context) => c.get("ctx" as never) as import("../../platform/context").ServiceContext;
  const valid = (c: Context, target: "json" | "query" | "param") => (c.req as unknown as { valid(t: string): Record<string, unknown> }).valid(target);
  const idOf = (c: Context) => valid(c, "param")[s.param] as string;
  a.openapi(routes.create, async (c) => {
    const ctx = ctxOf(c);
    const { row, secret } = await (await service()).createEndpoint(ctx, s.who(c), valid(c, "json") as z.infer<typeof CreateWebhookInput>);
    return c.json({ ...toWebhookOut(row, ctx.now), secret }, 201);
  });
  a.openapi(routes.list, async (c) => {
    const ctx = ctxOf(c);
    const page = await (await service()).listEndpoints(ctx, s.who(c), valid(c, "query") as z.infer<typeof PageQuery>);
    return c.json({ items: page.items.map((r) => toWebhookOut(r, ctx.now)), next_cursor: page.next_cursor }, 200);
  });
  a.openapi(routes.get, async (c) => {
    const ctx = ctxOf(c);
    return c.json(toWebhookOut(await (await service()).getEndpoint(ctx, s.who(c), idOf(c)), ctx.now), 200);
  });
  a.openapi(routes.update, async (c) => {
    const ctx = ctxOf(c);
    return c.json(toWebhookOut(await (await service()).updateEndpoint(ctx, s.who(c), idOf(c), valid(c, "json") as z.infer<typeof UpdateWebhookInput>), ctx.now), 200);
  });
  a.openapi(routes.remove, async (c) => {
    await (await service()).deleteEndpoint(ctxOf(c), s.who(c), idOf(c));
    return c.body(null, 204);
  });
  a.openapi(routes.deliveries, async (c) => {
    const page = await (await service()).listDeliveries(ctxOf(c), s.who(c), idOf(c), valid(c, "query") as z.infer<typeof PageQuery>);
    return c.json({ items: page.items.map(toDeliveryOut), next_cursor: page.next_cursor }, 200);
  });
  a.openapi(routes.replay, async (c) => {
    const id = await (await service()).replayDelivery(ctxOf(c), s.who(c), idOf(c), valid(c, "param").delivery_id as string);
    return c.json({ id }, 202);
  });
  a.openapi(routes.test, async (c) => {
    const id = await (await service()).sendTestEvent(ctxOf(c), s.who(c), idOf(c));
    return c.json({ id }, 202);
  });
  a.openapi(routes.rotate, async (c) => {
    return c.json({ secret: await (await service()).rotateSecret(ctxOf(c), s.who(c), idOf(c)) }, 200);
  });
}

export function registerWebhooks(app: App): void {
  register(app, {
    base: "/me/webhooks",
    param: "id",
    auth: { scope: "write:webhooks" },
    who: (c) => ({ scope: "user", actor: c.get("actor" as never) }),
    label: "the caller's; a key needs write:webhooks",
    events: WEBHOOK_EVENTS.user,
  });
  register(app, {
    base: "/orgs/{id}/webhooks",
    param: "webhook_id",
    auth: { session: true, orgAction: "webhooks.manage", orgKey: "write:webhooks" },
    who: (c) => ({ scope: "org", membership: c.get("membership" as never) }),
    label: "an organization's, admin+",
    events: WEBHOOK_EVENTS.org,
  });
  register(app, {
    base: "/admin/webhooks",
    param: "id",
    auth: { session: true, permission: "admin:system" },
    who: (c) => ({ scope: "platform", actor: c.get("actor" as never) }),
    label: "the platform's, admin:system",
    events: WEBHOOK_EVENTS.platform,
  });
}
