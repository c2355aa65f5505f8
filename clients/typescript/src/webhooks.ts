/**
 * Verifies a keel webhook delivery (Standard Webhooks, https://www.standardwebhooks.com): headers
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated
 * `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, several during a secret rotation), keyed
 * by the base64 secret after `whsec_`. WebCrypto only (browsers, Workers, Node, Deno, Bun); the
 * comparison is `crypto.subtle.verify`, constant-time.
 */

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export interface VerifyOptions {
  /** Seconds a delivery's timestamp may differ from now (default 300, the specification's 5 minutes). */
  toleranceSeconds?: number;
  /** Now, in ms (tests). */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? (found[0] ?? null) : (found ?? null);
}

function base64ToBytes(b64: string): Uint8Array | null {
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  const raw = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  if (!raw || raw.length === 0) throw new WebhookVerificationError("The webhook secret is not base64 (whsec_…)");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

/**
 * Checks a delivery and returns its parsed body `{id, type, timestamp, data}`. `body` must be the
 * raw request body, as received. `secret` may be a list (while you rotate on your side). Throws
 * `WebhookVerificationError` for missing headers, a timestamp outside the tolerance, or no
 * matching signature.
 */
export async function verifyWebhook<T = { id: string; type: string; timestamp: string; data: unknown }>(
  secret: string | readonly string[],
  headers: HeaderSource,
  body: string,
  opts: VerifyOptions = {},
): Promise<T> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature");
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError("Invalid webhook-timestamp");
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError("webhook-timestamp outside the tolerance");

  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const candidates = signatures
    .split(" ")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("v1,"))
    .map((s) => base64ToBytes(s.slice(3)))
    .filter((b): b is Uint8Array => b !== null && b.length === 32);
  const keys = await Promise.all((typeof secret === "string" ? [secret] : secret).map(hmacKey));
  for (const key of keys) {
    for (const sig of candidates) {
      if (await crypto.subtle.verify("HMAC", key, sig, signed)) return JSON.parse(body) as T;
    }
  }
  throw new WebhookVerificationError("No matching signature");
}
