/**
 * Pure rules of claimed email domains (issue 17, point 4): what a domain name may be, which are
 * public mail services that no organization can claim, the TXT record that proves ownership, and
 * how a DNS-over-HTTPS answer (the JSON format of Cloudflare's and Google's resolvers) is read.
 * No I/O here: sso.service asks the resolver and the database.
 */

/**
 * Public mail services: their addresses belong to millions of unrelated people, so no
 * organization can claim them (a claim would let one organization enforce its SSO on them, or
 * take the accounts of strangers into its sign-in). Families that exist under many country
 * domains are matched by their first label (`FAMILIES`).
 */
export const PUBLIC_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  "gmail.com", "googlemail.com",
  "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",
  "yahoo.com", "ymail.com", "rocketmail.com",
  "icloud.com", "me.com", "mac.com",
  "aol.com", "aim.com",
  "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
  "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "email.com",
  "yandex.com", "yandex.ru", "ya.ru", "mail.ru", "bk.ru", "inbox.ru", "list.ru",
  "zoho.com", "zohomail.com", "tutanota.com", "tutanota.de", "tuta.io", "tuta.com",
  "fastmail.com", "fastmail.fm", "hey.com", "hushmail.com", "mailbox.org", "posteo.de",
  "qq.com", "163.com", "126.com", "sina.com", "yeah.net", "foxmail.com",
  "naver.com", "daum.net", "hanmail.net",
  "rediffmail.com", "t-online.de", "freenet.de", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
  "libero.it", "virgilio.it", "tiscali.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
  "btinternet.com", "sky.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "cox.net",
  "duck.com", "skiff.com", "mailfence.com", "gmx.at", "gmx.ch", "bluewin.ch",
]);

/** First labels of mail services present under many country domains (yahoo.co.uk, hotmail.fr, gmx.at …). */
const FAMILIES: ReadonlySet<string> = new Set(["gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "yandex", "aol", "icloud", "protonmail", "msn", "windowslive"]);

/** Whether `domain` (normalised) is a public mail service, or a subdomain of one. */
export function isPublicMailDomain(domain: string): boolean {
  const labels = domain.split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    if (PUBLIC_MAIL_DOMAINS.has(labels.slice(i).join("."))) return true;
  }
  // yahoo.co.uk, hotmail.fr: a family name followed by a country or generic suffix of one or two labels.
  return labels.length <= 3 && FAMILIES.has(labels[0]!);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A top-level domain: letters, or an IDN in punycode. Never all digits, so IP addresses are no domains. */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * The canonical form of a domain name: lowercased, internationalised names in punycode (through
 * the URL parser's IDNA), no trailing dot; or null when it is no host name of at least two labels
 * (an IP address, a single label, an underscore, a label over 63 or a name over 253 characters).
 *
 * @example normalizeDomain("Example.COM.") // "example.com"
 */
export function normalizeDomain(input: string): string | null {
  let raw = input.trim().toLowerCase();
  if (raw.endsWith(".")) raw = raw.slice(0, -1);
  if (!raw || raw.length > 253 || /[\s/:@?#\\%[\]]/.test(raw)) return null;
  let host: string;
  try {
    host = new URL(`http://${raw}/`).hostname;
  } catch {
    return null;
  }
  if (host.length > 253) return null;
  const labels = host.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels.at(-1)!)) return null;
  return host;
}

/** The domain of an email address, normalised, or null. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf("@");
  return at < 1 ? null : normalizeDomain(email.slice(at + 1));
}

export const VERIFICATION_PREFIX = "keel-verification=";

/** The TXT record an organization publishes to prove it holds `domain`. */
export const verificationRecord = (domain: string, token: string) => ({
  type: "TXT" as const,
  name: `_keel-verification.${domain}`,
  value: `${VERIFICATION_PREFIX}${token}`,
});

/**
 * The TXT strings of a DNS-over-HTTPS JSON answer (`application/dns-json`): type-16 answers only,
 * each record's quoted character-strings joined (a long record arrives split as `"abc" "def"`).
 * Anything that is not such an answer yields no strings.
 */
export function txtStrings(answer: unknown): string[] {
  if (typeof answer !== "object" || answer === null) return [];
  const records = (answer as { Answer?: unknown }).Answer;
  if (!Array.isArray(records)) return [];
  const out: string[] = [];
  for (const r of records) {
    if (typeof r !== "object" || r === null) continue;
    const { type, data } = r as { type?: unknown; data?: unknown };
    if (type !== 16 || typeof data !== "string") continue;
    const parts = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, "$1"));
    out.push(parts.length > 0 ? parts.join("") : data);
  }
  return out;
}
