import type { Config } from "../platform/config";
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
      if (!response.ok) throw new Error(`email API answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      const body = (await response.json().catch(() => ({}))) as { id?: string };
      return { messageId: body.id ?? null };
    },
  };
}

const mimeHeader = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${btoa(String.fromCharCode(...new TextEncoder().encode(value)))}?=`);
const base64Lines = (value: string) => {
  const bytes = new TextEncoder().encode(value);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return (btoa(bin).match(/.{1,76}/g) ?? []).join("\r\n");
};
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
      await binding.send(new EmailMessage(address(email.from), email.to, buildMime(email)));
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
