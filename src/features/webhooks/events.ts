import type { WebhookScope } from "../../db/tables/webhooks";

/** The event types each scope of endpoint may subscribe to (docs/api.md, Integrators). */
export const WEBHOOK_EVENTS = {
  user: ["alert.matched", "notification.created"],
  org: [
    "organization.updated",
    "organization.member_added",
    "organization.member_removed",
    "organization.member_role_changed",
    "organization.invitation_created",
    "note.shared",
    "favorite.shared",
  ],
  platform: ["user.created", "user.updated", "user.suspended", "user.deleted", "user.imported", "tenders.ingested"],
} as const satisfies Record<WebhookScope, readonly string[]>;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[WebhookScope][number] | "webhook.test";

/** Retry delays after each failed attempt (then the delivery fails for good): about 23.6 hours in all, jittered down by up to 20%. */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 6 * 3600] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** The delay before attempt `attempt + 1` after `attempt` failed, or null when it was the last; `random` in [0, 1). */
export function retryDelaySeconds(attempt: number, random: number): number | null {
  const base = RETRY_DELAYS_SECONDS[attempt - 1];
  if (base === undefined) return null;
  return Math.max(1, Math.round(base * (0.8 + 0.2 * random)));
}
