import type { WebhookScope } from "../../db/tables/webhooks";
import type { Actor } from "../../identity/actor";
import type { OrgMembership } from "../../identity/membership";
import { ownerOf } from "../../identity/owner";
import type { ServiceContext } from "../../platform/context";
import { runBatch } from "../../platform/db";
import { AppError, notFound } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { seal } from "../../platform/secrets";
import { enqueueDeliveries } from "./emit";
import { DAY } from "../../platform/time";
import { WEBHOOK_EVENTS } from "./events";
import { newWebhookSecret } from "./signing";
import { webhookUrlProblem } from "./webhook-url";
import { webhooksRepo, type EndpointOwnerKey, type EndpointRow } from "./webhooks.repo";

/** Whose endpoints a request manages: the caller (or its key's owner), an organization it administers, or the platform. */
export type WebhookOwner = { scope: "user"; actor: Actor } | { scope: "org"; membership: OrgMembership } | { scope: "platform"; actor: Actor };

const keyOf = (o: WebhookOwner): EndpointOwnerKey =>
  o.scope === "user" ? { scope: "user", userId: ownerOf(o.actor) } : o.scope === "org" ? { scope: "org", orgId: o.membership.orgId } : { scope: "platform" };
// An organization key (membership.viaKey) has no user: its endpoints are created by nobody in particular.
const actorIdOf = (o: WebhookOwner) => (o.scope === "org" ? o.membership.userId || null : o.actor.userId);

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = DAY;

export const sealContext = (endpointId: string) => `webhook:${endpointId}`;

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
}

function checkInput(ctx: ServiceContext, scope: WebhookScope, input: Partial<EndpointInput>) {
  if (input.url !== undefined) {
    const problem = webhookUrlProblem(input.url, { allowLocalHttp: ctx.config.ENVIRONMENT === "development" || ctx.config.ENVIRONMENT === "test" });
    if (problem) throw new AppError("invalid_webhook_url", `The webhook URL is not allowed: ${problem}`, { errors: [{ path: "url", message: problem }] });
  }
  if (input.events !== undefined) {
    const allowed: readonly string[] = WEBHOOK_EVENTS[scope];
    const errors = input.events.flatMap((e, i) => (allowed.includes(e) ? [] : [{ path: `events.${i}`, message: `not an event of this endpoint's scope (${allowed.join(", ")})` }]));
    if (errors.length) throw new AppError("validation_failed", "Unknown event type", { errors });
  }
}

export async function createEndpoint(ctx: ServiceContext, who: WebhookOwner, input: EndpointInput): Promise<{ row: EndpointRow; secret: string }> {
  checkInput(ctx, who.scope, input);
  const key = keyOf(who);
  const id = newId("whe", ctx.now.getTime());
  const secret = newWebhookSecret();
  const row = {
    id,
    scope: who.scope,
    userId: key.scope === "user" ? key.userId : null,
    orgId: key.scope === "org" ? key.orgId : null,
    url: input.url,
    events: [...new Set(input.events)],
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    secretSealed: await seal(ctx.env, ctx.config, secret, sealContext(id)),
    createdBy: actorIdOf(who),
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  const repo = webhooksRepo(ctx.db);
  const [inserted] = await runBatch(ctx, [repo.insertEndpoint(row, key, ctx.config.MAX_WEBHOOKS_PER_OWNER)]);
  if (!inserted.meta.changes) throw new AppError("limit_reached", `At most ${ctx.config.MAX_WEBHOOKS_PER_OWNER} webhook endpoints`);
  return { row: (await repo.byId(id))!, secret };
}

export async function listEndpoints(ctx: ServiceContext, who: WebhookOwner, page: { limit: number; cursor?: string }) {
  const rows = await webhooksRepo(ctx.db).list(keyOf(who), page.limit, decodeCursor(page.cursor));
  return toPage(rows, page.limit, (r) => r.id, (r) => r);
}

export async function getEndpoint(ctx: ServiceContext, who: WebhookOwner, id: string): Promise<EndpointRow> {
  return (await webhooksRepo(ctx.db).get(keyOf(who), id)) ?? notFound("Webhook");
}

export async function updateEndpoint(ctx: ServiceContext, who: WebhookOwner, id: string, input: Partial<EndpointInput>): Promise<EndpointRow> {
  checkInput(ctx, who.scope, input);
  const set = {
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    // Turning an endpoint back on starts a fresh run: keel's reason and the failure streak are forgotten.
    ...(input.enabled !== undefined ? { enabled: input.enabled, ...(input.enabled ? { disabledReason: null, failingSince: null } : {}) } : {}),
    updatedAt: ctx.now,
  };
  return (await webhooksRepo(ctx.db).update(keyOf(who), id, set)) ?? notFound("Webhook");
}

export async function deleteEndpoint(ctx: ServiceContext, who: WebhookOwner, id: string): Promise<void> {
  if (!(await webhooksRepo(ctx.db).remove(keyOf(who), id))) notFound("Webhook");
}

/** A new secret; the current one keeps signing beside it for ROTATION_OVERLAP_MS. */
export async function rotateSecret(ctx: ServiceContext, who: WebhookOwner, id: string): Promise<string> {
  const current = await getEndpoint(ctx, who, id);
  const secret = newWebhookSecret();
  await webhooksRepo(ctx.db).update(keyOf(who), id, {
    secretSealed: await seal(ctx.env, ctx.config, secret, sealContext(id)),
    previousSecretSealed: current.secretSealed,
    previousSecretExpiresAt: new Date(ctx.now.getTime() + ROTATION_OVERLAP_MS),
    updatedAt: ctx.now,
  });
  return secret;
}

export async function listDeliveries(ctx: ServiceContext, who: WebhookOwner, id: string, page: { limit: number; cursor?: string }) {
  const endpoint = await getEndpoint(ctx, who, id);
  const rows = await webhooksRepo(ctx.db).deliveries(endpoint.id, page.limit, decodeCursor(page.cursor));
  return toPage(rows, page.limit, (r) => r.id, (r) => r);
}

/** Sends the delivery's event to the endpoint again, as a new delivery (same event id: receivers that de-duplicate see a repeat). */
export async function replayDelivery(ctx: ServiceContext, who: WebhookOwner, id: string, deliveryId: string): Promise<string> {
  const endpoint = await getEndpoint(ctx, who, id);
  const repo = webhooksRepo(ctx.db);
  const delivery = (await repo.delivery(endpoint.id, deliveryId)) ?? notFound("Delivery");
  const single = repo.singleDeliveryStatements({ id: delivery.eventId, isNew: null }, endpoint.id, delivery.eventType, ctx.now);
  await runBatch(ctx, single.statements);
  await enqueueDeliveries(ctx, [{ deliveryId: single.deliveryId, attempt: 0 }]);
  return single.deliveryId;
}

/** A `webhook.test` event to this endpoint only (whatever its subscriptions, even disabled ones get nothing). */
export async function sendTestEvent(ctx: ServiceContext, who: WebhookOwner, id: string): Promise<string> {
  const endpoint = await getEndpoint(ctx, who, id);
  const repo = webhooksRepo(ctx.db);
  const eventId = newId("evt", ctx.now.getTime());
  const key = keyOf(who);
  const single = repo.singleDeliveryStatements(
    {
      id: eventId,
      isNew: { type: "webhook.test", scope: who.scope, userId: key.scope === "user" ? key.userId : null, orgId: key.scope === "org" ? key.orgId : null, data: { endpoint_id: endpoint.id } },
    },
    endpoint.id,
    "webhook.test",
    ctx.now,
  );
  await runBatch(ctx, single.statements);
  await enqueueDeliveries(ctx, [{ deliveryId: single.deliveryId, attempt: 0 }]);
  return eventId;
}


