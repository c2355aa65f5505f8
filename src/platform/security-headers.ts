import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

/**
 * The security headers of every response: hono's secureHeaders defaults, with
 * Cross-Origin-Resource-Policy `cross-origin` (an API read from other origins through CORS).
 */
const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Resource-Policy", "cross-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/**
 * Headers a route may set to its own value, which then wins (the HTML pages' Referrer-Policy).
 * Only these are checked before being set: each header call crosses into the runtime, and this
 * runs on every response (bench:floor).
 */
const ROUTE_MAY_SET = new Set(["Referrer-Policy"]);

/** Adds SECURITY_HEADERS to every response; a route's own value of a ROUTE_MAY_SET header stays. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeaders(c, next) {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of SECURITY_HEADERS) {
      if (ROUTE_MAY_SET.has(name) && headers.has(name)) continue;
      headers.set(name, value);
    }
  };
}
