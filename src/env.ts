import type { RateLimiter } from "./durable-objects/rate-limiter";
import type { SignInGuard } from "./durable-objects/sign-in-guard";

/** Messages on the `email` queue: the id of an outbox row to deliver. */
export interface EmailJob {
  outboxId: string;
}

/** Messages on the `alert-matching` queue: tenders that were inserted or changed. */
export interface AlertMatchingJob {
  tenderIds: string[];
}

/**
 * Bindings and variables of the Worker. `[vars]` in wrangler.toml hold policies (strings, parsed
 * and validated once per isolate by `platform/config.ts`); secrets come from `wrangler secret put`
 * or, locally, `.dev.vars` written by `npm start`.
 */
export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Sign-in failure and lock state: per normalised email (passwords) and per user (second factors). */
  SIGN_IN_GUARD: DurableObjectNamespace<SignInGuard>;
  EMAIL_QUEUE: Queue<EmailJob>;
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

  // Vars (all strings; see platform/config.ts for meaning and defaults)
  [key: string]: unknown;
}
