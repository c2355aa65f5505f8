import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { getConfig } from "./config";
import type { AppEnv } from "./context";

/** Headers a browser client sends beyond the CORS-safelisted ones. */
const ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "X-API-Key",
  "X-Request-Id",
  "X-Correlation-Id",
  "X-Requested-With", // the CSRF header of a cookie refresh (features/auth/refresh-cookie.ts)
  "Idempotency-Key",
  "If-Match",
  "If-None-Match",
  "X-D1-Bookmark", // platform/db.ts: read-your-writes across requests
];

/** Response headers a listed origin's scripts may read. */
const EXPOSE_HEADERS = ["ETag", "Retry-After", "X-Request-Id", "X-Correlation-Id", "Idempotent-Replayed", "RateLimit-Limit", "RateLimit-Remaining", "Location", "X-D1-Bookmark"];

const listed = cors({
  origin: (origin) => origin,
  allowHeaders: ALLOW_HEADERS,
  allowMethods: ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: 600,
  credentials: true,
});

/**
 * CORS for the exact origins of CORS_ORIGINS, with credentials (issue 18, point 7). An origin
 * not listed, or no Origin at all, gets no CORS header whatsoever (its preflight falls through to
 * 404). Every answer varies by Origin, so a shared cache never hands one origin's answer to another.
 */
export function corsForListedOrigins(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header("Origin");
    if (origin && getConfig(c.env).CORS_ORIGINS.includes(origin)) {
      // hono's cors answers a preflight itself (a Response returned, not next()).
      const preflight = await listed(c, next);
      if (preflight) c.res = preflight;
    } else {
      await next();
    }
    const vary = c.res.headers.get("Vary");
    if (!vary || !/(^|,)\s*origin\s*(,|$)/i.test(vary)) {
      try {
        c.res.headers.append("Vary", "Origin");
      } catch {
        // An immutable response (a fetched one passed through): rebuild it with the header.
        c.res = new Response(c.res.body, c.res);
        c.res.headers.append("Vary", "Origin");
      }
    }
  };
}
