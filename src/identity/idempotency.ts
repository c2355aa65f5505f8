import type { Context } from "hono";
import type { Actor, OrgKeyActor } from "./actor";
import { claimKey, findKey, finishKey, purgeExpiredKeys, releaseKey } from "./idempotency.repo";
import type { ServiceContext } from "../platform/context";
import { randomToken, sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { HOUR, MINUTE } from "../platform/time";

/**
 * Idempotency-Key (IETF httpapi draft "The Idempotency-Key HTTP Header Field") on authenticated
 * POSTs. securedRoute calls `idempotent` after authentication and the write limit, before
 * validation and the handler:
 * - keys are per caller (`user:<id>`, or `key:<id>` for an API key): another caller's identical
 *   key is another key, so nobody can replay someone else's response;
 * - the first request claims the key with ONE guarded insert; its final response is kept for
 *   IDEMPOTENCY_TTL_HOURS and a repeat with the same fingerprint (method, path and query, body)
 *   gets it again with `Idempotent-Replayed: true`; another fingerprint → 422
 *   `idempotency_key_reused`; a repeat while the first runs → 409 `conflict`;
 * - a 5xx or 429 is not final: the claim is released so a retry runs;
 * - a response that carries a secret (a key shown once, tokens, TOTP secrets, backup codes, a
 *   Set-Cookie) or is larger than IDEMPOTENCY_MAX_BODY_BYTES is NOT kept: the key is spent, and a
 *   repeat answers 409 `conflict` saying so, rather than storing the secret or running twice.
 * Unauthenticated POSTs (/auth/register, /auth/login, …) ignore the header: no caller to scope a
 * key by, and their answers are tokens or deliberately uniform.
 */

/** A dead `running` claim (the worker died mid-request) is taken over by a retry after this. */
const LEASE_MS = 2 * MINUTE;

/** Response headers replayed with the body. */
const KEPT_HEADERS = ["content-type", "location", "etag"];

/** JSON members whose value is a credential shown once (checked at any depth). */
const SECRET_MEMBER = /secret|token|password|backup_codes|otpauth|ticket|^key$/i;

/** `"abc"` (an sf-string, as the draft writes it) or `abc`: 1–255 printable ASCII characters. */
export function parseIdempotencyKey(header: string): string {
  const raw = header.trim();
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (!/^[\x20-\x7e]{1,255}$/.test(value)) {
    throw new AppError("validation_failed", "Idempotency-Key must be 1 to 255 printable ASCII characters", {
      status: 400,
      errors: [{ path: "Idempotency-Key", message: "1 to 255 printable ASCII characters" }],
    });
  }
  return value;
}

// An organization key is its own caller: it has no user, and its organization's other keys are others.
const callerOf = (actor: Actor | OrgKeyActor) =>
  actor.kind === "orgKey" ? `orgkey:${actor.keyId}` : actor.kind === "apiKey" ? `key:${actor.keyId}` : `user:${actor.userId}`;

/** Whether a JSON value has a member that looks like a secret. */
export function carriesSecret(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => carriesSecret(v, depth + 1));
  return Object.entries(value).some(([k, v]) => (SECRET_MEMBER.test(k) && v !== null && v !== "") || carriesSecret(v, depth + 1));
}

function keepable(res: Response, body: string, maxBytes: number): boolean {
  if (res.headers.has("set-cookie")) return false;
  if (new TextEncoder().encode(body).length > maxBytes) return false;
  if (!/json/i.test(res.headers.get("content-type") ?? "") || body === "") return true;
  try {
    return !carriesSecret(JSON.parse(body));
  } catch {
    return false;
  }
}

type Ctx = ServiceContext;

/**
 * Runs `next` under the request's Idempotency-Key, if it has one (see the module comment). `c.res`
 * after `next` is the final response (onError has already turned a thrown error into a problem).
 */
export async function idempotent(ctx: Ctx, c: Context, actor: Actor | OrgKeyActor, next: () => Promise<void>): Promise<Response | void> {
  const header = c.req.header("Idempotency-Key");
  if (header === undefined) return next();
  const key = parseIdempotencyKey(header);
  const caller = callerOf(actor);
  const url = new URL(c.req.url);
  const body = await c.req.text();
  const fingerprint = sha256Hex(`${c.req.method} ${url.pathname}${url.search}\n${body}`);
  const claim = randomToken(16);
  const now = ctx.now;
  const claimed = await claimKey(ctx.db, {
    caller,
    key,
    userId: actor.kind === "orgKey" ? null : actor.userId,
    fingerprint,
    claim,
    now,
    leaseUntil: new Date(now.getTime() + LEASE_MS),
    expiresAt: new Date(now.getTime() + ctx.config.IDEMPOTENCY_TTL_HOURS * HOUR),
  });
  if (!claimed) {
    const row = await findKey(ctx.db, caller, key);
    if (!row) throw new AppError("conflict", "A request with this Idempotency-Key is in progress; retry shortly");
    if (row.fingerprint !== fingerprint) throw new AppError("idempotency_key_reused", "This Idempotency-Key was used with another request (method, path or body)");
    if (row.state === "running") throw new AppError("conflict", "A request with this Idempotency-Key is still in progress");
    if (row.body === null || row.status === null) {
      throw new AppError("conflict", "A request with this Idempotency-Key already completed; its response carried a secret or was too large to keep, so it is not replayed");
    }
    const headers = new Headers(row.headers ?? {});
    headers.set("Idempotent-Replayed", "true");
    return new Response(row.status === 204 || row.status === 304 ? null : row.body, { status: row.status, headers });
  }
  try {
    await next();
  } catch (err) {
    await releaseKey(ctx.db, caller, key, claim);
    throw err;
  }
  const res = c.res;
  if (res.status >= 500 || res.status === 429) {
    await releaseKey(ctx.db, caller, key, claim);
    return;
  }
  const text = await res.clone().text();
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  await finishKey(ctx.db, caller, key, claim, { status: res.status, headers, body: keepable(res, text, ctx.config.IDEMPOTENCY_MAX_BODY_BYTES) ? text : null });
}

/** Cron: deletes expired keys and their kept responses. */
export const purgeExpiredIdempotencyKeys = (ctx: ServiceContext) => purgeExpiredKeys(ctx.db, ctx.now);
