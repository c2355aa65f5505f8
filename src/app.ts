import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { registerHealth } from "./features/health/health.routes";
import { onMemberDeparture } from "./features/orgs/member-departure";
import { unshareNotesStatement } from "./features/notes/notes.repo";
import { unshareFavoritesStatement } from "./features/favorites/favorites.repo";
import { registerJwks } from "./features/auth/jwks.routes";
import { registerMe } from "./features/users/me.routes";
import { userByIdQuery } from "./features/users/users.repo";
import { grantsQueries } from "./identity/grants.repo";
import { createRouter } from "./platform/app-factory";
import { getConfig } from "./platform/config";
import { AppError } from "./platform/errors";
import { BOOKMARK_HEADER, createDb, requestDb } from "./platform/db";
import { onError, plainProblem, problemResponse } from "./platform/problem";
import { geoOf, type Geo } from "./platform/geo";
import { detached, type AppEnv } from "./platform/context";
import { log } from "./platform/log";
import { systemClock, type Clock } from "./platform/time";
import { registerOpenApi } from "./platform/openapi";
import { requestIds, sanitizeCorrelationId } from "./platform/request-id";
import { corsForListedOrigins } from "./platform/cors";
import { securityHeaders } from "./platform/security-headers";
import { allGroupApps, lazyGroups, type LazyGroup } from "./platform/lazy-routes";

/**
 * Every feature's routes, in route order (a path two groups both serve goes to the first, as when
 * they were registered on one router: /me/alerts/matches before /me/alerts/{id}), each loaded on
 * the first request under one of its paths (issue 20, point 3): a cold start evaluates none of
 * them but GET /me's (`startup`: the first read of every web client, built while the isolate
 * starts). test/node/lazy-routes.test.ts checks that every route is reachable through its patterns.
 */
export const ROUTE_GROUPS: readonly LazyGroup[] = [
  { name: "dev", match: ["/dev/mailbox"], load: () => import("./features/dev/mailbox.routes").then((m) => m.registerDevMailbox) },
  { name: "auth-pages", match: ["/verify-email$", "/reset-password", "/sign-in"], load: () => import("./features/auth/auth.pages").then((m) => m.registerAuthPages) },
  { name: "invitation-page", match: ["/accept-invitation$"], load: () => import("./features/orgs/invitations.pages").then((m) => m.registerInvitationPage) },
  { name: "unsubscribe-page", match: ["/unsubscribe$"], load: () => import("./features/alert-delivery/unsubscribe.pages").then((m) => m.registerUnsubscribePage) },
  { name: "tender-links", match: ["/l/*$"], load: () => import("./features/alert-delivery/tender-links.routes").then((m) => m.registerTenderLinks) },
  { name: "auth", match: ["/api/v1/auth", "/api/v1/me/passkeys"], load: () => import("./features/auth/auth.routes").then((m) => m.registerAuth) },
  { name: "federation", match: ["/api/v1/auth/providers$", "/api/v1/auth/oidc", "/api/v1/auth/sso", "/api/v1/me/identities"], load: () => import("./features/federation/federation.routes").then((m) => m.registerFederation) },
  { name: "me", match: ["/api/v1/me$", "/api/v1/me/activity$"], load: () => Promise.resolve(registerMe), startup: true },
  { name: "email-change", match: ["/api/v1/me/email$"], load: () => import("./features/auth/email-change.routes").then((m) => m.registerEmailChange) },
  { name: "consents", match: ["/api/v1/me/consents$"], load: () => import("./features/consents/consents.routes").then((m) => m.registerConsents) },
  { name: "profile", match: ["/api/v1/me/profile$", "/api/v1/me/preferences$"], load: () => import("./features/profile/profile.routes").then((m) => m.registerProfile) },
  { name: "gdpr", match: ["/api/v1/me$", "/api/v1/me/export$"], load: () => import("./features/gdpr/gdpr.routes").then((m) => m.registerGdpr) },
  { name: "sessions", match: ["/api/v1/me/sessions"], load: () => import("./features/sessions/sessions.routes").then((m) => m.registerSessions) },
  { name: "api-keys", match: ["/api/v1/me/api-keys"], load: () => import("./features/api-keys/api-keys.routes").then((m) => m.registerApiKeys) },
  { name: "org-api-keys", match: ["/api/v1/orgs/*/api-keys"], load: () => import("./features/api-keys/org-api-keys.routes").then((m) => m.registerOrgApiKeys) },
  { name: "org-notes", match: ["/api/v1/orgs/*/notes$"], load: () => import("./features/notes/org-notes.routes").then((m) => m.registerOrgNotes) },
  { name: "admin", match: ["/api/v1/admin/users", "/api/v1/admin/roles", "/api/v1/admin/audit$", "/api/v1/admin/stats$", "/api/v1/admin/delivery$"], load: () => import("./features/admin/admin.routes").then((m) => m.registerAdmin) },
  { name: "orgs", match: ["/api/v1/orgs$", "/api/v1/orgs/*$", "/api/v1/orgs/*/members", "/api/v1/orgs/*/favorites$", "/api/v1/orgs/*/invitations", "/api/v1/invitations/accept$"], load: () => import("./features/orgs/orgs.routes").then((m) => m.registerOrgs) },
  { name: "sso", match: ["/api/v1/orgs/*/sso$", "/api/v1/orgs/*/domains"], load: () => import("./features/sso/sso.routes").then((m) => m.registerSso) },
  { name: "admin-orgs", match: ["/api/v1/admin/orgs"], load: () => import("./features/admin/admin-orgs.routes").then((m) => m.registerAdminOrgs) },
  { name: "tender-facets", match: ["/api/v1/tenders/facets$"], load: () => import("./features/tenders/facets.routes").then((m) => m.registerTenderFacets) },
  { name: "tenders", match: ["/api/v1/tenders"], load: () => import("./features/tenders/tenders.routes").then((m) => m.registerTenders) },
  { name: "favorites", match: ["/api/v1/me/favorites"], load: () => import("./features/favorites/favorites.routes").then((m) => m.registerFavorites) },
  { name: "saved-searches", match: ["/api/v1/me/saved-searches"], load: () => import("./features/saved-searches/saved-searches.routes").then((m) => m.registerSavedSearches) },
  { name: "alert-feed", match: ["/api/v1/me/alerts/matches$"], load: () => import("./features/alerts/alert-feed.routes").then((m) => m.registerAlertFeed) },
  { name: "alerts", match: ["/api/v1/me/alerts"], load: () => import("./features/alerts/alerts.routes").then((m) => m.registerAlerts) },
  { name: "unsubscribe", match: ["/api/v1/unsubscribe$"], load: () => import("./features/alert-delivery/unsubscribe.routes").then((m) => m.registerUnsubscribe) },
  { name: "notifications", match: ["/api/v1/me/notifications"], load: () => import("./features/notifications/notifications.routes").then((m) => m.registerNotifications) },
  { name: "notification-stream", match: ["/api/v1/me/notifications/ticket$", "/api/v1/me/notifications/stream$"], load: () => import("./features/notifications/stream.routes").then((m) => m.registerNotificationStream) },
  { name: "notes", match: ["/api/v1/me/notes"], load: () => import("./features/notes/notes.routes").then((m) => m.registerNotes) },
  { name: "recommendations", match: ["/api/v1/me/recommendations$"], load: () => import("./features/recommendations/recommendations.routes").then((m) => m.registerRecommendations) },
  { name: "webhooks", match: ["/api/v1/me/webhooks", "/api/v1/orgs/*/webhooks", "/api/v1/admin/webhooks"], load: () => import("./features/webhooks/webhooks.routes").then((m) => m.registerWebhooks) },
];

/**
 * The SQL of the first authenticated read (the grants batch, GET /me's user view) built once while
 * the isolate starts, without running it (src/index.ts, at module evaluation): the first run of
 * drizzle's query builder, which V8 compiles lazily, is then not in the first request after a
 * restart. It never throws: a broken binding fails the request that uses it, as without it.
 */
export function warmHotQueries(env: { DB?: D1Database } | undefined): void {
  if (!env?.DB) return;
  try {
    const db = createDb(env.DB);
    for (const q of grantsQueries(db, "warm-up")) q.toSQL();
    userByIdQuery(db, "warm-up", new Date(0)).toSQL();
  } catch {
    // the first request builds them itself
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * What the global middleware and the error handler below can answer on any route, whatever the
 * route declares: registerOpenApi documents each on every operation (issue 14, point 19). A
 * global middleware that learns a new status adds it here.
 */
const EVERY_OPERATION_ANSWERS = {
  413: "bodyLimit: the body exceeds 1 MiB",
  429: "a rate limit: per client on the public routes, per user on writes",
  500: "onError: an unexpected error",
  503: "a required secret or binding is not configured",
} as const;

/** Builds the Hono app: global middleware in the order of DESIGN.md, then every feature. */
// Organizations know no sharing feature: the features that share items with them say here what a
// member's removal also does (unshare that member's notes and favorites, in the same batch).
onMemberDeparture(unshareNotesStatement, unshareFavoritesStatement);

/**
 * `clock`: where each request's `ctx.now` comes from; the system clock. A test that must see time
 * pass (an expiry) builds its own app with a clock it moves and calls `app.request` on it.
 */
export function newApp(opts: { clock?: Clock } = {}) {
  const clock = opts.clock ?? systemClock;
  const app = createRouter();

  app.use(requestIds());
  // A route that sets its own Referrer-Policy (the HTML pages) keeps it.
  app.use(securityHeaders());
  app.use(corsForListedOrigins());
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError("payload_too_large", "Request body exceeds 1 MiB");
      },
    }),
  );
  app.use(async function requestContext(c, next) {
    const config = getConfig(c.env);
    const started = performance.now();
    const timings: string[] = [];
    const requestId = c.get("requestId");
    let geo: Geo | undefined;
    // Reads near the user (issue 20, point 5): a D1 session per request, started where sessionStart says.
    const d1 = requestDb(c.env.DB, c.req.method, c.req.path, c.req.header(BOOKMARK_HEADER));
    c.set("ctx", {
      env: c.env,
      get db() {
        return d1.db;
      },
      config,
      requestId,
      correlationId: sanitizeCorrelationId(c.req.header("X-Correlation-Id") ?? c.req.header("X-Request-Id")),
      ip: c.req.header("CF-Connecting-IP") ?? "unknown",
      userAgent: c.req.header("User-Agent") ?? "",
      // Read on first use only (sign-in, sessions): `request.cf` is a sizeable object to build.
      get geo() {
        return (geo ??= geoOf((c.req.raw as { cf?: unknown }).cf, { development: config.isDevelopment }));
      },
      clock,
      log: log.with({ request_id: requestId }),
      now: clock.now(),
      waitUntil: (p) => {
        try {
          c.executionCtx.waitUntil(p);
        } catch {
          // No execution context (direct app.request in a unit test): let it run detached.
          detached(p);
        }
      },
      timed: async (name, work) => {
        const phaseStarted = performance.now();
        try {
          return await work();
        } finally {
          timings.push(`${name};dur=${(performance.now() - phaseStarted).toFixed(1)}`);
        }
      },
    });
    await next();
    const bookmark = d1.bookmark();
    if (bookmark) setInPlace(c, BOOKMARK_HEADER, bookmark);
    // Where a request's time goes (e.g. `hash;dur=141.0, app;dur=146.5` on login), for local
    // profiling and the benchmark. Not sent outside development: it would time the hash for anyone.
    if (config.isDevelopment) setInPlace(c, "Server-Timing", [...timings, `app;dur=${(performance.now() - started).toFixed(1)}`].join(", "));
  });

  app.use(lazyGroups(ROUTE_GROUPS));
  registerHealth(app);
  registerJwks(app);
  registerOpenApi(app, EVERY_OPERATION_ANSWERS, () => allGroupApps(ROUTE_GROUPS));

  app.notFound((c) => problemResponse(c, plainProblem("not_found", `No route for ${c.req.method} ${c.req.path}`)));
  app.onError(onError);
  return app;
}

/**
 * Sets a header on the finished response in place: `c.header` would copy the whole response first
 * (hono does so once a response is final), on every request. Only an immutable response (a
 * fetched one passed through) is copied, by `c.header`.
 */
function setInPlace(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

export type KeelApp = ReturnType<typeof newApp>;
