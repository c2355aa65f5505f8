import type { Context, Next } from "hono";
import { z } from "@hono/zod-openapi";
import type { AppEnv } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { Notice } from "./page-layout";

// The kit of the pages for the links keel emails (API.md "Service"): server-rendered, no script,
// and they act only on a button press (a POST form), never on GET, because mail scanners prefetch
// links. Each page sits beside the verb it calls (auth.pages.tsx, invitations.pages.tsx,
// unsubscribe.pages.tsx); each POST calls the same service as the JSON API and renders the result.

export type PageContext = Context<AppEnv>;

/** Where the pages send people on: the console. */
export const CONSOLE = "/console";

/**
 * An emailed token as the pages take it. Same bounds as the JSON API's inputs (auth.schemas.ts):
 * anything else is a broken link or a hand-made request, answered with a page, never a 500.
 */
export const PageToken = z.string().trim().min(16).max(512);

/**
 * Page forms must be posted from keel's own pages. Browsers say where a POST comes from with
 * `Sec-Fetch-Site` (authoritative when present) and `Origin` ("null" when the page's referrer
 * policy hides it): a cross-site form is refused (403 `forbidden`). Clients that send neither
 * header are not browsers, so they cannot be tricked into posting.
 */
export async function sameOriginForms(c: PageContext, next: Next) {
  const origin = c.req.header("Origin");
  const site = c.req.header("Sec-Fetch-Site");
  const own = [new URL(c.req.url).origin, new URL(c.var.ctx.config.PUBLIC_BASE_URL).origin];
  const allowed = site !== undefined ? site === "same-origin" : origin === undefined || own.includes(origin);
  if (!allowed) throw new AppError("forbidden", "This form can only be sent from keel's own page");
  await next();
}

/** A form body as strings only (files are not taken by any page). */
export async function form(c: PageContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(await c.req.parseBody())) if (typeof v === "string") out[k] = v;
  return out;
}

/** What to tell a person for an error of the API, in words (the problem's detail is written for people). */
export function sentence(err: AppError): string {
  if (err.code === "rate_limited") return `Too many attempts. Try again in ${Math.ceil(err.extra.retryAfter ?? 60)} seconds.`;
  return err.message;
}

export const pageStatus = (err: AppError) => err.status;

export const BrokenLink = ({ what }: { what: string }) => (
  <Notice kind="error">
    <p>This {what} link is incomplete. Open the link from the email again, or copy the whole address into the browser.</p>
  </Notice>
);
