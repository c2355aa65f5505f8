/**
 * One-click unsubscribe tokens (RFC 8058) for alert and digest emails: the target and the time of
 * issue, sealed with AES-256-GCM under DATA_ENCRYPTION_KEY (platform/secrets `seal`, bound to this
 * purpose), so a token is authentic and carries no readable user or alert id: `u2.<iv>.<ct>`.
 * No D1 row: the alert's `email_resumed_at` refuses a token issued before the user turned that
 * alert's email back on, and turning something off that is already off writes nothing.
 *
 * Tokens of the earlier format (`<base64url(payload)>.<HMAC hex>`, in emails already sent) are
 * still accepted, as issued at time 0: they stop working for any alert whose email was turned back
 * on since the field exists.
 */
import { tokenLink, type LinkConfig } from "../../email/templates";
import type { Env } from "../../env";
import type { Config } from "../../platform/config";
import { hmacHex, timingSafeEqualStr } from "../../platform/crypto";
import { textFromBase64 } from "../../platform/encoding";
import { derivedKey, open, seal } from "../../platform/secrets";

export type UnsubscribeTarget = { userId: string; alertId: string } | { userId: string; digest: true };
/** A verified token: its target and when it was issued (ms since the epoch). */
export type VerifiedUnsubscribe = UnsubscribeTarget & { issuedAt: number };

const PURPOSE_V1 = "unsubscribe:v1";
const CONTEXT = "keel:unsubscribe:v2";
const PREFIX = "u2.";

export async function signUnsubscribeToken(env: Env, config: Config, target: UnsubscribeTarget, now: Date): Promise<string> {
  const payload = "alertId" in target ? { u: target.userId, a: target.alertId, t: now.getTime() } : { u: target.userId, d: 1, t: now.getTime() };
  // seal() answers `v1.<iv>.<ct>`; the token names its own format.
  const sealed = await seal(env, config, JSON.stringify(payload), CONTEXT);
  return PREFIX + sealed.slice("v1.".length);
}

const toTarget = (data: { u?: unknown; a?: unknown; d?: unknown; t?: unknown }, issuedAt: number): VerifiedUnsubscribe | null => {
  if (typeof data.u !== "string") return null;
  if (typeof data.a === "string") return { userId: data.u, alertId: data.a, issuedAt };
  if (data.d === 1) return { userId: data.u, digest: true, issuedAt };
  return null;
};

/** The target of a valid token, or null (malformed, or not sealed or signed by us). */
export async function verifyUnsubscribeToken(env: Env, config: Config, token: string): Promise<VerifiedUnsubscribe | null> {
  // Outside the try: a missing secret is a 503 (missingSecret), not a bad link.
  const v1Key = derivedKey(env, config, PURPOSE_V1);
  try {
    if (token.startsWith(PREFIX)) {
      const data = JSON.parse(await open(env, config, `v1.${token.slice(PREFIX.length)}`, CONTEXT)) as { u?: unknown; a?: unknown; d?: unknown; t?: unknown };
      return typeof data.t === "number" && Number.isFinite(data.t) ? toTarget(data, data.t) : null;
    }
    const [payload, mac, extra] = token.split(".");
    if (!payload || !mac || extra !== undefined) return null;
    if (!timingSafeEqualStr(mac, hmacHex(v1Key, payload))) return null;
    return toTarget(JSON.parse(textFromBase64(payload)) as Record<string, unknown>, 0);
  } catch {
    return null;
  }
}

/**
 * The links for an email that carries this token: the visible link opens the `/unsubscribe` page
 * (EMAIL_LINK_BASE_URL like every emailed link; it acts only on its button, since mail scanners
 * prefetch), while the RFC 8058 headers point mail clients at the one-click API on PUBLIC_BASE_URL,
 * which acts only on POST.
 */
export function unsubscribeParts(config: LinkConfig, token: string): { url: string; headers: Record<string, string> } {
  const api = new URL("/api/v1/unsubscribe", config.PUBLIC_BASE_URL);
  api.searchParams.set("token", token);
  return { url: tokenLink(config, "unsubscribe", token), headers: { "List-Unsubscribe": `<${api.toString()}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" } };
}
