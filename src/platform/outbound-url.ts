/**
 * Whether keel may call `url` (an OpenID issuer, the DNS-over-HTTPS resolver): https only, without
 * credentials or a fragment; plain http only to 127.0.0.1 / localhost and only in development, so
 * the local test providers work and a production deployment never talks in clear text.
 */
export function isAllowedOutboundUrl(url: string, opts: { isDevelopment: boolean }): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password || u.hash) return false;
  if (u.protocol === "https:") return u.hostname !== "";
  return opts.isDevelopment && u.protocol === "http:" && (u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]");
}
