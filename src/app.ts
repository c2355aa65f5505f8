import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { registerAuth } from "./features/auth/auth.routes";
import { registerFederation } from "./features/federation/federation.routes";
import { registerAdmin } from "./features/admin/admin.routes";
import { registerAdminOrgs } from "./features/admin/admin-orgs.routes";
import { registerApiKeys } from "./features/api-keys/api-keys.routes";
import { registerOrgApiKeys } from "./features/api-keys/org-api-keys.routes";
import { registerOrgNotes } from "./features/notes/org-notes.routes";
import { registerDevMailbox } from "./features/dev/mailbox.routes";
import { registerHealth } from "./features/health/health.routes";
import { registerAuthPages } from "./features/auth/auth.pages";
import { registerInvitationPage } from "./features/orgs/invitations.pages";
import { registerUnsubscribePage } from "./features/alert-delivery/unsubscribe.pages";
import { registerTenderLinks } from "./features/alert-delivery/tender-links.routes";
import { registerMe } from "./features/users/me.routes";
import { registerEmailChange } from "./features/auth/email-change.routes";
import { registerConsents } from "./features/consents/consents.routes";
import { registerProfile } from "./features/profile/profile.routes";
import { registerGdpr } from "./features/gdpr/gdpr.routes";
import { registerSessions } from "./features/sessions/sessions.routes";
import { registerOrgs } from "./features/orgs/orgs.routes";
import { registerSso } from "./features/sso/sso.routes";
import { onMemberDeparture } from "./features/orgs/member-departure";
import { unshareNotesStatement } from "./features/notes/notes.repo";
import { unshareFavoritesStatement } from "./features/favorites/favorites.repo";
import { registerJwks } from "./features/auth/jwks.routes";
import { registerTenders } from "./features/tenders/tenders.routes";
import { registerTenderFacets } from "./features/tenders/facets.routes";
import { registerFavorites } from "./features/favorites/favorites.routes";
import { registerSavedSearches } from "./features/saved-searches/saved-searches.routes";
import { registerAlerts } from "./features/alerts/alerts.routes";
import { registerAlertFeed } from "./features/alerts/alert-feed.routes";
import { registerUnsubscribe } from "./features/alert-delivery/unsubscribe.routes";
import { registerNotifications } from "./features/notifications/notifications.routes";
import { registerNotificationStream } from "./features/notifications/stream.routes";
import { registerNotes } from "./features/notes/notes.routes";
import { registerRecommendations } from "./features/recommendations/recommendations.routes";
import { registerWebhooks } from "./features/webhooks/webhooks.routes";
import { createRouter } from "./platform/app-factory";
import { getConfig } from "./platform/config";
import { AppError } from "./platform/errors";
import { BOOKMARK_HEADER, requestDb } from "./platform/db";
import { onError, problemResponse } from "./platform/problem";
import { geoOf } from "./platform/geo";
import { detached } from "./platform/context";
import { log } from "./platform/log";
import { systemClock, type Clock } from "./platform/time";
import { registerOpenApi } from "./platform/openapi";
import { requestIds, sanitizeCorrelationId } from "./platform/request-id";
import { corsForListedOrigins } from "./platform/cors";

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
  // overwrite: false — a route that sets one of these headers itself (the HTML pages' CSP and
  // Referrer-Policy) keeps its own value.
  app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin", overwrite: false }));
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
      geo: geoOf((c.req.raw as { cf?: unknown }).cf, { development: config.isDevelopment }),
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
    if (bookmark) {
      try {
        c.res.headers.set(BOOKMARK_HEADER, bookmark); // in place: c.header would copy the finalized response
      } catch {
        c.header(BOOKMARK_HEADER, bookmark); // an immutable response (a fetched one): hono copies it
      }
    }
    // Where a request's time goes (e.g. `hash;dur=141.0, app;dur=146.5` on login), for local
    // profiling and the benchmark. Not sent outside development: it would time the hash for anyone.
    if (config.isDevelopment) c.header("Server-Timing", [...timings, `app;dur=${(performance.now() - started).toFixed(1)}`].join(", "));
  });

  registerHealth(app);
  registerJwks(app);
  registerDevMailbox(app);
  // The pages of the emailed links, each beside the verb it calls.
  registerAuthPages(app);
  registerInvitationPage(app);
  registerUnsubscribePage(app);
  registerTenderLinks(app);
  registerAuth(app);
  registerFederation(app);
  registerMe(app);
  registerEmailChange(app);
  registerConsents(app);
  registerProfile(app);
  registerGdpr(app);
  registerSessions(app);
  registerApiKeys(app);
  registerOrgApiKeys(app);
  registerOrgNotes(app);
  registerAdmin(app);
  registerOrgs(app);
  registerSso(app);
  registerAdminOrgs(app); // after the organization routes: the order of the OpenAPI document
  registerTenderFacets(app);
  registerTenders(app);
  registerFavorites(app);
  registerSavedSearches(app);
  registerAlertFeed(app); // before the alert routes: /me/alerts/matches is not /me/alerts/{id}
  registerAlerts(app);
  registerUnsubscribe(app);
  registerNotifications(app);
  registerNotificationStream(app);
  registerNotes(app);
  registerRecommendations(app);
  registerWebhooks(app);
  registerOpenApi(app, EVERY_OPERATION_ANSWERS);

  app.notFound((c) => problemResponse(c, new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`)));
  app.onError(onError);
  return app;
}

export type KeelApp = ReturnType<typeof newApp>;
