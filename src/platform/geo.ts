/** Where a request comes from, as Cloudflare's edge saw it (`request.cf`); null when unknown. */
export interface Geo {
  /** ISO 3166-1 alpha-2 code (Cloudflare also uses `T1` for Tor); `XX` (unknown) becomes null. */
  country: string | null;
  city: string | null;
}

/** Reads country and city from `request.cf`, keeping only well-formed values. */
export function geoOf(cf: unknown): Geo {
  const props = (cf && typeof cf === "object" ? cf : {}) as { country?: unknown; city?: unknown };
  const country = typeof props.country === "string" && /^[A-Z][A-Z0-9]$/.test(props.country) && props.country !== "XX" ? props.country : null;
  const city = typeof props.city === "string" && props.city.trim() !== "" ? props.city.trim().slice(0, 100) : null;
  return { country, city };
}
