import { z } from "@hono/zod-openapi";

/**
 * Control characters (newlines, tabs, escapes), line/paragraph separators and every format
 * character (\p{Cf}: zero-width spaces and joiners, bidirectional marks, overrides and isolates,
 * soft hyphens, tags) that hide or disguise text. The one exception: a zero-width (non-)joiner
 * between two letters, which Persian and Indic names need for their spelling (see JOINER).
 */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;
const FORMAT = /\p{Cf}/u;
const JOINER = /(?<=[\p{L}\p{M}])[\u200C\u200D](?=[\p{L}\p{M}])/gu;
/** What makes a name a link in a mail client: a scheme, `www.`, an address. */
const LINK = /:\/\/|www\.|@/i;
/**
 * Anything shaped like a domain: a label, a dot (or a full-width / ideographic one) directly
 * after it, then 2+ letters (`example.com`, `evil.рф`). A space after the dot ("Dr. A. Kumar")
 * makes no domain. The tld is looked at, not consumed, so `a.b.example.com` is judged at every dot.
 */
const DOMAIN = /(?<![\p{L}\p{N}-])([\p{L}\p{N}-]+)[.\u3002\uFF0E\uFF61](?=(\p{L}{2,})(.?))/gu;
/** An initial before a capitalised name ("S.K.Sharma", "A.Kumar") is a name, not a domain, unless a path follows. */
const isInitialAndName = (label: string, next: string, after: string) => [...label].length === 1 && /^\p{Lu}\p{Ll}+$/u.test(next) && after !== "/";

function hasLink(text: string): boolean {
  if (LINK.test(text)) return true;
  for (const [, label, next, after] of text.matchAll(DOMAIN)) {
    if (!isInitialAndName(label!, next!, after ?? "")) return true;
  }
  return false;
}

/** Whether `value` is plain text fit to be put into an email: no link, no control or hidden format characters. */
export function isPlainText(value: string): boolean {
  if (CONTROL.test(value)) return false;
  // Compatibility forms (full-width letters and dots, ligatures) are judged as what they render as.
  const normal = value.normalize("NFKC");
  // The only format characters allowed (joiners between letters) are judged as absent.
  const joinersOut = normal.replace(JOINER, "");
  return !FORMAT.test(joinersOut) && !hasLink(joinersOut);
}

/**
 * A name that keel puts into emails (a person's full name, an organization's name): trimmed,
 * 1–300 characters, plain text without links (`://`, `www.`, `@`, anything shaped like a domain
 * such as `example.com`, full-width or hidden behind zero-width characters) or control and
 * format characters, so nobody can send links or forged lines through keel's invitation and
 * verification mail. "Dr. A. Kumar", "O'Brien", "Jean-Luc" and names in any script pass. The one
 * rule for every write of such a name (registration, profile, administration, import,
 * organizations); narrow its length with `.max()`.
 */
export const PlainTextName = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .refine(isPlainText, { message: "Use plain text: no links (://, www., @, domain names) and no control or invisible characters" });
