import { expect, inject } from "vitest";
import { call, callAt, json, randomIp, unique, type CallOptions } from "./harness";
import type { Clock } from "../../src/platform/time";

/** The two OpenID providers test/helpers/oidc-providers.global.ts runs: [test, other]. */
export const issuers = () => inject("oidcIssuers");
/** keel's callback, as registered at the providers (PUBLIC_BASE_URL's default). */
export const CALLBACK = "http://127.0.0.1:8787/api/v1/auth/oidc/callback";
/** An allowed return_to: the console, on PUBLIC_BASE_URL's origin. */
export const RETURN_TO = "http://127.0.0.1:8787/console/";

/** The cookies a response sets, as a Cookie header value (name=value; …). */
export function cookiesOf(res: Response, jar = new Map<string, string>()): Map<string, string> {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
  }
  return jar;
}
export const cookieHeader = (jar: Map<string, string>) => [...jar].filter(([, v]) => v !== "").map(([k, v]) => `${k}=${v}`).join("; ");

/**
 * Signs in at the provider as a person would in a browser: follows its redirects, fills in its own
 * login form (devInteractions: any login name, any password) and stops at the redirect to keel's
 * callback, whose URL it returns. The provider's cookies are kept in a jar of its own.
 */
export async function providerLogin(authorizationUrl: string, loginName: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let i = 0; i < 12; i++) {
    const res = await fetch(url, {
      method: form ? "POST" : "GET",
      body: form,
      redirect: "manual",
      headers: { cookie: cookieHeader(jar), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    });
    cookiesOf(res, jar);
    form = undefined;
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location")!, url);
      if (next.href.startsWith(CALLBACK)) return next;
      url = next.href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`unexpected provider answer ${res.status}: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, "&"), url).href;
    form = new URLSearchParams(html.includes('value="login"') ? { prompt: "login", login: loginName, password: "any" } : { prompt: "consent" });
  }
  throw new Error("too many provider redirects");
}

export interface Started {
  location: URL;
  cookie: string;
  ip: string;
}

/** GET /auth/oidc/{provider}/start: the 302 to the provider and keel's browser-binding cookie. */
export async function startSignIn(provider = "test", opts: { returnTo?: string; clock?: Clock; ip?: string } = {}): Promise<Started> {
  const ip = opts.ip ?? randomIp();
  const path = `auth/oidc/${provider}/start?return_to=${encodeURIComponent(opts.returnTo ?? RETURN_TO)}`;
  const res = opts.clock ? await callAt(opts.clock, path, { ip, redirect: "manual" }) : await call(path, { ip, redirect: "manual" });
  expect(res.status, await res.clone().text()).toBe(302);
  return { location: new URL(res.headers.get("location")!), cookie: cookieHeader(cookiesOf(res)), ip };
}

/** keel's redirect at the end of a callback, with the cookies the callback set in the browser. */
export type Returned = URL & { cookie: string };

/** Delivers the provider's redirect to keel's callback (with the browser's cookie); returns keel's 302 target. */
export async function deliverCallback(callbackUrl: URL, started: Pick<Started, "cookie" | "ip">, opts: { clock?: Clock } = {}): Promise<Returned> {
  const path = `/api/v1/auth/oidc/callback${callbackUrl.search}`;
  const init: CallOptions = { ip: started.ip, headers: { cookie: started.cookie }, redirect: "manual" };
  const res = opts.clock ? await callAt(opts.clock, path, init) : await call(path, init);
  expect(res.status, await res.clone().text()).toBe(302);
  const target = Object.assign(new URL(res.headers.get("location")!), { cookie: cookieHeader(cookiesOf(res)) });
  // Never a token in a URL: only the one-time code or an error code.
  expect([...target.searchParams.keys()].filter((k) => /token/i.test(k))).toEqual([]);
  return target;
}

/** The whole browser part: start, sign in at the provider as `loginName`, callback; keel's redirect target. */
export async function browserSignIn(loginName: string, provider = "test"): Promise<Returned> {
  const started = await startSignIn(provider);
  return deliverCallback(await providerLogin(started.location.href, loginName), started);
}

/** POST /auth/oidc/exchange of the login_code keel returned with, from the same browser (its cookie) unless `cookie` says otherwise. */
export function exchange(returned: Returned, opts: { clock?: Clock; ip?: string; cookie?: string } = {}) {
  const init: CallOptions = { body: { login_code: returned.searchParams.get("login_code") ?? "" }, ip: opts.ip ?? randomIp(), headers: { cookie: opts.cookie ?? returned.cookie } };
  return opts.clock ? callAt(opts.clock, "auth/oidc/exchange", init) : call("auth/oidc/exchange", init);
}

/** Signs in with the provider as `loginName` (a fresh one by default) and exchanges the code: keel's tokens. */
export async function oidcSignIn(loginName = unique("idp")) {
  const target = await browserSignIn(loginName);
  const code = target.searchParams.get("login_code");
  expect(code, target.href).toBeTruthy();
  const res = await exchange(target);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ access_token: string; user: { id: string; email: string; email_verified: boolean } }>(res);
}

/** Links the provider identity `loginName` to the signed-in user from My account (POST …/link); keel's redirect target. */
export async function linkIdentity(token: string, loginName: string, provider = "test"): Promise<Returned> {
  const ip = randomIp();
  const res = await call(`me/identities/${provider}/link`, { body: { return_to: RETURN_TO }, token, ip });
  expect(res.status, await res.clone().text()).toBe(200);
  const { authorization_url } = await json<{ authorization_url: string }>(res);
  return deliverCallback(await providerLogin(authorization_url, loginName), { cookie: cookieHeader(cookiesOf(res)), ip });
}
