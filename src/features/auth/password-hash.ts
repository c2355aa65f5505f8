/**
 * Password hashing with native scrypt (node:crypto under nodejs_compat), stored as
 * self-describing PHC strings so work factors can be raised later. Verification also
 * accepts the seed systems' formats (bcrypt, Werkzeug pbkdf2/scrypt) and flags them
 * for rehash, so imported users keep their passwords.
 */
import { Buffer } from "node:buffer";
import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { fromBase64, toBase64NoPad } from "../../platform/encoding";

/** scrypt cost parameters: N (CPU/memory cost, power of two), r (block size), p (parallelism). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP Password Storage Cheat Sheet equivalent: N=2^14, r=8, p=5 (≈16 MiB, ~200 ms CPU in workerd). */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 14, r: 8, p: 5 });

/** Outcome of a verification; `needsRehash` is only ever true when `ok` is. */
export interface VerifyResult {
  ok: boolean;
  needsRehash: boolean;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MiB = 1024 * 1024;

// Caps on attacker-controllable work factors (a stored hash may come from an import or a
// tampered row): beyond these, an import fails the row (`hash_too_costly`) and verification is
// refused instead of burning CPU/memory. Each is the most one login may cost on a production
// Worker, measured in V8/BoringSSL: keel's own default (scrypt 2^14·8·5, 16 MiB) ≈ 0.2–0.3 s;
// scrypt N·r·p ≤ 2^20 and ≤ 64 MiB (half a Worker's 128 MB isolate; Werkzeug's default
// scrypt:32768:8:1 is 32 MiB) ≈ 0.4 s; PBKDF2 ≤ 1,000,000 iterations (Werkzeug's defaults are
// 600,000 and 1,000,000) ≈ 0.2–0.6 s; bcrypt cost ≤ 12 ≈ 0.3–0.4 s, cost 13 ≈ 0.9 s, 14 ≈ 1.8 s.
// bcrypt is the one that blocks: bcryptjs is JavaScript, and its async API does not help in a
// Worker, because it cuts the work into 100 ms slices by `Date.now()`, which a Worker freezes
// while code runs (timers only advance on I/O), so the whole hash would still run as one slice.
// Bounding the cost is what keeps a bcrypt verification from holding the isolate for seconds.
const MAX_SCRYPT_NRP = 2 ** 20;
const MAX_SCRYPT_MEMORY = 64 * MiB;
const MAX_PBKDF2_ITERATIONS = 1_000_000;
export const MAX_BCRYPT_COST = 12;

const FAIL: VerifyResult = Object.freeze({ ok: false, needsRehash: false });

/**
 * Hashes a password (NFKC-normalised, per SP 800-63B) into
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>`.
 * Throws if `params` are invalid or exceed the safety caps.
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  if (!scryptParamsAllowed(params)) throw new RangeError("Invalid or excessive scrypt parameters");
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(normalizedBytes(password), salt, KEY_BYTES, params);
  const ln = Math.log2(params.N);
  return `$scrypt$ln=${ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/**
 * Verifies `password` against a stored hash in any supported format. Never throws for
 * malformed or unknown `stored` values: those simply fail (`ok: false`).
 * `needsRehash` is true when the password matched but `stored` is a legacy format or
 * uses parameters other than `current`.
 */
export async function verifyPassword(
  password: string,
  stored: string,
  current: ScryptParams = DEFAULT_SCRYPT,
): Promise<VerifyResult> {
  if (stored.startsWith("$scrypt$")) return verifyPhcScrypt(password, stored, current);
  if (/^\$2[aby]\$/.test(stored)) return legacy(await verifyBcrypt(password, stored));
  if (stored.startsWith("pbkdf2:") || stored.startsWith("scrypt:")) {
    return legacy(await verifyWerkzeug(password, stored));
  }
  // Not a hash at all: the marker of an account without a password (created by an administrator
  // or imported without a hash). Refusing it costs the same hash as an unknown email does, so
  // neither the answer nor its time tells such an account from a missing one.
  await verifyDummy(password);
  return FAIL;
}

let dummyHash: Promise<string> | undefined;

/** Spend the same CPU as a real verification, for unknown emails (timing equalisation). Always resolves false. */
export async function verifyDummy(password: string): Promise<false> {
  // Computed once per isolate; the first unknown-email login pays for a hash plus a verify.
  dummyHash ??= hashPassword("keel-timing-equalisation-dummy", DEFAULT_SCRYPT);
  let stored: string;
  try {
    stored = await dummyHash;
  } catch (err) {
    dummyHash = undefined; // let a later call retry rather than caching a failure
    throw err;
  }
  await verifyPassword(password, stored, DEFAULT_SCRYPT);
  return false;
}

// ---------------------------------------------------------------------------
// Our PHC scrypt format

const PHC_SCRYPT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

async function verifyPhcScrypt(
  password: string,
  stored: string,
  current: ScryptParams,
): Promise<VerifyResult> {
  const m = PHC_SCRYPT.exec(stored);
  if (!m) return FAIL;
  const [, lnStr = "", rStr = "", pStr = "", saltStr = "", hashStr = ""] = m;
  const params: ScryptParams = { N: 2 ** Number(lnStr), r: Number(rStr), p: Number(pStr) };
  if (!scryptParamsAllowed(params)) return FAIL;
  const salt = unb64(saltStr);
  const expected = unb64(hashStr);
  if (!salt || !expected || salt.length < 8 || expected.length < 16 || expected.length > 64) return FAIL;

  const actual = await scryptAsync(normalizedBytes(password), salt, expected.length, params);
  if (!timingSafeEqual(actual, expected)) return FAIL;
  const upToDate =
    params.N === current.N &&
    params.r === current.r &&
    params.p === current.p &&
    salt.length === SALT_BYTES &&
    expected.length === KEY_BYTES;
  return { ok: true, needsRehash: !upToDate };
}

// ---------------------------------------------------------------------------
// Legacy formats from the seed systems (always rehashed on success)

function legacy(ok: boolean): VerifyResult {
  return ok ? { ok: true, needsRehash: true } : FAIL;
}

const BCRYPT = /^\$2([aby])\$(\d\d)\$[./A-Za-z0-9]{53}$/;

async function verifyBcrypt(password: string, stored: string): Promise<boolean> {
  const m = BCRYPT.exec(stored);
  if (!m) return false;
  const cost = Number(m[2]);
  if (cost < 4 || cost > MAX_BCRYPT_COST) return false;
  // $2y$ (PHP) is the same algorithm as $2b$; normalise for bcryptjs.
  const hash = m[1] === "y" ? `$2b$${stored.slice(4)}` : stored;
  // Seed systems hashed the raw input, so no NFKC here. compareSync is constant-time.
  // bcryptjs is loaded by the first imported bcrypt hash, as its own chunk (docs/performance.md).
  const { default: bcrypt } = await import("bcryptjs");
  return bcrypt.compareSync(password, hash);
}

const DECIMAL = /^[1-9]\d{0,9}$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Werkzeug `generate_password_hash` output: `<method>$<salt>$<hex digest>`. */
async function verifyWerkzeug(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 3) return false;
  const [method, saltStr, hex] = parts as [string, string, string];
  if (saltStr.length === 0 || !HEX.test(hex)) return false;
  const expected = Buffer.from(hex, "hex");
  // Werkzeug uses the salt string's UTF-8 bytes, and the raw (un-normalised) password.
  const salt = Buffer.from(saltStr, "utf8");
  const pw = Buffer.from(password, "utf8");

  const args = method.split(":");
  let actual: Buffer;
  if (args[0] === "pbkdf2" && args.length === 3) {
    const digest = args[1];
    const keyLen = digest === "sha256" ? 32 : digest === "sha512" ? 64 : 0;
    const itStr = args[2] ?? "";
    if (keyLen === 0 || !DECIMAL.test(itStr)) return false;
    const iterations = Number(itStr);
    if (iterations > MAX_PBKDF2_ITERATIONS || expected.length !== keyLen) return false;
    actual = await pbkdf2Async(pw, salt, iterations, keyLen, digest as "sha256" | "sha512");
  } else if (args[0] === "scrypt" && args.length === 4) {
    const [, nStr = "", rStr = "", pStr = ""] = args;
    if (![nStr, rStr, pStr].every((s) => DECIMAL.test(s))) return false;
    const params: ScryptParams = { N: Number(nStr), r: Number(rStr), p: Number(pStr) };
    if (!scryptParamsAllowed(params) || expected.length !== 64) return false;
    actual = await scryptAsync(pw, salt, 64, params);
  } else {
    return false;
  }
  return timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------------------
// Helpers

function scryptParamsAllowed({ N, r, p }: ScryptParams): boolean {
  const isPow2 = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  return (
    isPow2 &&
    Number.isInteger(r) &&
    r >= 1 &&
    Number.isInteger(p) &&
    p >= 1 &&
    N * r * p <= MAX_SCRYPT_NRP &&
    scryptMemory({ N, r, p }) <= MAX_SCRYPT_MEMORY
  );
}

// Working memory of scrypt: V is 128·r·N bytes, B is 128·r·p bytes.
function scryptMemory({ N, r, p }: ScryptParams): number {
  return 128 * r * (N + p);
}

function scryptAsync(
  password: Uint8Array,
  salt: Uint8Array,
  keyLen: number,
  { N, r, p }: ScryptParams,
): Promise<Buffer> {
  // maxmem is only a ceiling; the headroom avoids spurious "memory limit exceeded" errors.
  const maxmem = Math.max(64 * MiB, 256 * N * r * p + 4 * MiB);
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLen, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function pbkdf2Async(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  keyLen: number,
  digest: "sha256" | "sha512",
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, keyLen, digest, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function normalizedBytes(password: string): Buffer {
  return Buffer.from(password.normalize("NFKC"), "utf8");
}

const b64 = toBase64NoPad;

// Only input that round-trips exactly: standard alphabet, no padding, no white space.
function unb64(s: string): Uint8Array | undefined {
  try {
    const bytes = fromBase64(s);
    return b64(bytes) === s ? bytes : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Import: which stored hashes an import may carry

/** The formats an imported `password_hash` may have (all of them verify at login and are rehashed). */
export type ImportedHashKind = "bcrypt" | "werkzeug_pbkdf2" | "werkzeug_scrypt" | "keel_scrypt";

const IMPORT_BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const IMPORT_PBKDF2 = /^pbkdf2:(sha256|sha512):([1-9]\d{0,9})\$([^$]+)\$([0-9a-fA-F]+)$/;
const IMPORT_WZ_SCRYPT = /^scrypt:([1-9]\d{0,9}):([1-9]\d{0,9}):([1-9]\d{0,9})\$([^$]+)\$([0-9a-fA-F]{128})$/;

/** Well-formed scrypt parameters (N a power of two ≥ 2, r and p ≥ 1), whatever their cost. */
function scryptParamsWellFormed({ N, r, p }: ScryptParams): boolean {
  return Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0 && Number.isInteger(r) && r >= 1 && Number.isInteger(p) && p >= 1;
}

/**
 * Recognises a password hash brought in by an import, without computing anything: bcrypt
 * (`$2a$/$2b$/$2y$`, 53 characters of bcrypt base64), Werkzeug `pbkdf2:sha256|sha512:<iterations>$salt$hex`
 * (digest length matching), Werkzeug `scrypt:N:r:p$salt$hex` and keel's `$scrypt$ln=…` PHC string.
 * `too_costly`: well formed, but its work factor is above what a login verifies (bcrypt cost >
 * MAX_BCRYPT_COST, PBKDF2 iterations, scrypt N·r·p or memory over the caps above): the user could
 * never sign in with it, and every attempt would burn a Worker's CPU, so the import fails that row
 * (`hash_too_costly`). `null`: not a recognised, well-formed hash (`invalid_password_hash`).
 */
export function classifyImportedHash(s: string): ImportedHashKind | "too_costly" | null {
  if (typeof s !== "string" || s.length > 1024) return null;
  const b = IMPORT_BCRYPT.exec(s);
  if (b) {
    const cost = Number(b[1]);
    if (cost < 4 || cost > 31) return null;
    return cost <= MAX_BCRYPT_COST ? "bcrypt" : "too_costly";
  }
  const p = IMPORT_PBKDF2.exec(s);
  if (p) {
    const [, digest, iterations, , hex = ""] = p;
    const keyHex = digest === "sha256" ? 64 : 128;
    if (hex.length !== keyHex) return null;
    return Number(iterations) <= MAX_PBKDF2_ITERATIONS ? "werkzeug_pbkdf2" : "too_costly";
  }
  const w = IMPORT_WZ_SCRYPT.exec(s);
  if (w) {
    const params = { N: Number(w[1]), r: Number(w[2]), p: Number(w[3]) };
    if (!scryptParamsWellFormed(params)) return null;
    return scryptParamsAllowed(params) ? "werkzeug_scrypt" : "too_costly";
  }
  const k = PHC_SCRYPT.exec(s);
  if (k) {
    const [, ln = "", r = "", p2 = "", salt = "", hash = ""] = k;
    const params = { N: 2 ** Number(ln), r: Number(r), p: Number(p2) };
    const saltBytes = unb64(salt);
    const key = unb64(hash);
    if (!(saltBytes && key && saltBytes.length >= 8 && key.length >= 16 && key.length <= 64) || !scryptParamsWellFormed(params)) return null;
    return scryptParamsAllowed(params) ? "keel_scrypt" : "too_costly";
  }
  return null;
}
