// The console's only way to keel: its public JSON API. The access token lives in memory only;
// the refresh token is an HttpOnly cookie (refresh_token_delivery=cookie) that no script can
// read, sent by the browser to POST /api/v1/auth/refresh alone. A sign-in also sets the device
// token as an HttpOnly cookie for POST /api/v1/auth/login alone: the browser sends it back on the
// next sign-in (same-origin credentials), so a lock a stranger set on the email by guessing does
// not keep this browser out. Nothing here reads or stores it.
import { startAuthentication, startRegistration, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import type { CookieTokens, FieldError, Passkey, User } from "./dto";

export type { FieldError, User };

/** A problem document (RFC 9457) from the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
  /** The messages for one field (inline errors next to it), including those of a list's entries ("states.2"). */
  field(name: string): string[] {
    return this.errors.filter((e) => e.path === name || e.path.endsWith(`.${name}`) || e.path.startsWith(`${name}.`)).map((e) => e.message);
  }
}

export interface Session {
  accessToken: string;
  sessionId: string;
  user: User;
  passwordExpired: boolean;
}

let session: Session | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

export const currentSession = () => session;
export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setSession(tokens: CookieTokens | null) {
  clearTimeout(refreshTimer);
  session = tokens && { accessToken: tokens.access_token, sessionId: tokens.session_id, user: tokens.user, passwordExpired: tokens.password_expired };
  // Renew a minute before the access token expires, so a page left open keeps working.
  if (tokens) refreshTimer = setTimeout(() => void refresh(), Math.max(10, tokens.expires_in - 60) * 1000);
  listeners.forEach((fn) => fn());
}

/** Replaces the signed-in user's public view (after PATCH /me, 2FA on/off…). */
export function updateUser(user: User) {
  if (!session) return;
  session = { ...session, user };
  listeners.forEach((fn) => fn());
}

const CONSOLE_HEADER = { "X-Requested-With": "keel-console" };

async function problemOf(res: Response): Promise<ApiError> {
  let body: { code?: string; detail?: string; title?: string; errors?: FieldError[] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON (e.g. a proxy error page)
  }
  return new ApiError(res.status, body.code ?? "error", body.detail ?? body.title ?? `HTTP ${res.status}`, body.errors ?? []);
}

async function post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", ...CONSOLE_HEADER, ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await problemOf(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Renews the access token with the refresh cookie. Tabs share the cookie and a refresh token
 * works once (a replay ends the session), so refreshes are serialized across tabs with a Web
 * Lock: the second tab sends the cookie the first one just received.
 */
export async function refresh(): Promise<boolean> {
  const run = async () => {
    try {
      setSession(await post<CookieTokens>("/auth/refresh", {}));
      return true;
    } catch {
      setSession(null);
      return false;
    }
  };
  return navigator.locks ? navigator.locks.request("keel-console-refresh", run) : run();
}

export type SignInResult = { kind: "signed_in" } | { kind: "mfa"; mfaToken: string };

export async function signIn(email: string, password: string): Promise<SignInResult> {
  const res = await post<CookieTokens | { mfa_required: true; mfa_token: string }>("/auth/login", {
    email,
    password,
    device_name: "keel console",
    refresh_token_delivery: "cookie",
  });
  if ("mfa_required" in res) return { kind: "mfa", mfaToken: res.mfa_token };
  setSession(res);
  return { kind: "signed_in" };
}

export async function verifySecondFactor(mfaToken: string, proof: { code: string } | { backup_code: string }): Promise<void> {
  setSession(await post<CookieTokens>("/auth/mfa/verify", { mfa_token: mfaToken, ...proof, refresh_token_delivery: "cookie" }));
}

/**
 * Sign-in with a passkey (WebAuthn): options from keel, the browser's ceremony, then the assertion
 * back to keel. `autofill`: conditional mediation, so the browser offers the passkeys in the
 * email field's autofill (the input has autocomplete="username webauthn") and the promise
 * settles only when one is picked; starting another ceremony cancels it. `signal`: once aborted,
 * the assertion is not sent (no session is opened for a screen that is gone).
 */
export async function signInWithPasskey(opts: { autofill?: boolean; signal?: AbortSignal } = {}): Promise<SignInResult> {
  const { challenge_id, ...optionsJSON } = await post<PublicKeyCredentialRequestOptionsJSON & { challenge_id: string }>("/auth/passkeys/login/options", {});
  opts.signal?.throwIfAborted();
  const response = await startAuthentication({ optionsJSON, useBrowserAutofill: opts.autofill === true });
  // A screen that went away meanwhile (its autofill request cancelled) signs nobody in.
  opts.signal?.throwIfAborted();
  const res = await post<CookieTokens | { mfa_required: true; mfa_token: string }>("/auth/passkeys/login/verify", {
    challenge_id,
    response,
    device_name: "keel console",
    refresh_token_delivery: "cookie",
  });
  if ("mfa_required" in res) return { kind: "mfa", mfaToken: res.mfa_token };
  setSession(res);
  return { kind: "signed_in" };
}

/** Emails a one-time sign-in code (and link) to `email`; keel answers 202 whether or not the account exists. */
export async function sendEmailCode(email: string): Promise<void> {
  await post("/auth/email-code/send", { email });
}

/** Signs in with an emailed code: tokens (refresh cookie) or the second step. */
export async function signInWithEmailCode(email: string, code: string): Promise<SignInResult> {
  const res = await post<CookieTokens | { mfa_required: true; mfa_token: string }>("/auth/email-code/verify", {
    email,
    code,
    device_name: "keel console",
    refresh_token_delivery: "cookie",
  });
  if ("mfa_required" in res) return { kind: "mfa", mfaToken: res.mfa_token };
  setSession(res);
  return { kind: "signed_in" };
}

/** A social sign-in provider (GET /auth/providers). */
export interface Provider {
  id: string;
  name: string;
  kind: "social";
}

export async function listProviders(): Promise<Provider[]> {
  const res = await fetch("/api/v1/auth/providers", { headers: CONSOLE_HEADER });
  if (!res.ok) throw await problemOf(res);
  return ((await res.json()) as { items: Provider[] }).items;
}

/**
 * Where a provider's sign-in starts: a browser navigation to keel, which redirects to the provider
 * and, at the end, back to `returnTo` with a one-time `login_code` (never a token).
 */
export const providerStartUrl = (providerId: string, returnTo: string) =>
  `/api/v1/auth/oidc/${encodeURIComponent(providerId)}/start?return_to=${encodeURIComponent(returnTo)}`;

/**
 * Starts the single sign-on of the organization that holds `email`'s domain (POST /auth/sso/start):
 * the identity provider's URL to navigate to. The flow comes back to `returnTo` with a
 * `login_code`, like a social sign-in. No SSO for the domain → ApiError `not_found`.
 */
export async function ssoStartUrl(email: string, returnTo: string): Promise<string> {
  return (await post<{ authorization_url: string }>("/auth/sso/start", { email, return_to: returnTo })).authorization_url;
}

/** Exchanges the one-time `login_code` of a provider's sign-in for a session (or a second step). */
export async function signInWithLoginCode(loginCode: string): Promise<SignInResult> {
  const res = await post<CookieTokens | { mfa_required: true; mfa_token: string }>("/auth/oidc/exchange", {
    login_code: loginCode,
    device_name: "keel console",
    refresh_token_delivery: "cookie",
  });
  if ("mfa_required" in res) return { kind: "mfa", mfaToken: res.mfa_token };
  setSession(res);
  return { kind: "signed_in" };
}

/** Registers a passkey of this browser / device for the signed-in user. */
export async function addPasskey(name?: string): Promise<Passkey> {
  const { challenge_id, ...optionsJSON } = await api<PublicKeyCredentialCreationOptionsJSON & { challenge_id: string }>("POST", "/auth/passkeys/register/options");
  const response = await startRegistration({ optionsJSON });
  return api<Passkey>("POST", "/auth/passkeys/register/verify", { challenge_id, response, ...(name ? { name } : {}) });
}

export type ReauthProof = { password: string } | { code: string } | { email_code: string } | { passkey: { challenge_id: string; response: unknown } };

/** Step-up: proves again who the user is; the new access token carries a fresh auth_time. */
export async function reauthenticate(proof: ReauthProof): Promise<void> {
  // No refresh-and-retry on a 401 here: a wrong proof is an answer, not an expired token.
  setSession(await api<CookieTokens>("POST", "/auth/reauthenticate", { ...proof, refresh_token_delivery: "cookie" }, true));
}

/**
 * Step-up with a passkey: options asked WITH the session's token (keel binds the challenge to this
 * user, so only their passkeys can answer it), the browser's ceremony, then the assertion as proof.
 */
export async function reauthenticateWithPasskey(): Promise<void> {
  const { challenge_id, ...optionsJSON } = await api<PublicKeyCredentialRequestOptionsJSON & { challenge_id: string }>("POST", "/auth/passkeys/login/options", {});
  const response = await startAuthentication({ optionsJSON });
  await reauthenticate({ passkey: { challenge_id, response } });
}

let reauthPrompt: (() => Promise<boolean>) | null = null;

/**
 * Who asks the user to confirm it is them when an action answers 401 `reauthentication_required`
 * (the console's step-up dialog): resolves true once POST /auth/reauthenticate succeeded, and the
 * action is then retried once.
 */
export function onReauthenticationRequired(prompt: () => Promise<boolean>): () => void {
  reauthPrompt = prompt;
  return () => {
    if (reauthPrompt === prompt) reauthPrompt = null;
  };
}

/** Ends the session at keel (its tokens stop working; the cookie is cleared), then forgets it here. */
export async function signOut(): Promise<void> {
  try {
    if (session) await api("POST", "/auth/logout");
  } finally {
    setSession(null);
  }
}

export const publicPost = post;

/**
 * One authenticated call; a 401 (expired access token) gets one refresh and one retry, and a 401
 * `reauthentication_required` asks the user to confirm it is them (the step-up dialog), then
 * retries once.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown, retried = false, steppedUp = false): Promise<T> {
  const headers: Record<string, string> = { ...CONSOLE_HEADER };
  if (session) headers.authorization = `Bearer ${session.accessToken}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/api/v1${path}`, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    const problem = await problemOf(res);
    if (problem.code === "reauthentication_required") {
      if (!steppedUp && reauthPrompt && (await reauthPrompt())) return api<T>(method, path, body, retried, true);
      throw problem;
    }
    if (!retried && session && (await refresh())) return api<T>(method, path, body, true, steppedUp);
    throw problem;
  }
  if (!res.ok) throw await problemOf(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** `?a=1&b=2` from the non-empty entries. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
