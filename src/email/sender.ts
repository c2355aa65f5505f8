import type { Config } from "../platform/config";
import { toBase64, utf8Bytes } from "../platform/encoding";
import type { Env } from "../env";

export interface OutgoingEmail {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post); names and values are ASCII. */
  headers?: Record<string, string> | null;
}

/**
 * The provider refused this message for good (the address, not keel's configuration or a passing
 * outage): not retried, and the address is suppressed for alert and digest mail. Any other error
 * a sender throws is transient: retried with backoff.
 */
export class PermanentEmailError extends Error {
  override readonly name = "PermanentEmailError";
}

/**
 * HTTP provider: which 4xx are transient. 401/403 (keel's token or sending domain), 408 and 429
 * (the provider is busy) and 409 (a concurrent request with the same idempotency key) are not
 * about the address. Every other 4xx (400 invalid recipient, 422 rejected, 404, 410…) is permanent.
 * 5xx and network errors are transient.
 */
const TRANSIENT_4XX = new Set([401, 403, 408, 409, 425, 429]);
export const isPermanentHttpStatus = (status: number) => status >= 400 && status < 500 && !TRANSIENT_4XX.has(status);

/**
 * Cloudflare's send_email binding throws a plain Error. A refused destination ("email to <addr>
 * not allowed": not a verified destination of the account or the binding; an invalid or
 * rejected recipient) is permanent; a refused sender ("email from … not allowed") is keel's
 * configuration, and anything else may pass: transient.
 */
export const isPermanentSendEmailError = (message: string) =>
  /\bemail to\b.*\bnot allowed\b/i.test(message) || /\b(destination|recipient)\b[^.]*\b(not verified|unverified|invalid|rejected|suppressed|does not exist|not allowed)\b/i.test(message);

/** The one port for email delivery; adapters are chosen by EMAIL_PROVIDER. */
export interface EmailSender {
  readonly name: string;
  send(email: OutgoingEmail): Promise<{ messageId: string | null }>;
}

/**
 * Local default: the outbox row *is* the delivered message, readable at /dev/mailbox.
 * Delivery only marks it sent.
 */
export const outboxSender: EmailSender = {
  name: "outbox",
  send: async (email) => ({ messageId: `outbox:${email.id}` }),
};

/** A generic JSON email API (Resend-compatible: POST {from,to,subject,text,html}, bearer token). */
export function httpSender(endpoint: string, token: string): EmailSender {
  return {
    name: "http",
    async send(email) {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": email.id },
        body: JSON.stringify({ from: email.from, to: [email.to], subject: email.subject, text: email.text, html: email.html, ...(email.headers ? { headers: email.headers } : {}) }),
      });
      if (!response.ok) {
        const text = `email API answered ${response.status}: ${(await response.text()).slice(0, 200)}`;
        throw isPermanentHttpStatus(response.status) ? new PermanentEmailError(text) : new Error(text);
      }
      const body = (await response.json().catch(() => ({}))) as { id?: string };
      return { messageId: body.id ?? null };
    },
  };
}

const mimeHeader = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${toBase64(utf8Bytes(value))}?=`);
const base64Lines = (value: string) => (toBase64(utf8Bytes(value)).match(/.{1,76}/g) ?? []).join("\r\n");
const address = (value: string) => value.match(/<([^>]+)>/)?.[1] ?? value.trim();

/** Builds a multipart/alternative MIME message (text + HTML) for Cloudflare's send_email binding. */
export function buildMime(email: OutgoingEmail, boundary = `keel-${email.id}`): string {
  return [
    `From: ${email.from}`,
    `To: ${email.to}`,
    `Subject: ${mimeHeader(email.subject)}`,
    `Message-ID: <${email.id}@keel>`,
    ...Object.entries(email.headers ?? {}).map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, "")}`),
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(email.text),
    `--${boundary}`,
    "Content-Type: text/html; charset=UTF-8",
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(email.html),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** Cloudflare Email Routing's `send_email` binding (destination addresses must be verified there). */
export function cloudflareSender(binding: SendEmail): EmailSender {
  return {
    name: "cloudflare",
    async send(email) {
      const { EmailMessage } = await import("cloudflare:email");
      try {
        await binding.send(new EmailMessage(address(email.from), email.to, buildMime(email)));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (isPermanentSendEmailError(message)) throw new PermanentEmailError(message);
        throw err;
      }
      return { messageId: `<${email.id}@keel>` };
    },
  };
}

/** Picks the configured adapter. Misconfiguration fails loudly, at delivery, with retries. */
export function createEmailSender(env: Env, config: Config): EmailSender {
  switch (config.EMAIL_PROVIDER) {
    case "outbox":
      return outboxSender;
    case "http":
      if (!config.EMAIL_HTTP_ENDPOINT || typeof env.EMAIL_API_TOKEN !== "string") {
        throw new Error("EMAIL_PROVIDER=http needs EMAIL_HTTP_ENDPOINT and the EMAIL_API_TOKEN secret");
      }
      return httpSender(config.EMAIL_HTTP_ENDPOINT, env.EMAIL_API_TOKEN);
    case "cloudflare":
      if (!env.SEND_EMAIL) throw new Error("EMAIL_PROVIDER=cloudflare needs a send_email binding named SEND_EMAIL");
      return cloudflareSender(env.SEND_EMAIL);
  }
}
