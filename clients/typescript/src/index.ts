import createClient from "openapi-fetch";
import { connectNotifications, type NotificationStreamOptions } from "./notifications";
import { TokenRefresher, type Tokens } from "./refresh";
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";
export { TokenRefresher, type Tokens } from "./refresh";
export { verifyWebhook, WebhookVerificationError, type VerifyOptions } from "./webhooks";
export { backoffDelay, connectNotifications, type NotificationStream, type StreamMessage, type StreamStatus } from "./notifications";

export interface KeelClientOptions {
  /** keel's origin, e.g. `https://api.example.com` (paths carry `/api/v1`). */
  baseUrl: string;
  /** A signed-in session's tokens (from POST /api/v1/auth/login). */
  tokens?: Tokens | null;
  /** An API key instead (user or organization key): sent as `X-API-Key`; no refresh. */
  apiKey?: string;
  onTokens?: (tokens: Tokens) => void;
  onSessionEnded?: () => void;
  fetch?: typeof fetch;
}

/**
 * keel's typed client: `client.GET("/api/v1/me/favorites", { params: { query: { limit: 20 } } })`
 * with request and response types from the OpenAPI document. A session's access token is sent and
 * refreshed (single-flight) on 401; `stream(…)` opens the live notification stream.
 */
export function createKeelClient(opts: KeelClientOptions) {
  const auth = new TokenRefresher({
    baseUrl: opts.baseUrl,
    tokens: opts.tokens ?? null,
    ...(opts.onTokens ? { onTokens: opts.onTokens } : {}),
    ...(opts.onSessionEnded ? { onSessionEnded: opts.onSessionEnded } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const authFetch = (input: Request | string | URL, init?: RequestInit) => {
    if (!opts.apiKey) return auth.fetch(input, init);
    const request = new Request(input, init);
    request.headers.set("X-API-Key", opts.apiKey);
    return (opts.fetch ?? fetch)(request);
  };
  const api = createClient<paths>({ baseUrl: opts.baseUrl, fetch: (request: Request) => authFetch(request) });
  return Object.assign(api, {
    auth,
    /** An authenticated fetch for anything outside the typed paths. */
    fetch: authFetch,
    stream: (o: Omit<NotificationStreamOptions, "baseUrl" | "fetch">) => connectNotifications({ ...o, baseUrl: opts.baseUrl, fetch: authFetch }),
  });
}

export type KeelClient = ReturnType<typeof createKeelClient>;
export type Schemas = components["schemas"];
