/**
 * Signed tender links for email (issue 19, point 6): every tender link in an alert, digest,
 * reminder or change email is `${PUBLIC_BASE_URL}/l/{signed}`, which records the click and
 * redirects to the tender's page (tender-links.routes.tsx).
 *
 * `signed` = `<user>.<tender>.<source>.<expiry>.<mac>`: the ids as they are (ids never hold a dot),
 * the source as one letter, the expiry in seconds since the epoch (base 36), and a 128-bit
 * HMAC-SHA-256 (base64url) of everything before it under a key derived from DATA_ENCRYPTION_KEY
 * for this purpose only. About 110 characters; no D1 row. The link is the recipient's own: it only
 * lets its holder record a click for that recipient and reach a page that needs signing in anyway.
 */
import type { Env } from "../../env";
import type { Config } from "../../platform/config";
import type { ServiceContext } from "../../platform/context";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { timingSafeEqualStr } from "../../platform/crypto";
import { toBase64url } from "../../platform/encoding";
import { derivedKey } from "../../platform/secrets";
import { DAY } from "../../platform/time";

export const TENDER_LINK_SOURCES = ["alert", "digest", "reminder", "change"] as const;
export type TenderLinkSource = (typeof TENDER_LINK_SOURCES)[number];

const CODE: Record<TenderLinkSource, string> = { alert: "a", digest: "d", reminder: "r", change: "c" };
const SOURCE_OF: Record<string, TenderLinkSource> = { a: "alert", d: "digest", r: "reminder", c: "change" };
const PURPOSE = "tender-link:v1";
/** Bytes of the HMAC kept: 128 bits cannot be guessed; a shorter link fits every mail client. */
const MAC_BYTES = 16;
/** What an id may hold: keel's ids (`prefix_` + Crockford base32) and imported ones, never a dot. */
const ID = /^[A-Za-z0-9_-]{1,100}$/;

export interface TenderLink {
  userId: string;
  tenderId: string;
  source: TenderLinkSource;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

const mac = (key: Uint8Array, body: string) => toBase64url(hmac(sha256, key, utf8ToBytes(body)).slice(0, MAC_BYTES));

/** The `{signed}` of a link; ids with characters outside ID are refused (they are never minted). */
export function signTenderLink(env: Env, config: Config, link: TenderLink): string {
  if (!ID.test(link.userId) || !ID.test(link.tenderId)) throw new Error("tender link: unexpected id format");
  const body = `${link.userId}.${link.tenderId}.${CODE[link.source]}.${Math.ceil(link.expiresAt / 1000).toString(36)}`;
  return `${body}.${mac(derivedKey(env, config, PURPOSE), body)}`;
}

/**
 * The link's content when it is authentic and not expired at `now`, else null. The MAC is
 * compared in constant time before anything else is read. A missing secret is not a bad link: it
 * throws (503), like every signing path.
 */
export function verifyTenderLink(env: Env, config: Config, signed: string, now: Date): TenderLink | null {
  const key = derivedKey(env, config, PURPOSE);
  if (signed.length > 400) return null;
  const cut = signed.lastIndexOf(".");
  if (cut <= 0) return null;
  const body = signed.slice(0, cut);
  if (!timingSafeEqualStr(signed.slice(cut + 1), mac(key, body))) return null;
  const [userId, tenderId, code, exp, extra] = body.split(".");
  if (!userId || !tenderId || !code || !exp || extra !== undefined) return null;
  const source = SOURCE_OF[code];
  const expiresAt = parseInt(exp, 36) * 1000;
  if (!source || !Number.isFinite(expiresAt) || expiresAt <= now.getTime()) return null;
  return { userId, tenderId, source, expiresAt };
}

/**
 * The URL that an email shows for a tender: `${PUBLIC_BASE_URL}/l/{signed}`, valid for
 * TENDER_LINK_TTL_DAYS from `ctx.now`.
 */
export async function tenderEmailUrl(
  ctx: Pick<ServiceContext, "env" | "config" | "now">,
  args: { userId: string; tenderId: string; source: "alert" | "digest" | "reminder" | "change" },
): Promise<string> {
  const signed = signTenderLink(ctx.env, ctx.config, { ...args, expiresAt: ctx.now.getTime() + ctx.config.TENDER_LINK_TTL_DAYS * DAY });
  const base = ctx.config.PUBLIC_BASE_URL;
  return new URL(`l/${signed}`, base.endsWith("/") ? base : `${base}/`).toString();
}

/** Where a valid link sends the browser: the deployment's front end, else the console's tender view. */
export function tenderPageUrl(config: Config, tenderId: string): string {
  const id = encodeURIComponent(tenderId);
  const under = (base: string, path: string) => new URL(path, base.endsWith("/") ? base : `${base}/`).toString();
  return config.EMAIL_LINK_BASE_URL ? under(config.EMAIL_LINK_BASE_URL, `tenders/${id}`) : under(config.PUBLIC_BASE_URL, `console/tenders/${id}`);
}
