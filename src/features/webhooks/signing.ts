import { fromBase64, toBase64 } from "../../platform/encoding";

/** A new signing secret: `whsec_` + standard base64 of 24 random bytes (Standard Webhooks). */
export const newWebhookSecret = (): string => `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;

/**
 * The `webhook-signature` header value of Standard Webhooks: `v1,<base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}">` keyed by the bytes after `whsec_`; one signature per secret,
 * space-separated (the current secret first, then the previous one during a rotation).
 */
export async function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): Promise<string> {
  const message = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const sigs = await Promise.all(
    secrets.map(async (secret) => {
      const key = await crypto.subtle.importKey("raw", fromBase64(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, message)))}`;
    }),
  );
  return sigs.join(" ");
}
