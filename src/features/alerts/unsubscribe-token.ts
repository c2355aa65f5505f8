/**
 * One-click unsubscribe tokens (RFC 8058) for alert and digest emails: a signed, single-purpose
 * token, `<base64url(payload)>.<HMAC-SHA-256 hex>`, under a key derived from DATA_ENCRYPTION_KEY
 * for this purpose only. No D1 row: the token names the user and what to turn off, and turning
 * it off twice is harmless, so it needs no expiry or single use.
 */
import { tokenLink, type LinkConfig } from "../../email/templates";
import type { Env } from "../../env";
import type { Config } from "../../platform/config";
import { base64url, hmacHex, timingSafeEqualStr } from "../../platform/crypto";
import { derivedKey } from "../../platform/secrets";

export type UnsubscribeTarget = { userId: string; alertId: string } | { userId: string; digest: true };

const PURPOSE = "unsubscribe:v1";

export function signUnsubscribeToken(env: Env, config: Config, target: UnsubscribeTarget): string {
  const payload = base64url(new TextEncoder().encode(JSON.stringify("alertId" in target ? { u: target.userId, a: target.alertId } : { u: target.userId, d: 1 })));
  return `${payload}.${hmacHex(derivedKey(env, config, PURPOSE), payload)}`;
}

/** The target of a valid token, or null (malformed, or not signed by us). */
export function verifyUnsubscribeToken(env: Env, config: Config, token: string): UnsubscribeTarget | null {
  const [payload, mac, extra] = token.split(".");
  if (!payload || !mac || extra !== undefined) return null;
  if (!timingSafeEqualStr(mac, hmacHex(derivedKey(env, config, PURPOSE), payload))) return null;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const data = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)))) as { u?: unknown; a?: unknown; d?: unknown };
    if (typeof data.u !== "string") return null;
    if (typeof data.a === "string") return { userId: data.u, alertId: data.a };
    if (data.d === 1) return { userId: data.u, digest: true };
    return null;
  } catch {
    return null;
  }
}

/**
 * The links for an email that carries this token: the visible link opens the `/unsubscribe` page
 * (EMAIL_LINK_BASE_URL like every emailed link; it acts only on its button, since mail scanners
 * prefetch), while the RFC 8058 headers point mail clients at the one-click API on PUBLIC_BASE_URL.
 */
export function unsubscribeParts(config: LinkConfig, token: string): { url: string; headers: Record<string, string> } {
  const api = new URL("/api/v1/unsubscribe", config.PUBLIC_BASE_URL);
  api.searchParams.set("token", token);
  return { url: tokenLink(config, "unsubscribe", token), headers: { "List-Unsubscribe": `<${api.toString()}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" } };
}
