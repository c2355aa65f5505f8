import * as z from "zod";
import type { Env } from "../env";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
/** "limit/windowSeconds", e.g. "10/900" = 10 per 15 minutes. */
const rate = z
  .string()
  .regex(/^\d+\/\d+$/, "expected limit/windowSeconds")
  .transform((v) => {
    const [limit, window] = v.split("/").map(Number) as [number, number];
    return { limit, windowSeconds: window };
  })
  .refine((r) => r.limit >= 1 && r.windowSeconds >= 1, "limit and window must be >= 1");

/** The subscription plans of an organization (docs/api.md, Organizations). */
export const PLANS = ["free", "team", "business", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

const planLimit = z.strictObject({
  max_users: z.number().int().min(1).max(1_000_000),
  max_alerts: z.number().int().min(0).max(1_000_000),
  max_saved_searches: z.number().int().min(0).max(1_000_000),
});
export type PlanLimits = z.infer<typeof planLimit>;

export const DEFAULT_PLAN_LIMITS: Record<Plan, PlanLimits> = {
  free: { max_users: 1, max_alerts: 10, max_saved_searches: 5 },
  team: { max_users: 5, max_alerts: 50, max_saved_searches: 25 },
  business: { max_users: 25, max_alerts: 200, max_saved_searches: 100 },
  enterprise: { max_users: 1000, max_alerts: 1000, max_saved_searches: 500 },
};

/**
 * `PLAN_LIMITS`: a JSON object `{ "<plan>": {max_users, max_alerts, max_saved_searches} }`; a plan
 * left out keeps its default, an unknown plan or field is an error.
 */
const planLimits = z
  .string()
  .transform((v, c) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      c.addIssue({ code: "custom", message: "expected a JSON object" });
      return z.NEVER;
    }
  })
  .pipe(z.strictObject(Object.fromEntries(PLANS.map((p) => [p, planLimit.optional()])) as Record<Plan, z.ZodOptional<typeof planLimit>>))
  .transform((v) => ({ ...DEFAULT_PLAN_LIMITS, ...Object.fromEntries(Object.entries(v).filter(([, l]) => l !== undefined)) }) as Record<Plan, PlanLimits>);

/**
 * `OIDC_PROVIDERS`: a JSON list of social OpenID providers `{id, name, issuer, client_id,
 * client_secret, scopes?, trust_amr?}`; ids are unique and URL-safe.
 */
const oidcProvider = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "lowercase letters, digits, - and _"),
  name: z.string().trim().min(1).max(60),
  issuer: z.url(),
  client_id: z.string().min(1).max(500),
  client_secret: z.string().min(1).max(2000),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).max(20).optional(),
  /** Trust the provider's `amr` (mfa, hwk, otp…): a keel user with TOTP then skips the second step. */
  trust_amr: z.boolean().optional(),
});
export type OidcProviderConfig = z.infer<typeof oidcProvider>;
const oidcProviders = z
  .string()
  .transform((v, c) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      c.addIssue({ code: "custom", message: "expected a JSON list" });
      return z.NEVER;
    }
  })
  .pipe(z.array(oidcProvider).max(20))
  .refine((list) => new Set(list.map((p) => p.id)).size === list.length, "provider ids must be unique");

/**
 * Every policy of keel, from `[vars]`, with safe defaults. Parsed once per isolate (see
 * `getConfig`); an invalid value fails loudly at the first request instead of being ignored.
 */
export const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
  PUBLIC_BASE_URL: z.url().default("http://127.0.0.1:8787"),
  /**
   * Where emailed links (verification, password reset, invitation) point: a deployment with its
   * own front end sets it to that front end's origin; unset = PUBLIC_BASE_URL (keel's own pages).
   */
  EMAIL_LINK_BASE_URL: z.url().optional(),
  CORS_ORIGINS: csv.default([]),
  JWT_ISSUER: z.string().min(1).default("keel"),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  MFA_TOKEN_TTL_SECONDS: int(60, 1800).default(300),
  EMAIL_VERIFICATION_TTL_HOURS: int(1, 720).default(24),
  PASSWORD_RESET_TTL_MINUTES: int(5, 1440).default(60),
  /** Lifetime of the set-password link emailed to a user an administrator created without a password. */
  ADMIN_INVITE_TTL_HOURS: int(1, 720).default(72),
  REQUIRE_EMAIL_VERIFICATION: bool.default(true),
  /** Current terms of service / privacy policy version; empty = acceptance not tracked. */
  TERMS_VERSION: z.string().trim().max(64).default(""),
  PRIVACY_VERSION: z.string().trim().max(64).default(""),
  PASSWORD_MIN_LENGTH: int(8, 64).default(15),
  PASSWORD_MAX_LENGTH: int(64, 1024).default(128),
  PASSWORD_REQUIRE_CLASSES: bool.default(false),
  PASSWORD_HISTORY_COUNT: int(0, 24).default(5),
  PASSWORD_MAX_AGE_DAYS: int(0, 3650).default(0),
  LOCKOUT_THRESHOLD: int(1, 100).default(5),
  LOCKOUT_MINUTES: int(1, 1440).default(30),
  /** Consecutive second-factor failures of a user (all mfa tokens and 2FA routes) that lock it. */
  MFA_LOCKOUT_THRESHOLD: int(1, 100).default(10),
  // Sign-in lockout (issue 14, points 12 and 13).
  /** Lifetime of a device token (and its cookie): re-issued at each sign-in, so only devices unused this long lose their own count. */
  DEVICE_TOKEN_TTL_DAYS: int(1, 400).default(365),
  /** Cap of the growing second-factor lock (each lock doubles from LOCKOUT_MINUTES until a success): at most a few locks a day. */
  MFA_LOCKOUT_MAX_HOURS: int(1, 720).default(24),
  /** Absolute session lifetime: refreshes never extend a session past created_at + this. */
  SESSION_MAX_DAYS: int(1, 3650).default(90),
  /** Per-IP limits count an IPv6 client per network of this prefix length (a /64 is one subscriber). */
  RATE_IPV6_PREFIX: int(16, 128).default(64),
  // Per-IP limits fit an office behind one address (25 people in an hour, with a burst); the
  // per-email, per-account and per-user limits bound abuse of any one account. See README.
  RATE_LOGIN_PER_IP: rate.default({ limit: 100, windowSeconds: 900 }),
  RATE_LOGIN_PER_EMAIL: rate.default({ limit: 10, windowSeconds: 900 }),
  RATE_REGISTER_PER_IP: rate.default({ limit: 60, windowSeconds: 3600 }),
  RATE_FORGOT_PER_EMAIL: rate.default({ limit: 3, windowSeconds: 3600 }),
  RATE_FORGOT_PER_IP: rate.default({ limit: 30, windowSeconds: 3600 }),
  RATE_RESEND_PER_EMAIL: rate.default({ limit: 3, windowSeconds: 3600 }),
  RATE_RESEND_PER_IP: rate.default({ limit: 30, windowSeconds: 3600 }),
  RATE_MFA_PER_TOKEN: rate.default({ limit: 5, windowSeconds: 300 }),
  RATE_MFA_VERIFY_PER_IP: rate.default({ limit: 100, windowSeconds: 900 }),
  API_KEY_DEFAULT_RATE_PER_HOUR: int(1, 1_000_000).default(1000),
  EMAIL_PROVIDER: z.enum(["outbox", "cloudflare", "http"]).default("outbox"),
  EMAIL_FROM: z.string().min(3).default("keel <no-reply@keel.test>"),
  EMAIL_HTTP_ENDPOINT: z.url().optional(),
  MFA_ISSUER: z.string().min(1).default("keel"),
  /** Seconds an isolate trusts a "not revoked" answer read from KV before reading it again. */
  REVOCATION_CACHE_SECONDS: int(0, 60).default(10),
  /** Seconds an isolate may serve a cached public User view (GET /me); 0 disables the cache. */
  USER_CACHE_SECONDS: int(0, 60).default(5),
  /** Seconds an isolate may keep a user's roles, permissions and memberships (identity/grants.ts). */
  ACCESS_CACHE_SECONDS: int(0, 60).default(10),
  /** Limits per subscription plan; an organization takes its plan's limits when the plan is set. */
  PLAN_LIMITS: planLimits.default(DEFAULT_PLAN_LIMITS),
  /** Days an organization invitation stays valid. */
  INVITATION_TTL_DAYS: int(1, 90).default(7),
  /** Days between DELETE /me (account deactivated at once) and the erasure of its personal data. */
  ACCOUNT_PURGE_DAYS: int(0, 3650).default(30),

  // Issue 14, point 10 (nothing cheap forces expensive work).
  /** The first match of a new alert reads at most this many of the newest recent tenders, so one POST stays bounded. */
  ALERT_BACKFILL_MAX: int(1, 10_000).default(500),
  /** Per IP: API-key lookups that reach D1 (unknown keys; known ones are cached), so random keys cannot flood D1. */
  RATE_API_KEY_LOOKUP_PER_IP: rate.default({ limit: 60, windowSeconds: 600 }),
  /** Highest rate_limit_per_hour a key may have: a key cannot buy itself an effectively unlimited budget. */
  API_KEY_MAX_RATE_PER_HOUR: int(1, 1_000_000).default(100_000),
  // Tenant boundary (issue 14: shared notes and favorites).
  /** Notes one user may hold: bounds the storage one account can fill (409 `limit_reached` over it). */
  MAX_NOTES_PER_USER: int(1, 1_000_000).default(5000),
  // --- Jobs at scale (issue 14, points 16–17) ---
  /** Users the digest job reads per batch (one indexed range read, one match query, grouped writes). */
  DIGEST_BATCH_SIZE: int(1, 2000).default(200),
  /**
   * Elapsed ms after which the digest job starts no further batch in this tick (the rest wait 15
   * minutes): keeps the tick well inside a Cron Trigger's 30 s CPU limit with the other jobs.
   */
  DIGEST_TICK_BUDGET_MS: int(1, 600_000).default(10_000),
  /** Attempts at matching one tender version before the cron parks it (reported in /admin/stats) instead of resending it forever. */
  MATCH_MAX_ATTEMPTS: int(1, 100).default(5),
  // Abuse limits (issue 14, points 7–9): what one user or organization may cost the service.
  /** Authenticated writes (POST/PUT/PATCH/DELETE) per user, API keys counted as their owner: bounds what one account can make keel do. */
  RATE_WRITES_PER_USER: rate.default({ limit: 300, windowSeconds: 600 }),
  /** Organizations one user may have created (still existing): each is a trial and storage. */
  MAX_ORGS_CREATED_PER_USER: int(1, 10_000).default(5),
  /** Unrevoked API keys per user: more than an integrator needs, few enough that keys cannot fill storage. */
  MAX_API_KEYS_PER_USER: int(1, 10_000).default(25),
  /** Invitations one organization may send per 24 hours, revoked ones included: no mass mailing through invitations. */
  INVITES_PER_ORG_PER_DAY: int(1, 100_000).default(50),
  /** Invitations to one address per 7 days from all organizations together: nobody is spammed through keel. */
  INVITES_PER_ADDRESS_PER_WEEK: int(1, 1000).default(3),
  /** Days a new organization's `team` trial lasts before its limits fall back to `free`. */
  TRIAL_DAYS: int(0, 365).default(14),
  // Organization SSO and verified domains (issue 17, point 4).
  /** DNS-over-HTTPS resolver (JSON API, `?name=&type=TXT`) that domain verification asks; https only (http://127.0.0.1/localhost in development). */
  DOH_URL: z.url().default("https://cloudflare-dns.com/dns-query"),
  /** Milliseconds a domain verification waits for the resolver: a slow resolver must not hold the request. */
  DOH_TIMEOUT_MS: int(100, 30_000).default(5000),
  /** Domain verifications per organization (each makes an outbound DNS request). */
  RATE_DOMAIN_VERIFY_PER_ORG: rate.default({ limit: 30, windowSeconds: 3600 }),
  /** Domains one organization may claim: bounds what one organization stores and verifies. */
  MAX_DOMAINS_PER_ORG: int(1, 1000).default(20),
  // Passkeys (issue 16, points 1 and 6).
  /** WebAuthn relying-party id: the registrable domain the console is served on (an IP address cannot be one). */
  WEBAUTHN_RP_ID: z.string().trim().min(1).default("localhost"),
  /** Origins whose WebAuthn responses are accepted (comma-separated): the console's origin(s). */
  WEBAUTHN_ORIGINS: csv.default(["http://localhost:8787"]),
  /** Per IP: passkey sign-in ceremonies (options and verify each count), like RATE_LOGIN_PER_IP. */
  RATE_PASSKEY_PER_IP: rate.default({ limit: 100, windowSeconds: 900 }),
  /** Passkeys one user may register: more than anyone's devices, few enough that one account cannot fill storage. */
  MAX_PASSKEYS_PER_USER: int(1, 1000).default(20),
  // Federation: OpenID Connect sign-in (issue 17).
  /** Social OpenID providers (JSON list, see oidcProvider); none by default. */
  OIDC_PROVIDERS: oidcProviders.default([]),
  /** Origins a sign-in may return to (return_to); empty = PUBLIC_BASE_URL's origin, where the console is. */
  OIDC_ALLOWED_RETURN_ORIGINS: csv.default([]),
  /** Per IP: OpenID start, callback and exchange requests (each start costs a provider round trip). */
  RATE_OIDC_PER_IP: rate.default({ limit: 60, windowSeconds: 600 }),
  // Passwordless sign-in and step-up (issue 16, points 2–4).
  /** The one-time email code / sign-in link family (/auth/email-code/*, /sign-in): false answers 404 there. */
  PASSWORDLESS_EMAIL: bool.default(true),
  /** Minutes a sign-in counts as recent for sensitive actions (email change, 2FA off, write keys, DELETE /me). */
  REAUTH_MINUTES: int(1, 1440).default(10),
  /** Emailed sign-in codes per address: each is a mail to someone's inbox and 5 guesses at a code. */
  RATE_EMAIL_CODE_PER_EMAIL: rate.default({ limit: 5, windowSeconds: 3600 }),
  /** Emailed sign-in codes and code checks per IP: an office's worth, not a mass mailing or a guessing farm. */
  RATE_EMAIL_CODE_PER_IP: rate.default({ limit: 60, windowSeconds: 3600 }),

  // ─── organization API keys (issue 18.6) ───
  /** Unrevoked API keys per organization: one per integration with room to rotate, few enough not to fill storage. */
  MAX_ORG_API_KEYS: int(1, 10_000).default(25),
  // ─── live notifications (issue 18.2) ───
  /** Stream tickets per user: a console tab takes one per (re)connect; a loop is stopped here before it costs a hub write. */
  RATE_STREAM_TICKETS_PER_USER: rate.default({ limit: 30, windowSeconds: 60 }),
  /** Stream upgrades per IP: each spends a ticket lookup in a hub; a stranger guessing tickets is stopped here. */
  RATE_STREAM_CONNECT_PER_IP: rate.default({ limit: 120, windowSeconds: 60 }),
  // Webhooks (issue 18.1).
  /** Endpoints per owner (a user, an organization, the platform): bounds the fan-out one owner can cause. */
  MAX_WEBHOOKS_PER_OWNER: int(1, 100).default(10),
  /** Days an endpoint may fail without a single success before keel disables it and emails its owners. */
  WEBHOOK_DISABLE_AFTER_DAYS: int(1, 30).default(3),
  // Idempotent writes (issue 18, point 3).
  /** Hours an Idempotency-Key and its first response are kept (the draft's "at least 24 hours" of retries). */
  IDEMPOTENCY_TTL_HOURS: int(1, 168).default(24),
  /** Largest response body kept for replay: a larger one is not kept, and a repeat answers 409 rather than run twice. */
  IDEMPOTENCY_MAX_BODY_BYTES: int(0, 1_048_576).default(65_536),
  // Links, operators and retention (issue 19, points 6 and 7).
  /** Days an emailed tender link (/l/…) works: long enough for a tender's life, short enough that old mail stops recording clicks. */
  TENDER_LINK_TTL_DAYS: int(1, 3650).default(90),
  /** Per IP: /l/ link opens (each a D1 write): a busy office's clicking, not a click-fraud script. */
  RATE_TENDER_LINK_PER_IP: rate.default({ limit: 300, windowSeconds: 600 }),
  /** A fresh deployment's first administrator: this exact address, once verified, holds `superuser` (unset = none). */
  /** Days a notification is kept (read or not) before the cron deletes it. */
  NOTIFICATION_RETENTION_DAYS: int(1, 36_500).default(180),
  /** Days a tender interaction (views, email clicks) is kept: a year of signal for recommendations and engagement. */
  INTERACTION_RETENTION_DAYS: int(1, 36_500).default(365),
  /** Days an audit row is kept; 0 = forever (the default: an audit trail is often a legal record). */
  AUDIT_RETENTION_DAYS: int(0, 36_500).default(0),
  /** Rows of each retained table deleted per cron tick at most: a backlog drains over ticks, no tick is held. */
  RETENTION_BATCH_SIZE: int(1, 50_000).default(2000),
  BOOTSTRAP_ADMIN_EMAIL: z.string().trim().max(254).pipe(z.email()).transform((e) => e.toLowerCase()).optional(),
  // Tender facets and alert previews (issue 19, point 5).
  /** Seconds the facets (GET /tenders/facets, alert value checks) stay cached in KV: one scan per window, not per request. */
  TENDER_FACETS_CACHE_SECONDS: int(60, 86_400).default(300),
  /** Alert previews per user: each scans up to 30 days of tenders (capped), so a cheap request cannot force it in a loop. */
  RATE_ALERT_PREVIEW_PER_USER: rate.default({ limit: 30, windowSeconds: 3600 }),
});

/** The names of the config variables, each an optional string in `Env` (`[vars]`, `--var`, .dev.vars). */
export type ConfigVar = keyof typeof ConfigSchema.shape;
export type ConfigVars = { readonly [K in ConfigVar]?: string };
const CONFIG_VARS = Object.keys(ConfigSchema.shape) as ConfigVar[];

// Every config variable is a key of Env (declared here, beside the schema that names them), so
// getConfig reads them by name and Env needs no index signature.
declare module "../env" {
  interface Env extends Omit<ConfigVars, keyof WranglerEnv> {}
}

export type Config = z.infer<typeof ConfigSchema> & {
  isDevelopment: boolean;
};

const cache = new WeakMap<object, Config>();

/**
 * The parsed configuration for this env object, parsed once per isolate (the env object is
 * stable for an isolate's lifetime), so no request pays for zod parsing after the first.
 */
export function getConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const raw: Partial<Record<ConfigVar, string>> = {};
  for (const key of CONFIG_VARS) {
    const value: unknown = env[key];
    if (typeof value === "string" && value !== "") raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid configuration: ${issues}`);
  }
  const config: Config = { ...parsed.data, isDevelopment: parsed.data.ENVIRONMENT === "development" };
  cache.set(env, config);
  return config;
}
