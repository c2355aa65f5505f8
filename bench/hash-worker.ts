/**
 * Bench-only Worker (see bench/run.mjs and bench/hash.wrangler.toml): times the production
 * password hash inside workerd, plus the alternatives it was chosen over.
 *
 *   GET /ping          → "ok"
 *   GET /?n=10         → n sequential hashPassword + verifyPassword with DEFAULT_SCRYPT, per-call ms
 *   GET /compare       → one WebCrypto PBKDF2-SHA256 (600k, and 100k) and one @noble/hashes scrypt
 *                        (N=2^14, r=8, p=1), plus native scrypt at the same p=1 for reference
 *
 * Times come from performance.now() inside the worker. In local workerd the clock advances
 * during CPU work (in production it only advances on I/O), so these are real CPU times here.
 */
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt.js";
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from "../src/features/auth/password-hash";

const PASSWORD = "bench correct horse battery staple";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; dateMs: number; value: T }> {
  const d0 = Date.now();
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, dateMs: Date.now() - d0, value };
}

async function pbkdf2(iterations: number): Promise<{ ms: number } | { error: string }> {
  try {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(PASSWORD), "PBKDF2", false, ["deriveBits"]);
    const r = await timed(() => crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
    return { ms: r.ms };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("ok");

    if (url.pathname === "/compare") {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const pw = new TextEncoder().encode(PASSWORD);
      const noble = await timed(() => nobleScrypt(pw, salt, { N: 2 ** 14, r: 8, p: 1, dkLen: 32 }));
      const nativeP1 = await timed(() => hashPassword(PASSWORD, { N: 2 ** 14, r: 8, p: 1 }));
      return json({
        pbkdf2_sha256_600k: await pbkdf2(600_000),
        pbkdf2_sha256_100k: await pbkdf2(100_000),
        noble_scrypt_n14_r8_p1_ms: noble.ms,
        native_scrypt_n14_r8_p1_ms: nativeP1.ms,
      });
    }

    if (url.pathname === "/") {
      const n = Math.min(Math.max(Number(url.searchParams.get("n") ?? 10) || 10, 1), 50);
      const hashMs: number[] = [];
      const verifyMs: number[] = [];
      const hashDateMs: number[] = [];
      for (let i = 0; i < n; i++) {
        const h = await timed(() => hashPassword(PASSWORD));
        hashMs.push(h.ms);
        hashDateMs.push(h.dateMs);
        const v = await timed(() => verifyPassword(PASSWORD, h.value));
        if (!v.value.ok) return json({ error: "verifyPassword rejected a fresh hash" }, 500);
        verifyMs.push(v.ms);
      }
      return json({ params: DEFAULT_SCRYPT, n, hash_ms: hashMs, verify_ms: verifyMs, hash_date_ms: hashDateMs });
    }

    return new Response("not found", { status: 404 });
  },
};
