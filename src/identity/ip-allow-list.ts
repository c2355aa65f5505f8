/**
 * IP allow-lists: exact addresses or CIDR ranges, IPv4 and IPv6. Pure functions.
 * @example ipAllowed("203.0.113.7", ["203.0.113.0/24"]) // true
 */

function parseV4(ip: string): bigint | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let out = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseV6(ip: string): bigint | null {
  let s = ip;
  const v4Tail = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  let tail: bigint | null = null;
  if (v4Tail) {
    tail = parseV4(v4Tail[2]!);
    if (tail === null) return null;
    s = `${v4Tail[1]}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let out = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    out = (out << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== null) out = (out & ~0xffffffffn) | tail;
  return out;
}

type Parsed = { v: 4 | 6; value: bigint };

export function parseIp(ip: string): Parsed | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return { v: 4, value: v4 };
  const v6 = ip.includes(":") ? parseV6(ip.replace(/^\[|\]$/g, "")) : null;
  if (v6 === null) return null;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address.
  if (v6 >> 32n === 0xffffn) return { v: 4, value: v6 & 0xffffffffn };
  return { v: 6, value: v6 };
}

/** An address or CIDR range, or null when malformed. */
export function parseCidr(entry: string): { v: 4 | 6; base: bigint; prefix: number } | null {
  const [addr, prefixText, extra] = entry.trim().split("/");
  if (extra !== undefined || !addr) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const bits = ip.v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return null;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { v: ip.v, base: ip.value & mask, prefix };
}

export const isValidIpOrCidr = (entry: string) => parseCidr(entry) !== null;

/** Whether `ip` falls in any entry. An empty or missing list allows every address. */
export function ipAllowed(ip: string, allowList: readonly string[] | null | undefined): boolean {
  if (!allowList || allowList.length === 0) return true;
  const parsed = parseIp(ip);
  if (!parsed) return false;
  for (const entry of allowList) {
    const range = parseCidr(entry);
    if (!range || range.v !== parsed.v) continue;
    const bits = range.v === 4 ? 32 : 128;
    const mask = range.prefix === 0 ? 0n : ((1n << BigInt(range.prefix)) - 1n) << BigInt(bits - range.prefix);
    if ((parsed.value & mask) === range.base) return true;
  }
  return false;
}
