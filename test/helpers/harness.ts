import { env, exports } from "cloudflare:workers";

// The worker under test (its default export), as a client would reach it over HTTP.
const worker = (exports as unknown as { default: { fetch: (url: string, init?: RequestInit) => Promise<Response> } }).default;
import { expect } from "vitest";
import { newApp } from "../../src/app";
import type { Clock } from "../../src/platform/time";

export const BASE = "http://keel.test";
export const API = `${BASE}/api/v1`;

let counter = 0;
/** A unique value per call, so tests never collide within a file (storage is per file). */
export const unique = (prefix = "u") => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A fresh client IP (per-IP rate limits must not leak between tests). */
export const randomIp = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

export const STRONG_PASSWORD = "violet-harbor-lantern-42";
export const OTHER_PASSWORD = "granite-meadow-compass-77";

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: BodyInit;
  token?: string;
  apiKey?: string;
  ip?: string;
  headers?: Record<string, string>;
  /** `request.cf` as Cloudflare's edge would set it (e.g. `{ country: "IN", city: "Patna" }`). */
  cf?: Record<string, unknown>;
  /** "manual" to see a 302 itself (the default follows it, into the worker). */
  redirect?: "follow" | "manual";
}

/** Calls the worker like a client over HTTP. */
export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  return worker.fetch(...clientRequest(path, opts));
}

/**
 * Calls, like `call`, an app whose requests read `clock` (`ctx.now`): a test sees time pass (an
 * expiry) by moving its clock, not by waiting. Same bindings as the worker under test.
 */
export async function callAt(clock: Clock, path: string, opts: CallOptions = {}): Promise<Response> {
  const [url, init] = clientRequest(path, opts);
  return newApp({ clock }).request(url, init, env);
}

/** A clock the test moves: `advance(ms)`; it starts at the wall clock's now. */
export function movableClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let at = start;
  return { now: () => new Date(at), advance: (ms) => void (at += ms) };
}

function clientRequest(path: string, opts: CallOptions): [string, RequestInit] {
  const headers: Record<string, string> = { "CF-Connecting-IP": opts.ip ?? "192.0.2.1", "User-Agent": "keel-tests/1.0", ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers["x-api-key"] = opts.apiKey;
  const url = path.startsWith("http") ? path : path.startsWith("/api") || path.startsWith("/") ? `${BASE}${path}` : `${API}/${path}`;
  const init = {
    method: opts.method ?? (opts.body !== undefined || opts.rawBody !== undefined ? "POST" : "GET"),
    headers,
    body: opts.rawBody ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    ...(opts.cf ? { cf: opts.cf } : {}),
    ...(opts.redirect ? { redirect: opts.redirect } : {}),
  } as RequestInit;
  return [url, init];
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts an RFC 9457 problem with the given status and code; returns the body. */
export async function expectProblem(res: Response, status: number, code: string) {
  const body = await json<{ type: string; title: string; status: number; code: string; detail?: string; errors?: { path: string; message: string }[] }>(res);
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(body.type).toContain(code);
  return body;
}

interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  template: string;
  created_at: string;
}

/** The newest mails to `to` from the dev mailbox. */
export async function mailbox(to: string): Promise<Mail[]> {
  const res = await call(`/dev/mailbox?to=${encodeURIComponent(to)}`);
  expect(res.status).toBe(200);
  return (await json<{ items: Mail[] }>(res)).items;
}

/** Waits for a mail of `template` to `to` (work after the response runs in waitUntil). */
export async function waitForMail(to: string, template: string, opts: { after?: number; timeoutMs?: number } = {}): Promise<Mail> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const mail = (await mailbox(to)).find((m) => m.template === template && Date.parse(m.created_at) >= (opts.after ?? 0));
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no ${template} mail to ${to}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const tokenFromMail = (mail: Mail) => {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match) throw new Error(`no token in mail: ${mail.text}`);
  return match[1]!;
};

export interface TestUser {
  id: string;
  email: string;
  password: string;
  fullName: string;
  ip: string;
}

/** Registers (and by default verifies) a new user through the API. */
export async function createUser(opts: { verified?: boolean; password?: string } = {}): Promise<TestUser> {
  const email = `${unique("user")}@example.com`;
  const password = opts.password ?? STRONG_PASSWORD;
  const ip = randomIp();
  const fullName = "Test Person";
  const res = await call("auth/register", { body: { email, password, full_name: fullName }, ip });
  expect(res.status).toBe(201);
  const { user } = await json<{ user: { id: string } }>(res);
  if (opts.verified !== false) {
    const token = tokenFromMail(await waitForMail(email, "verification"));
    const verified = await call("auth/verify-email", { body: { token }, ip });
    expect(verified.status).toBe(200);
  }
  return { id: user.id, email, password, fullName, ip };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
  expires_in: number;
  password_expired: boolean;
  user: { id: string; email: string; roles: string[]; two_factor_enabled: boolean; last_login_at: string | null };
}

export async function login(user: TestUser, extra: Partial<CallOptions> & { device_name?: string } = {}): Promise<Tokens> {
  const res = await call("auth/login", {
    body: { email: user.email, password: user.password, ...(extra.device_name ? { device_name: extra.device_name } : {}) },
    ip: extra.ip ?? user.ip,
    headers: extra.headers,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<Tokens>(res);
}

/** A signed-in user. */
export async function signedInUser(opts: { verified?: boolean } = {}) {
  const user = await createUser(opts);
  const tokens = await login(user);
  return { user, tokens, token: tokens.access_token };
}

/**
 * The TOTP code for `secretBase32` at `unixSeconds`, computed independently of the service's
 * TOTP module: its own base32 decoder and WebCrypto HMAC-SHA-1 (RFC 6238 / RFC 4226).
 */
export async function codeAt(secretBase32: string, unixSeconds: number): Promise<string> {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secretBase32.replace(/=+$/, "")) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = new Uint8Array(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = new DataView(new ArrayBuffer(8));
  counter.setBigUint64(0, BigInt(Math.floor(unixSeconds / 30)));
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, counter.buffer));
  const offset = mac[19]! & 0xf;
  const value = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(value % 1_000_000).padStart(6, "0");
}

/**
 * The code of the previous TOTP step, for enabling TOTP: the current and next steps stay unused
 * for the test's own verifications. The server accepts ±1 step, so a step boundary crossed
 * between this and the server's check would make it 2 steps old: within 3 s of a boundary this
 * waits for the next step first (at most 3 s, rarely).
 */
export async function enablingCode(secretBase32: string): Promise<string> {
  const untilNextStep = 30_000 - (Date.now() % 30_000);
  if (untilNextStep < 3_000) await new Promise((resolve) => setTimeout(resolve, untilNextStep + 50));
  return codeAt(secretBase32, Math.floor(Date.now() / 1000) - 30);
}

export const db = () => env.DB;

/**
 * Calls the worker with configuration overrides (e.g. PASSWORD_MAX_AGE_DAYS), through its real
 * fetch handler and bindings: for policies whose default the suite cannot exercise, or with a
 * binding that stands in for an outage of the outside world (a queue whose send fails).
 */
export async function callWithConfig(overrides: Record<string, unknown>, path: string, opts: CallOptions = {}): Promise<Response> {
  const { default: handler } = await import("../../src/index");
  const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
  const headers: Record<string, string> = { "CF-Connecting-IP": opts.ip ?? "192.0.2.1", "User-Agent": "keel-tests/1.0", ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers["x-api-key"] = opts.apiKey;
  const ctx = createExecutionContext();
  const res = await handler.fetch(
    new Request(path.startsWith("/") ? `${BASE}${path}` : `${API}/${path}`, {
      method: opts.method ?? (opts.body !== undefined ? "POST" : "GET"),
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** Retries `check` until it passes (work deferred with waitUntil lands after the response). */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
