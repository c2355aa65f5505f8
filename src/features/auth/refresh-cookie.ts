import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { API } from "../../platform/route-helpers";

// Refresh-token delivery in a cookie, for browser clients such as keel's console: the refresh
// token never reaches a script (HttpOnly), is sent only over HTTPS (Secure; browsers also treat
// http://localhost and 127.0.0.1 as secure), only by same-site requests (SameSite=Strict) and only
// to the refresh endpoint (Path), which reads it when the body has no refresh_token.

/** `__Secure-` makes browsers refuse the cookie unless it is Secure and set from a secure origin. */
export const REFRESH_COOKIE = "__Secure-keel_refresh";
const REFRESH_PATH = `${API}/auth/refresh`;
const OPTIONS = { path: REFRESH_PATH, httpOnly: true, secure: true, sameSite: "Strict" } as const;

/**
 * The header a cookie refresh must carry. A cross-site page can only send it after a CORS
 * preflight, which keel's CORS policy does not grant it, so a forged refresh never reaches the
 * cookie (on top of SameSite=Strict, which also covers sibling ports of the same host).
 */
export const CSRF_HEADER = "X-Requested-With";


export function setRefreshCookie<E extends AppEnv>(c: Context<E>, refreshToken: string): void {
  setCookie(c, REFRESH_COOKIE, refreshToken, { ...OPTIONS, maxAge: c.var.ctx.config.REFRESH_TOKEN_TTL_DAYS * 86_400 });
}

export function clearRefreshCookie<E extends AppEnv>(c: Context<E>): void {
  deleteCookie(c, REFRESH_COOKIE, OPTIONS);
}

/**
 * The refresh token of a cookie refresh, after the CSRF checks: the custom header is required,
 * and a browser's `Origin`, when sent, must be keel's own. Null when there is no cookie.
 */
export function refreshTokenFromCookie<E extends AppEnv>(c: Context<E>): string | null {
  const token = getCookie(c, REFRESH_COOKIE);
  if (!token) return null;
  if (!c.req.header(CSRF_HEADER)) {
    throw new AppError("forbidden", `A refresh with the cookie must send the ${CSRF_HEADER} header`);
  }
  const origin = c.req.header("Origin");
  // keel's own origin, or a front end listed in CORS_ORIGINS (same site, e.g. app.example.com
  // beside api.example.com: SameSite=Strict still keeps the cookie from any other site).
  const config = c.var.ctx.config;
  if (origin && origin !== new URL(c.req.url).origin && origin !== new URL(config.PUBLIC_BASE_URL).origin && !config.CORS_ORIGINS.includes(origin)) {
    throw new AppError("forbidden", "A refresh with the cookie must come from keel's own origin or one of CORS_ORIGINS");
  }
  return token;
}

/** Tokens as sent to a cookie client: the refresh token goes into the cookie, never into the body. */
export function deliverTokens<E extends AppEnv, T extends { refresh_token: string }>(c: Context<E>, tokens: T, delivery: "body" | "cookie" | undefined) {
  if (delivery !== "cookie") return tokens;
  const { refresh_token, ...rest } = tokens;
  setRefreshCookie(c, refresh_token);
  return { ...rest, refresh_token_delivery: "cookie" as const };
}
