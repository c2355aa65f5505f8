
/** Messages on the `email` queue: the id of an outbox row to deliver. */
export interface EmailJob {
  outboxId: string;
}

/** Messages on the `alert-matching` queue: tenders that were inserted or changed. */
export interface AlertMatchingJob {
  tenderIds: string[];
}

/** Messages on the `webhooks` queue: an event to fan out, or one attempt of one delivery (features/webhooks). */
export type WebhookJob = { eventId: string } | { eventIds: string[] } | { deliveryId: string; attempt: number };

/**
 * Bindings and variables of the Worker: what `npm run types:env` (`wrangler types`) generates from
 * wrangler.toml into worker-configuration.d.ts (`WranglerEnv`, committed so typechecks need no
 * wrangler run), with the queues' message types, the optional bindings and secrets; every config
 * variable of `platform/config.ts` is added there (`ConfigVars`: optional strings, parsed and
 * validated once per isolate), so this file imports nothing above it.
 * Secrets come from `wrangler secret put` or, locally, `.dev.vars` written by `npm start`.
 * No index signature: reading a variable that is neither bound nor configured does not compile.
 */
export interface Env extends Omit<WranglerEnv, "EMAIL_QUEUE" | "ALERT_MATCHING_QUEUE" | "WEBHOOK_QUEUE"> {
  EMAIL_QUEUE: Queue<EmailJob>;
  WEBHOOK_QUEUE: Queue<WebhookJob>;
  ALERT_MATCHING_QUEUE: Queue<AlertMatchingJob>;
  /** Optional Cloudflare Email Routing binding, used when EMAIL_PROVIDER=cloudflare. */
  SEND_EMAIL?: SendEmail;

  // Secrets
  /** JSON array of Ed25519 private JWKs (each with a `kid`); the first signs, all verify. */
  JWT_SIGNING_KEYS?: string;
  /** Base64 of 32 random bytes: encrypts TOTP secrets, peppers backup codes and other HMACs. */
  DATA_ENCRYPTION_KEY?: string;
  /** Bearer token for EMAIL_PROVIDER=http. */
  EMAIL_API_TOKEN?: string;
}
