/**
 * Whether a webhook endpoint URL is safe to call (docs/api.md, Integrators): `https:` only (plain
 * `http://localhost` / `127.0.0.1` / `[::1]` only in development and test), no credentials in it,
 * and no IP literal in a private, loopback, link-local, shared, unique-local, multicast or reserved
 * range, IPv4 or IPv6 (the WHATWG parser has already turned `2130706433` or `0x7f.1` into
 * `127.0.0.1`). A hostname cannot be resolved here; Workers' fetch does not reach private networks.
 * Returns null when allowed, or the reason.
 */
export function webhookUrlProblem(raw: string, opts: { allowLocalHttp: boolean }): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "not a URL";
  }
  if (u.username || u.password) return "credentials are not allowed in the URL";
  // A fully qualified name's trailing dot ("localhost.") names the same host: judge it without.
  const host = u.hostname.toLowerCase().replace(/\.$/, "");
  const local = host === "localhost" || host === "127.0.0.1" || host === "[::1]";
  if (u.protocol === "http:") {
    if (opts.allowLocalHttp && local) return null;
    return "the URL must use https";
  }
  if (u.protocol !== "https:") return "the URL must use https";
  if (!host) return "the URL has no host";
  if (host === "localhost" || host.endsWith(".localhost")) return "localhost is not allowed";
  if (host.startsWith("[")) return ipv6Problem(host.slice(1, -1));
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return ipv4Problem(host.split(".").map(Number));
  return null;
}

function ipv4Problem([a = 0, b = 0, c = 0]: number[]): string | null {
  const blocked =
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // shared address space (CGNAT)
    (a === 169 && b === 254) || // link-local (cloud metadata)
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224; // multicast, reserved, broadcast
  return blocked ? "private, loopback, link-local or reserved IP addresses are not allowed" : null;
}

/** Expands an IPv6 literal (as the URL parser prints it: compressed, lower case, maybe with an embedded IPv4) to 8 groups. */
function ipv6Groups(text: string): number[] | null {
  let s = text;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv6Problem(text: string): string | null {
  const g = ipv6Groups(text);
  if (!g) return "not a valid IPv6 address";
  const bad = "private, loopback, link-local or reserved IP addresses are not allowed";
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (g.slice(0, 7).every((x) => x === 0) && (g7 === 0 || g7 === 1)) return bad; // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judge the IPv4 inside.
  const embedded = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) return ipv4Problem(embedded) ?? null;
  // IPv4-translated (::ffff:0:a.b.c.d, RFC 2765).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return ipv4Problem(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return bad; // local-use NAT64 (64:ff9b:1::/48, RFC 8215)
  if (g0 === 0x64 && g1 === 0xff9b) return ipv4Problem(embedded);
  if ((g0 & 0xfe00) === 0xfc00) return bad; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return bad; // link-local, site-local
  if ((g0 & 0xff00) === 0xff00) return bad; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return bad; // documentation
  if (g0 === 0x2002) return ipv4Problem([g1 >> 8, g1 & 0xff, g2 >> 8, g2 & 0xff]); // 6to4
  return null;
}
