/** Where a request comes from, as Cloudflare's edge saw it (`request.cf`); null when unknown. */
export interface Geo {
  /** ISO 3166-1 alpha-2 code (Cloudflare also uses `T1` for Tor); `XX` (unknown) becomes null. */
  country: string | null;
  city: string | null;
}

/**
 * wrangler dev (miniflare) answers `request.cf` with a fixed sample when it has no real one:
 * Austin, US, colo DFW, AS395747. Locally every session would claim to be in Texas.
 */
const isDevPlaceholder = (p: { city?: unknown; colo?: unknown; asn?: unknown; postalCode?: unknown }) =>
  p.city === "Austin" && p.colo === "DFW" && p.asn === 395747 && p.postalCode === "78701";

/**
 * Reads country and city from `request.cf`, keeping only well-formed values. In development,
 * wrangler dev's placeholder location is labelled as such instead of passing for a real one.
 */
export function geoOf(cf: unknown, opts: { development?: boolean } = {}): Geo {
  const props = (cf && typeof cf === "object" ? cf : {}) as { country?: unknown; city?: unknown; colo?: unknown; asn?: unknown; postalCode?: unknown };
  const country = typeof props.country === "string" && /^[A-Z][A-Z0-9]$/.test(props.country) && props.country !== "XX" ? props.country : null;
  let city = typeof props.city === "string" && props.city.trim() !== "" ? props.city.trim().slice(0, 100) : null;
  if (city && opts.development && isDevPlaceholder(props)) city = `${city} (wrangler dev placeholder)`;
  return { country, city };
}
