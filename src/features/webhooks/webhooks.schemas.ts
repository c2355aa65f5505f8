import { z } from "@hono/zod-openapi";
import type { DeliveryRow, EndpointRow } from "./webhooks.repo";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const CreateWebhookInput = z
  .strictObject({
    url: z.string().trim().min(1).max(2000).openapi({ description: "https: only (http://localhost in development); no credentials, no private or loopback IP literal" }),
    events: z.array(z.string().max(64)).min(1).max(20),
    description: z.string().trim().max(500).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("CreateWebhookInput");

export const UpdateWebhookInput = CreateWebhookInput.partial()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateWebhookInput");

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: "`failing` when keel disabled the endpoint after failing for days" }),
    failing_since: z.string().nullable(),
    secret_rotation_ends_at: z.string().nullable().openapi({ description: "Until when the previous secret also signs" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Webhook");

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: "The signing secret (`whsec_…`). Shown only here and on rotation." }),
}).openapi("CreatedWebhook");

export const WebhookSecretSchema = z.object({ secret: z.string() }).openapi("WebhookSecret");

export const WebhookDeliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    attempt: z.number().int(),
    status: z.enum(["pending", "delivered", "failed"]),
    response_status: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    response_body: z.string().nullable().openapi({ description: "At most 1 KiB of the last response, or the network error" }),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookDelivery");

export const AcceptedSchema = z.object({ id: z.string().openapi({ description: "The new delivery's or the test event's id" }) }).openapi("WebhookAccepted");

export function toWebhookOut(r: EndpointRow, now: Date): z.infer<typeof WebhookSchema> {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    description: r.description,
    enabled: r.enabled,
    disabled_reason: r.disabledReason,
    failing_since: iso(r.failingSince),
    secret_rotation_ends_at: r.previousSecretExpiresAt && r.previousSecretExpiresAt > now ? r.previousSecretExpiresAt.toISOString() : null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export function toDeliveryOut(r: DeliveryRow): z.infer<typeof WebhookDeliverySchema> {
  return {
    id: r.id,
    event_id: r.eventId,
    event_type: r.eventType,
    attempt: r.attempt,
    status: r.status === "sending" ? "pending" : r.status,
    response_status: r.responseStatus,
    duration_ms: r.durationMs,
    response_body: r.responseBody,
    next_attempt_at: iso(r.nextAttemptAt),
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
