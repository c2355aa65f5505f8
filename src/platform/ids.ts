const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A prefixed, time-sortable id: `usr_` + 10 chars of millisecond time + 16 random chars
 * (Crockford base32, 80 random bits), ULID-style. Sorting ids sorts by creation time, which
 * keyset pagination relies on.
 *
 * @example newId("usr") // "usr_01jd3k5v7c8q2w0x9y4z6a1b3c"
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of bytes) rand += CROCKFORD[b & 31];
  return `${prefix}_${time}${rand}`;
}
