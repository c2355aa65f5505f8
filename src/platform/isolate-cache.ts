/**
 * A bounded per-isolate cache with a time-to-live per entry: the one shape behind every
 * in-memory cache of keel (user views, API-key records and tombstones, unknown keys, access
 * grants, revocation markers).
 *
 * Isolate memory is per location and per isolate, and an isolate can be evicted at any time, so a
 * cache here only ever saves a round trip: D1 stays the truth, and whoever changes the underlying
 * data calls `delete` so this isolate never serves its own stale write. Other isolates may serve a
 * value until its TTL ends; every cache names that window where it is used.
 *
 * When full, the oldest entry goes (a Map iterates in insertion order), so a burst of new keys
 * cannot empty the cache the way clearing it would.
 */
export class IsolateCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(key: K, now: number): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until > now) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `value` until `now + ttlMs` (`Infinity`: until deleted); a TTL of 0 or less stores nothing. */
  set(key: K, value: V, now: number, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until: now + ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
