import { z } from "@hono/zod-openapi";

/** C0/C1 control characters (newlines, tabs, escapes) and the bidirectional overrides and isolates that disguise text. */
const CONTROL = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
/** What makes a name a link in a mail client. */
const LINK = /:\/\/|www\./i;

/** Whether `value` is plain text fit to be put into an email: no link, no control characters. */
export const isPlainText = (value: string): boolean => !CONTROL.test(value) && !LINK.test(value);

/**
 * A name that keel puts into emails (a person's full name, an organization's name): trimmed,
 * 1–300 characters, plain text without URLs (`://`, `www.`) or control characters, so nobody
 * can send links or forged lines through keel's invitation and verification mail. The one rule
 * for every write of such a name (registration, profile, administration, import, organizations);
 * narrow its length with `.max()`.
 */
export const PlainTextName = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine(isPlainText, { message: "Use plain text: no links (://, www.) and no control characters" });
