#!/usr/bin/env node
// The README's tour, as a program. Each step carries its title and runs exactly the request its
// curl line shows, so the README section is generated from this file and cannot drift:
//
//   node scripts/tour.mjs [base URL]     runs the tour against a running keel (default
//                                        $KEEL_URL or http://127.0.0.1:8787); exit 1 on the
//                                        first unexpected status, with the step and the body
//   node scripts/tour.mjs --markdown     prints the README's tour section
//   node scripts/tour.mjs --write-readme rewrites that section of README.md (npm run tour:readme)
//   node scripts/tour.mjs --totp SECRET [--next]
//                                        prints the RFC 6238 code of a base32 secret now (or
//                                        for the next 30-second step)
//   node scripts/tour.mjs --passkey create|get|step-up BASE OPTIONS_JSON
//                                        a software passkey: answers WebAuthn options from keel
//                                        with the JSON body of the matching verify request
//   node scripts/tour.mjs --sso-servers BASE
//                                        runs the tour's local OpenID provider (port 8854,
//                                        KEEL_TOUR_IDP_PORT) and DNS-over-HTTPS responder (8853,
//                                        KEEL_TOUR_DOH_PORT) until stopped
//   node scripts/tour.mjs --sso-login AUTHORIZATION_URL LOGIN
//                                        signs in at that provider as LOGIN, as a person would in
//                                        a browser; prints its redirect to keel's callback
//
// Re-runnable against the same server: every address carries the run's timestamp, and the
// destructive steps (refresh-token reuse, sign-out everywhere, account deletion) come last and
// touch only this run's users. Plain Node >= 20; the SSO part imports the devDependency
// oidc-provider (panva's certified OpenID provider) for its local identity provider.
import { spawnSync } from "node:child_process";
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), independent of keel's implementation.

export function totp(secretBase32, unixSeconds = Date.now() / 1000) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secretBase32.replace(/[=\s]/g, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[19] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// ---------------------------------------------------------------------------------------------
// A software passkey (WebAuthn, ES256, attestation "none"), what a browser's authenticator does:
// a P-256 key, authenticator data, a client data JSON naming the page's origin, a signature. The
// credential (id, private key, user handle, counter) is kept in PASSKEY_FILE between ceremonies.

const PASSKEY_FILE = path.join(os.tmpdir(), "keel-tour-passkey.json");
const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** A minimal CBOR encoder (RFC 8949): unsigned/negative integers, byte and text strings, maps. */
function cbor(v) {
  const head = (major, n) =>
    n < 24 ? Buffer.from([(major << 5) | n]) : n < 256 ? Buffer.from([(major << 5) | 24, n]) : Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  if (typeof v === "number") return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === "string") return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  const entries = v instanceof Map ? [...v] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

/**
 * Answers keel's options (`create`: registration; `get`: sign-in; `step-up`: a sign-in assertion
 * wrapped as POST /auth/reauthenticate's `passkey` proof) as the client would for the page at
 * `base` (127.0.0.1 is served as localhost: an IP address cannot be an RP ID). Returns the JSON
 * body of the verify request.
 */
export function softPasskey(ceremony, base, optionsJson) {
  const options = JSON.parse(optionsJson);
  const url = new URL(base);
  if (url.hostname === "127.0.0.1") url.hostname = "localhost";
  const origin = url.origin;
  const sha256 = (x) => createHash("sha256").update(x).digest();
  const clientData = (type) => Buffer.from(JSON.stringify({ type, challenge: options.challenge, origin, crossOrigin: false }));
  const UP = 0x01, UV = 0x04, AT = 0x40; // user present, user verified, attested credential data
  if (ceremony === "create") {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const id = randomBytes(16);
    const rpId = options.rp.id;
    const cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, "base64url")], [-3, Buffer.from(jwk.y, "base64url")]]));
    const authData = Buffer.concat([sha256(rpId), Buffer.from([UP | UV | AT]), Buffer.alloc(4), Buffer.alloc(16), Buffer.from([0, id.length]), id, cose]);
    const credential = { id: b64url(id), rpId, userHandle: options.user.id, counter: 0, key: privateKey.export({ format: "pem", type: "pkcs8" }) };
    writeFileSync(PASSKEY_FILE, JSON.stringify(credential), { mode: 0o600 });
    const response = { clientDataJSON: b64url(clientData("webauthn.create")), attestationObject: b64url(cbor({ fmt: "none", attStmt: {}, authData })), transports: ["internal"] };
    return JSON.stringify({ challenge_id: options.challenge_id, name: "tour passkey", response: { id: credential.id, rawId: credential.id, type: "public-key", response, clientExtensionResults: {} } });
  }
  if (!existsSync(PASSKEY_FILE)) throw new Error(`no passkey yet: run --passkey create first (${PASSKEY_FILE})`);
  const credential = JSON.parse(readFileSync(PASSKEY_FILE, "utf8"));
  credential.counter += 1;
  writeFileSync(PASSKEY_FILE, JSON.stringify(credential), { mode: 0o600 });
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(credential.counter);
  const authData = Buffer.concat([sha256(options.rpId ?? credential.rpId), Buffer.from([UP | UV]), counter]);
  const data = clientData("webauthn.get");
  const signature = sign("sha256", Buffer.concat([authData, sha256(data)]), { key: createPrivateKey(credential.key), dsaEncoding: "der" });
  const assertion = {
    id: credential.id,
    rawId: credential.id,
    type: "public-key",
    response: { clientDataJSON: b64url(data), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle },
    clientExtensionResults: {},
  };
  const proof = { challenge_id: options.challenge_id, response: assertion };
  return JSON.stringify(ceremony === "step-up" ? { passkey: proof } : proof);
}

// ---------------------------------------------------------------------------------------------
// Organization SSO, locally: a real OpenID provider (oidc-provider, devInteractions' login form:
// any login name signs in, a name with "@" is the email, verified) with one client whose redirect
// URI is keel's callback, and a DNS-over-HTTPS responder (the JSON API of the public resolvers)
// that serves the TXT records published to it with POST /records {name, values}. keel reads the
// responder's URL from DOH_URL (`npm start` writes http://127.0.0.1:8853/dns-query into .dev.vars).

export const IDP_PORT = Number(process.env.KEEL_TOUR_IDP_PORT ?? 8854);
export const DOH_PORT = Number(process.env.KEEL_TOUR_DOH_PORT ?? 8853);
export const SSO_CLIENT = { client_id: "keel-tour", client_secret: "keel-tour-secret-keel-tour-secret" };

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", (err) =>
      reject(err.code === "EADDRINUSE" ? new Error(`127.0.0.1:${port} is in use (another tour, or --sso-servers, still running?)`) : err),
    );
    server.listen(port, "127.0.0.1", () =>
      resolve(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }),
    );
  });
}

async function startProvider(base) {
  const { default: Provider } = await import("oidc-provider");
  const issuer = `http://127.0.0.1:${IDP_PORT}`;
  const provider = new Provider(issuer, {
    clients: [{ ...SSO_CLIENT, redirect_uris: [`${base}/api/v1/auth/oidc/callback`], token_endpoint_auth_method: "client_secret_basic" }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id.includes("@") ? id : `${id}@idp.example`, email_verified: true, name: id.split("@")[0] }),
    }),
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    // A first-party client: no consent screen, the grant is made at login.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  return listen(http.createServer(provider.callback()), IDP_PORT);
}

function startDoh() {
  const records = new Map();
  const quote = (v) => (v.match(/.{1,255}/gs) ?? [""]).map((p) => `"${p.replace(/(["\\])/g, "\\$1")}"`).join(" ");
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status, payload, type = "application/dns-json") => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    try {
      if (req.method === "POST" && url.pathname === "/records") {
        let text = "";
        for await (const chunk of req) text += chunk;
        const { name, values } = JSON.parse(text);
        if (typeof name !== "string" || !Array.isArray(values)) return send(400, "expected {name, values}", "text/plain");
        records.set(name.toLowerCase().replace(/\.$/, ""), values.map(String));
        return send(204, "", "text/plain");
      }
      if (req.method !== "GET" || url.pathname !== "/dns-query") return send(404, "not found", "text/plain");
      const name = (url.searchParams.get("name") ?? "").toLowerCase().replace(/\.$/, "");
      if (!name || url.searchParams.get("type") !== "TXT") return send(400, { Status: 1, error: "expected name and type=TXT" });
      const head = { TC: false, RD: true, RA: true, AD: false, CD: false, Question: [{ name: `${name}.`, type: 16 }] };
      const values = records.get(name);
      if (!values) return send(200, { Status: 3, ...head });
      return send(200, { Status: 0, ...head, Answer: values.map((v) => ({ name: `${name}.`, type: 16, TTL: 300, data: quote(v) })) });
    } catch (err) {
      send(500, String(err), "text/plain");
    }
  });
  return listen(server, DOH_PORT);
}

/** Starts the provider and the responder; resolves to a function that stops both. */
export async function startSsoServers(base) {
  const stopDoh = await startDoh();
  let stopIdp;
  try {
    stopIdp = await startProvider(base.replace(/\/+$/, ""));
  } catch (err) {
    await stopDoh();
    throw err;
  }
  return async () => {
    await Promise.all([stopIdp(), stopDoh()]);
  };
}

const cookieJar = (jar, res) => {
  for (const line of res.headers.getSetCookie?.() ?? []) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === "" || /;\s*max-age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return jar;
};
const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

/**
 * Signs in at the provider as a person would in a browser: follows its redirects, fills in its
 * login form (any password) with `login`, and stops at its redirect to keel's callback, whose URL
 * it returns. The provider's cookies stay in a jar of their own (the browser's, for that site).
 */
export async function ssoLogin(authorizationUrl, login) {
  const provider = new URL(authorizationUrl).origin;
  const jar = new Map();
  let url = authorizationUrl;
  let form;
  for (let i = 0; i < 12; i++) {
    const res = await fetch(url, {
      method: form ? "POST" : "GET",
      body: form,
      redirect: "manual",
      headers: { cookie: cookieHeader(jar), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    });
    cookieJar(jar, res);
    form = undefined;
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location"), url);
      if (next.origin !== provider) return next.href;
      url = next.href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`unexpected provider answer ${res.status}: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, "&"), url).href;
    form = new URLSearchParams(html.includes('value="login"') ? { prompt: "login", login, password: "any" } : { prompt: "consent" });
  }
  throw new Error("too many provider redirects");
}

// ---------------------------------------------------------------------------------------------
// The tour. Strings may name shell variables ($AT, $ORG, …): the runner substitutes the values
// it captured, the README shows them as they are.
//
// Step kinds:
//   { comment }                                  a comment line (no request)
//   { set: NAME, shell, value(vars) }            a variable: `shell` in the README, `value` here
//   { call: [METHOD, path], auth, body, expect, capture, note, check }
//       auth: a variable holding an access token ("AT"), or { key: "KEY" } for an API key
//       capture: { NAME: "json.path" } (the README shows NAME=$(curl … | json path)); "." is the whole body
//       rawBody: "$NAME", a JSON body held in a variable (instead of `body`)
//       check(body): an extra assertion, returns an error message or nothing
//   { mail: NAME, to, link }                     the newest emailed token of a link, from /dev/mailbox
//   { mail: NAME, to, code: true }               the newest emailed 6-digit sign-in code, from /dev/mailbox
//   { passkey: NAME, ceremony, options }         the software passkey's answer to the options in a variable
//   { totp: NAME, secret, next }                 a TOTP code computed from a captured secret
//   { node: [args…], shell }                     runs a Node script of this repository
//   { servers: "start" | "stop" }                the SSO part's local OpenID provider and DoH responder
//   { ssoLogin: NAME, url, login }               the provider's redirect to keel's callback after signing in there
//   { param: NAME, from, name }                  a query parameter of a URL held in a variable
//   call steps: a path starting with "$" is a whole URL; location: NAME captures the redirect target

const PASSWORD = "violet harbor lantern 42";
const BOB_PASSWORD = "copper meadow signal 58";
// A bcrypt hash of "old-system-passphrase-7" (cost 10), made with bcryptjs: what an old system exports.
const OLD_HASH = "$2b$10$Q96J5q5CPkGUmC3W721el.7sssKbEHjW.4ZzlQ/9aKR8bTM5ukl0K";

const auth = (v) => v;
const h = (s) => ({ comment: s });

export const STEPS = [
  h("Everything below runs as is, top to bottom, in bash or zsh (needs curl and node)."),
  { set: "H", shell: "${KEEL_URL:-http://127.0.0.1:8787}", value: (v) => v.H },
  { set: "B", shell: "$H/api/v1", value: (v) => `${v.H}/api/v1` },
  { raw: `J='content-type: application/json'` },
  { raw: `json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(v??"")})' "$1"; }   # json a.b.0 < body` },
  h("A fresh run id makes every address new, so the tour can run again on the same server."),
  { set: "RUN", shell: "$(date +%s)", value: () => String(Math.floor(Date.now() / 1000)) },
  { set: "ADA", shell: "ada-$RUN@example.com", value: (v) => `ada-${v.RUN}@example.com` },
  { set: "BOB", shell: "bob-$RUN@example.com", value: (v) => `bob-${v.RUN}@example.com` },

  h(""),
  h("Register: a verification email lands in the local mailbox (/dev/mailbox)."),
  { call: ["POST", "/auth/register"], body: { email: "$ADA", password: PASSWORD, full_name: "Ada Lovelace" }, expect: 201 },
  { mail: "TOKEN", to: "$ADA", link: "verify-email" },
  { call: ["POST", "/auth/verify-email"], body: { token: "$TOKEN" }, expect: 200 },

  h(""),
  h("Log in: an access token (JWT, 15 min) and a refresh token (opaque, 30 days, rotated on use)."),
  { call: ["POST", "/auth/login"], body: { email: "$ADA", password: PASSWORD, device_name: "laptop" }, expect: 200, capture: { AT: "access_token", RT: "refresh_token" } },
  { call: ["GET", "/me"], auth: auth("AT"), expect: 200 },
  { call: ["GET", "/me/sessions"], auth: auth("AT"), expect: 200, note: "location: the edge's guess; locally a labelled placeholder" },
  { call: ["POST", "/auth/refresh"], body: { refresh_token: "$RT" }, expect: 200, capture: { AT: "access_token", RT: "refresh_token" }, note: "a new pair; the old refresh token is spent" },

  h(""),
  h("Browser clients (the console) take the refresh token as an HttpOnly cookie instead: not in the"),
  h("body, sent only to /auth/refresh, which then needs an X-Requested-With header (CSRF)."),
  { call: ["POST", "/auth/login"], cookies: "save", body: { email: "$ADA", password: PASSWORD, refresh_token_delivery: "cookie" }, expect: 200 },
  { call: ["POST", "/auth/refresh"], cookies: "send", headers: { "X-Requested-With": "curl" }, body: {}, expect: 200 },

  h(""),
  h("Passwordless: a one-time code by email (6 digits, 10 minutes, single use, at most 5 guesses; the same"),
  h("mail carries a /sign-in link). The send answers 202 whether or not the address has an account."),
  { call: ["POST", "/auth/email-code/send"], body: { email: "$ADA" }, expect: 202 },
  { mail: "CODE", to: "$ADA", code: true },
  { call: ["POST", "/auth/email-code/verify"], body: { email: "$ADA", code: "$CODE" }, expect: 200, capture: { AT: "access_token", RT: "refresh_token" } },

  h(""),
  h("Two-factor: setup gives a secret (an authenticator app would scan its QR code); enable with a"),
  h("code. `node scripts/tour.mjs --totp SECRET` computes the code an app would show."),
  { call: ["POST", "/auth/mfa/totp/setup"], auth: auth("AT"), expect: 200, capture: { SECRET: "secret" } },
  { totp: "CODE", secret: "SECRET" },
  { call: ["POST", "/auth/mfa/totp/enable"], auth: auth("AT"), body: { code: "$CODE" }, expect: 200, note: "→ backup_codes (once)" },
  h("From then on, login answers {\"mfa_required\":true,\"mfa_token\":…}; finish with a code (each code works once:"),
  h("this one is the next 30-second step's, which keel accepts for clock drift)."),
  { call: ["POST", "/auth/login"], body: { email: "$ADA", password: PASSWORD }, expect: 200, capture: { MFA: "mfa_token" }, check: (b) => (b.mfa_required === true ? undefined : "expected mfa_required: true") },
  { totp: "CODE", secret: "SECRET", next: true },
  { call: ["POST", "/auth/mfa/verify"], body: { mfa_token: "$MFA", code: "$CODE" }, expect: 200, capture: { AT: "access_token", RT: "refresh_token" } },

  h(""),
  h("Passkeys (WebAuthn). In a browser the console does this (open it at http://localhost:8787: an IP address"),
  h("cannot be an RP ID); here the software passkey of this script (an ES256 key in a file of the temp directory)"),
  h("answers the options. Adding a passkey needs a recent sign-in (REAUTH_MINUTES)."),
  { call: ["POST", "/auth/passkeys/register/options"], auth: auth("AT"), expect: 200, capture: { OPTS: "." } },
  { passkey: "BODY", ceremony: "create", options: "OPTS" },
  { call: ["POST", "/auth/passkeys/register/verify"], auth: auth("AT"), rawBody: "$BODY", expect: 201, note: "the user is emailed a notice" },
  h("Sign in with it without typing an email (usernameless); with user verification it is two factors: no TOTP step."),
  { call: ["POST", "/auth/passkeys/login/options"], body: {}, expect: 200, capture: { OPTS: "." } },
  { passkey: "BODY", ceremony: "get", options: "OPTS" },
  { call: ["POST", "/auth/passkeys/login/verify"], rawBody: "$BODY", expect: 200, capture: { AT: "access_token", RT: "refresh_token" } },

  h(""),
  h("Step-up: REAUTH_MINUTES (10) after the last sign-in, sensitive actions (email change, 2FA off, new backup"),
  h("codes, DELETE /me, keys with a write: scope, adding or removing a passkey) answer 401"),
  h("reauthentication_required. Confirm with a password, a TOTP code, an emailed code, or a passkey whose"),
  h("options were asked with the token (only this user's passkeys can answer them): fresh tokens, new auth_time."),
  { call: ["POST", "/auth/passkeys/login/options"], auth: auth("AT"), body: {}, expect: 200, capture: { OPTS: "." } },
  { passkey: "BODY", ceremony: "step-up", options: "OPTS" },
  { call: ["POST", "/auth/reauthenticate"], auth: auth("AT"), rawBody: "$BODY", expect: 200, capture: { AT: "access_token", RT: "refresh_token" } },
  { call: ["POST", "/auth/reauthenticate"], auth: auth("AT"), body: { password: PASSWORD }, expect: 200, capture: { AT: "access_token", RT: "refresh_token" }, note: "or with the password" },

  h(""),
  h("API keys act as their owner, within their scopes, hourly limit and optional IP allow-list"),
  h('("allowed_ips":["203.0.113.0/24"] would refuse this machine).'),
  { call: ["POST", "/me/api-keys"], auth: auth("AT"), body: { name: "CI", scopes: ["read:profile"], rate_limit_per_hour: 500 }, expect: 201, capture: { KEY: "key" } },
  { call: ["GET", "/me"], auth: { key: "KEY" }, expect: 200 },

  h(""),
  h("Profile and preferences: only the fields sent change; null clears."),
  { call: ["PATCH", "/me/profile"], auth: auth("AT"), body: { company_name: "Acme Infra", pan_number: "ABCDE1234F", operating_states: ["Bihar"], timezone: "Asia/Kolkata" }, expect: 200 },
  { call: ["PATCH", "/me/preferences"], auth: auth("AT"), body: { quiet_hours_start: "22:00", quiet_hours_end: "07:00", email_digest_frequency: "weekly" }, expect: 200 },
  h("Quiet hours hold alert emails until they end (in the profile's time zone); null clears them, so"),
  h("the alert email below arrives at any time of day."),
  { call: ["PATCH", "/me/preferences"], auth: auth("AT"), body: { quiet_hours_start: null, quiet_hours_end: null }, expect: 200 },

  h(""),
  h("Email change: a link goes to the new address; POST /auth/verify-email with its token would apply it."),
  { call: ["POST", "/me/email"], auth: auth("AT"), body: { new_email: "ada.l-$RUN@example.com", password: PASSWORD }, expect: 202 },

  h(""),
  h("GDPR: everything held about you as one JSON document (deleting an account comes at the end)."),
  { call: ["GET", "/me/export"], auth: auth("AT"), expect: 200, out: "/tmp/keel-ada-data.json" },

  h(""),
  h("Passwords: forgot answers 202 whether or not the address exists; a change keeps this session."),
  { call: ["POST", "/auth/password/forgot"], body: { email: "$ADA" }, expect: 202 },
  { call: ["POST", "/auth/password/change"], auth: auth("AT"), body: { current_password: PASSWORD, new_password: "a brand new passphrase" }, expect: 204 },
  { call: ["GET", "/me"], auth: auth("AT"), expect: 200 },

  h(""),
  h("Administration (the demo admin holds the built-in `admin` role)."),
  { call: ["POST", "/auth/login"], body: { email: "admin@keel.test", password: "keel-local-operator-passphrase" }, expect: 200, capture: { ADMIN_AT: "access_token" } },
  { call: ["GET", "/admin/users?q=$RUN&status=active&sort=-created_at&page=1&page_size=20"], auth: auth("ADMIN_AT"), expect: 200, note: "any part of email or name (≥ 3 chars)" },
  { call: ["POST", "/admin/users"], auth: auth("ADMIN_AT"), body: { email: "new-$RUN@example.com", full_name: "New Person" }, expect: 201, capture: { NEW_ID: "id" }, note: "emails a set-password link" },
  { call: ["POST", "/admin/users/$NEW_ID/suspend"], auth: auth("ADMIN_AT"), expect: 200, note: "sessions, access tokens and API keys stop at once" },
  { call: ["POST", "/admin/users/bulk"], auth: auth("ADMIN_AT"), body: { action: "activate", user_ids: ["$NEW_ID"] }, expect: 200 },
  { set: "IN_90_DAYS", shell: `$(node -p 'new Date(Date.now() + 90 * 864e5).toISOString()')`, value: () => new Date(Date.now() + 90 * 864e5).toISOString() },
  { call: ["POST", "/admin/users/$NEW_ID/roles"], auth: auth("ADMIN_AT"), body: { role: "moderator", expires_at: "$IN_90_DAYS" }, expect: 201, note: "a role that expires" },
  { call: ["POST", "/admin/roles"], auth: auth("ADMIN_AT"), body: { name: "support-$RUN", permissions: ["read:all", "admin:audit"] }, expect: 201 },
  { call: ["GET", "/admin/audit?action=admin.*&limit=50"], auth: auth("ADMIN_AT"), expect: 200 },
  { call: ["GET", "/admin/stats"], auth: auth("ADMIN_AT"), expect: 200 },
  { call: ["GET", "/admin/delivery"], auth: auth("ADMIN_AT"), expect: 200, note: "admin:system: emails, matches, digests, reminders over 24 h / 7 days; matching backlog" },

  h(""),
  h("Bulk import (≤ 1,000 per request; old bcrypt / Werkzeug / keel hashes sign in as they are, rehashed at"),
  h("that login; users without a hash get a set-password email). Report per row; idempotent by email."),
  h('An imported user signs in only with "email_verified": true (or after verifying).'),
  { set: "HASH", shell: `'${OLD_HASH}'`, value: () => OLD_HASH, note: `bcrypt of "old-system-passphrase-7"` },
  {
    call: ["POST", "/admin/users/import"],
    auth: auth("ADMIN_AT"),
    body: {
      mode: "skip",
      users: [
        { email: "old-$RUN@example.com", full_name: "Old User", password_hash: "$HASH", email_verified: true },
        { email: "nohash-$RUN@example.com", full_name: "No Hash", roles: ["moderator"], profile: { company_name: "Acme" } },
      ],
    },
    expect: 200,
    note: '→ {"created":2,"updated":0,"skipped":0,"failed":[]}',
    check: (b) => (b.created === 2 && b.failed?.length === 0 ? undefined : `expected created: 2 and no failures`),
  },
  { call: ["POST", "/auth/login"], body: { email: "old-$RUN@example.com", password: "old-system-passphrase-7" }, expect: 200, capture: { OLD_AT: "access_token" }, note: "the old password works" },
  h("A bigger file, in chunks, resumable (examples/users.csv: the CSV columns):"),
  {
    node: ["scripts/import-users.mjs", "--url", "$H", "--token", "$ADMIN_AT", "--file", "examples/users.csv", "--mode", "skip", "--state", "/tmp/keel-tour-import.json", "--restart"],
  },

  h(""),
  h("Terms (only when TERMS_VERSION / PRIVACY_VERSION are set): after a version change, login says"),
  h('"terms_update_required":true and other routes answer 403 terms_update_required until the user sends'),
  h('POST $B/me/consents {"terms_version":"…","privacy_version":"…"} with the versions in force.'),

  h(""),
  h("Organizations: create (you are owner, on a 14-day team trial), invite by email, the invitee accepts."),
  { call: ["POST", "/orgs"], auth: auth("AT"), body: { name: "Acme Builders" }, expect: 201, capture: { ORG: "id" } },
  { call: ["POST", "/auth/register"], body: { email: "$BOB", password: BOB_PASSWORD, full_name: "Bob Builder" }, expect: 201 },
  { mail: "TOKEN", to: "$BOB", link: "verify-email" },
  { call: ["POST", "/auth/verify-email"], body: { token: "$TOKEN" }, expect: 200 },
  { call: ["POST", "/auth/login"], body: { email: "$BOB", password: BOB_PASSWORD }, expect: 200, capture: { BOB_AT: "access_token", BOB_ID: "user.id" } },
  { call: ["POST", "/orgs/$ORG/invitations"], auth: auth("AT"), body: { email: "$BOB", role: "member" }, expect: 201 },
  { mail: "INV", to: "$BOB", link: "accept-invitation" },
  { call: ["POST", "/invitations/accept"], auth: auth("BOB_AT"), body: { token: "$INV" }, expect: 200 },
  { call: ["GET", "/orgs"], auth: auth("AT"), expect: 200, note: "mine, with my role" },
  { call: ["GET", "/orgs/$ORG/members"], auth: auth("AT"), expect: 200 },
  { call: ["PATCH", "/orgs/$ORG/members/$BOB_ID"], auth: auth("AT"), body: { role: "admin" }, expect: 200 },

  h(""),
  h("Tenders (ingest needs admin:system: the demo admin, or its key with write:tenders). Closing in 30 days."),
  { set: "CLOSES", shell: `$(node -p 'new Date(Date.now() + 30 * 864e5).toISOString()')`, value: () => new Date(Date.now() + 30 * 864e5).toISOString() },
  {
    call: ["POST", "/tenders"],
    auth: auth("ADMIN_AT"),
    body: { tenders: [{ external_id: "BR-$RUN-17", title: "Construction of road and bridge over the Gandak", state: "Bihar", value: 52000000, closing_date: "$CLOSES" }] },
    expect: 200,
  },
  { call: ["GET", "/tenders?q=gandak%20road&states=Bihar&sort=relevance"], auth: auth("AT"), expect: 200, capture: { TND: "items.0.id" } },
  { call: ["GET", "/tenders/$TND?source=search"], auth: auth("AT"), expect: 200, note: "+ your notes and those shared with your organizations" },
  { call: ["POST", "/me/favorites"], auth: auth("AT"), body: { tender_id: "$TND", folder: "Roads", priority: "high" }, expect: 201, capture: { FAV: "id" } },
  { call: ["PATCH", "/me/favorites/$FAV"], auth: auth("AT"), body: { bid_status: "planning" }, expect: 200 },
  { call: ["GET", "/orgs/$ORG/favorites"], auth: auth("BOB_AT"), expect: 200, note: "the members' favorites, with who added each" },
  { call: ["POST", "/me/saved-searches"], auth: auth("AT"), body: { name: "Bihar roads", query: { keywords: ["road*"], states: ["Bihar"] } }, expect: 201, capture: { SRCH: "id" } },
  { call: ["POST", "/me/saved-searches/$SRCH/run"], auth: auth("AT"), expect: 200 },
  { call: ["POST", "/me/notes"], auth: auth("AT"), body: { tender_id: "$TND", note_text: "EMD 2%", note_type: "financial", organization_id: "$ORG" }, expect: 201 },
  { call: ["GET", "/me/recommendations?limit=5"], auth: auth("AT"), expect: 200 },

  h(""),
  h("Alerts: an immediate alert is matched at once against the last 7 days of tenders (a queue"),
  h("consumer: the email and the in-app notification follow within seconds)."),
  { call: ["POST", "/me/alerts"], auth: auth("AT"), body: { name: "Gandak bridges", criteria: { keywords: ["gandak"], states: ["Bihar"] }, notification_methods: ["email", "in_app"] }, expect: 201, capture: { ALR: "id" } },
  { mail: "UNSUB", to: "$ADA", link: "unsubscribe", note: "the alert's email (its one-click unsubscribe link)" },
  { call: ["GET", "/me/alerts/$ALR/matches"], auth: auth("AT"), expect: 200, note: "newest first: matched_at, notification_status, tender" },
  { call: ["PATCH", "/me/alerts/$ALR"], auth: auth("AT"), body: { criteria: { keywords: ["road*"] } }, expect: 200, note: "criteria replaced whole" },
  { call: ["GET", "/me/notifications?unread_only=true"], auth: auth("AT"), expect: 200, note: "{items, next_cursor, unread_count}" },
  { call: ["POST", "/me/notifications/read-all"], auth: auth("AT"), expect: 204 },
  { call: ["POST", "/unsubscribe?token=$UNSUB"], expect: 200, note: "one click, no sign-in" },

  h(""),
  h("Organization single sign-on (OpenID Connect) with a verified domain, against a local identity provider:"),
  h("`--sso-servers` runs oidc-provider (issuer http://127.0.0.1:8854, client keel-tour, any login name and"),
  h("password sign in) and a DNS-over-HTTPS responder on 127.0.0.1:8853, the DOH_URL `npm start` configures."),
  { servers: "start" },
  { set: "IDP", shell: "http://127.0.0.1:8854", value: () => `http://127.0.0.1:${IDP_PORT}` },
  { set: "DOH", shell: "http://127.0.0.1:8853", value: () => `http://127.0.0.1:${DOH_PORT}` },
  { set: "DOMAIN", shell: "acme-$RUN.test", value: (v) => `acme-${v.RUN}.test` },
  { call: ["POST", "/orgs"], auth: auth("AT"), body: { name: "Acme SSO $RUN" }, expect: 201, capture: { SSO_ORG: "id" } },
  {
    call: ["PUT", "/orgs/$SSO_ORG/sso"],
    auth: auth("AT"),
    body: { issuer: "$IDP", client_id: SSO_CLIENT.client_id, client_secret: SSO_CLIENT.client_secret, enforce_sso: true },
    expect: 200,
    note: "the secret is sealed, never shown again",
  },
  h("Claim the domain: keel answers the TXT record to publish. Publish it (here: on the local responder; in"),
  h("real life at your DNS host), then verify (keel looks it up over DNS-over-HTTPS)."),
  { call: ["POST", "/orgs/$SSO_ORG/domains"], auth: auth("AT"), body: { domain: "$DOMAIN" }, expect: 201, capture: { TXT_NAME: "verification_record.name", TXT_VALUE: "verification_record.value" } },
  { call: ["POST", "$DOH/records"], body: { name: "$TXT_NAME", values: ["$TXT_VALUE"] }, expect: 204 },
  { call: ["POST", "/orgs/$SSO_ORG/domains/$DOMAIN/verify"], auth: auth("AT"), expect: 200, check: (b) => (b?.verified_at ? undefined : "expected verified_at") },
  h("Jane signs in with the organization's provider. In a browser the console does this (Sign in with SSO);"),
  h("here `--sso-login` plays the browser at the provider (its login form) and the cookie jar keeps keel's"),
  h("browser-binding cookies. keel returns to return_to with a one-time login_code, never a token."),
  { set: "JANE", shell: "jane@$DOMAIN", value: (v) => `jane@${v.DOMAIN}` },
  { call: ["POST", "/auth/sso/start"], cookies: "save", body: { email: "$JANE", return_to: "$H/console/" }, expect: 200, capture: { AUTH_URL: "authorization_url" } },
  { ssoLogin: "CALLBACK", url: "AUTH_URL", login: "$JANE" },
  { call: ["GET", "$CALLBACK"], cookies: "send", expect: 302, location: "RET", note: "302 to return_to?login_code=…" },
  { param: "LOGIN_CODE", from: "RET", name: "login_code" },
  { call: ["POST", "/auth/oidc/exchange"], cookies: "send", body: { login_code: "$LOGIN_CODE" }, expect: 200, capture: { JANE_AT: "access_token" } },
  { call: ["GET", "/me"], auth: auth("JANE_AT"), expect: 200, note: "a new passwordless account, verified by the provider", check: (b, v) => (b?.email === v.JANE ? undefined : `expected email ${v.JANE}`) },
  { call: ["GET", "/orgs"], auth: auth("JANE_AT"), expect: 200, note: "joined just in time, with the default role", check: (b, v) => (JSON.stringify(b).includes(v.SSO_ORG) ? undefined : "expected the SSO organization") },
  {
    call: ["GET", "/orgs/$SSO_ORG/sso"],
    auth: auth("AT"),
    expect: 200,
    note: "recent: the last SSO sign-ins and errors",
    check: (b, v) => (b?.recent?.some((r) => r.email === v.JANE && r.outcome === "joined") ? undefined : `expected ${v.JANE} joined in recent`),
  },
  h("With enforce_sso, a password sign-in of an address at the domain is sent to SSO (after the password is proven)."),
  { set: "CAROL", shell: "carol@$DOMAIN", value: (v) => `carol@${v.DOMAIN}` },
  { call: ["POST", "/auth/register"], body: { email: "$CAROL", password: BOB_PASSWORD, full_name: "Carol Acme" }, expect: 201 },
  { mail: "TOKEN", to: "$CAROL", link: "verify-email" },
  { call: ["POST", "/auth/verify-email"], body: { token: "$TOKEN" }, expect: 200 },
  { call: ["POST", "/auth/login"], body: { email: "$CAROL", password: BOB_PASSWORD }, expect: 403, note: "sso_required, with sso_url", check: (b) => (b?.code === "sso_required" ? undefined : "expected code sso_required") },
  { servers: "stop" },

  h(""),
  h("Last, the steps that end sessions and accounts (on this run's users only)."),
  h("A refresh token used twice: the second use revokes the whole session (401 token_reused)."),
  { call: ["POST", "/auth/login"], body: { email: "$BOB", password: BOB_PASSWORD }, expect: 200, capture: { BOB_RT: "refresh_token" } },
  { call: ["POST", "/auth/refresh"], body: { refresh_token: "$BOB_RT" }, expect: 200 },
  { call: ["POST", "/auth/refresh"], body: { refresh_token: "$BOB_RT" }, expect: 401, note: "token_reused: that session is revoked" },
  h("Sign out everywhere, then delete an account (deactivated now, erased after 30 days)."),
  { call: ["POST", "/auth/logout-all"], auth: auth("AT"), expect: 204 },
  { call: ["GET", "/me"], auth: auth("AT"), expect: 401, note: "session ended" },
  { call: ["DELETE", "/me"], auth: auth("OLD_AT"), body: { password: "old-system-passphrase-7" }, expect: 202 },
];

// ---------------------------------------------------------------------------------------------
// Rendering (the README section)

const VAR = /\$([A-Z_][A-Z0-9_]*)/g;
const hasVar = (s) => /\$[A-Z_][A-Z0-9_]*/.test(s);
const sq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const dq = (s) => `"${s.replace(/(["\\`])/g, "\\$1")}"`;
const shellWord = (s) => (hasVar(s) ? dq(s) : /^[A-Za-z0-9_./:=@%-]+$/.test(s) ? s : sq(s));

function urlOf(step) {
  const [, p] = step.call;
  return p.startsWith("$") ? p : p.startsWith("/dev/") ? `$H${p}` : `$B${p}`;
}

function curlOf(step) {
  const [method, , ] = step.call;
  const parts = ["curl -s"];
  if (step.cookies === "save") parts.push("-c /tmp/keel-jar");
  if (step.cookies === "send") parts.push("-b /tmp/keel-jar -c /tmp/keel-jar");
  if (method !== "GET") parts.push(`-X ${method}`);
  parts.push(shellWord(urlOf(step)));
  if (step.auth && typeof step.auth === "object") parts.push(`-H "x-api-key: $${step.auth.key}"`);
  else if (step.auth) parts.push(`-H "authorization: Bearer $${step.auth}"`);
  for (const [k, v] of Object.entries(step.headers ?? {})) parts.push(`-H ${sq(`${k}: ${v}`)}`);
  if (step.body !== undefined) {
    const json = JSON.stringify(step.body);
    parts.push(`-H "$J" -d ${hasVar(json) ? dq(json) : sq(json)}`);
  }
  if (step.rawBody !== undefined) parts.push(`-H "$J" -d ${dq(step.rawBody)}`);
  if (step.location) parts.push(`-o /dev/null -w '%{redirect_url}'`);
  let cmd = parts.join(" ");
  if (step.out) cmd += ` > ${step.out}`;
  if (step.location) cmd = `${step.location}=$(${cmd})`;
  const caps = Object.entries(step.capture ?? {});
  if (caps.length === 1) cmd = caps[0][1] === "." ? `${caps[0][0]}=$(${cmd})` : `${caps[0][0]}=$(${cmd} | json ${caps[0][1]})`;
  else if (caps.length > 1) cmd = `R=$(${cmd}); ${caps.map(([n, p]) => `${n}=$(echo "$R" | json ${p})`).join("; ")}`;
  return cmd;
}

function lineOf(step) {
  let line;
  if ("comment" in step) return step.comment ? `# ${step.comment}` : "";
  if ("raw" in step) line = step.raw;
  else if ("set" in step) line = `${step.set}=${step.shell}`;
  else if ("call" in step) line = curlOf(step);
  else if ("mail" in step && step.code)
    line = `${step.mail}=$(curl -s ${dq(`$H/dev/mailbox?to=${step.to}`)} | grep -o 'sign-in code is [0-9]*' | head -1 | grep -o '[0-9]*$')`;
  else if ("passkey" in step) line = `${step.passkey}=$(node scripts/tour.mjs --passkey ${step.ceremony} "$H" "$${step.options}")`;
  else if ("mail" in step)
    line = `${step.mail}=$(curl -s ${dq(`$H/dev/mailbox?to=${step.to}`)} | grep -o '${step.link}?token=[A-Za-z0-9._-]*' | head -1 | cut -d= -f2)`;
  else if ("totp" in step) line = `${step.totp}=$(node scripts/tour.mjs --totp "$${step.secret}"${step.next ? " --next" : ""})`;
  else if ("node" in step) line = `node ${step.node.map(shellWord).join(" ")}`;
  else if (step.servers === "start") line = `node scripts/tour.mjs --sso-servers "$H" & SSO_PID=$!; sleep 2`;
  else if (step.servers === "stop") line = "kill $SSO_PID";
  else if ("ssoLogin" in step) line = `${step.ssoLogin}=$(node scripts/tour.mjs --sso-login "$${step.url}" ${shellWord(step.login)})`;
  else if ("param" in step) line = `${step.param}=$(node -p 'new URL(process.argv[1]).searchParams.get(${JSON.stringify(step.name)})' "$${step.from}")`;
  const note = step.note ?? (step.call && step.expect >= 400 ? `${step.expect}` : undefined);
  return note ? `${line}   # ${note}` : line;
}

export function markdown() {
  return ["```sh", ...STEPS.map(lineOf), "```"].join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

const START = /<!-- tour:start[^\n]*-->\n/;
const END = "<!-- tour:end -->";

/** The README's generated section (between the tour:start and tour:end markers), or null. */
export function readmeSection(readme) {
  const m = START.exec(readme);
  const end = readme.indexOf(END);
  if (!m || end < m.index) return null;
  return readme.slice(m.index + m[0].length, end);
}

/** The README with its tour section replaced by the generated one. */
export function withTour(readme) {
  const m = START.exec(readme);
  const end = readme.indexOf(END);
  if (!m || end < m.index) throw new Error("README.md has no <!-- tour:start --> … <!-- tour:end --> markers");
  return readme.slice(0, m.index + m[0].length) + markdown() + readme.slice(end);
}

// ---------------------------------------------------------------------------------------------
// Running

const subst = (s, vars) =>
  s.replace(VAR, (_, name) => {
    if (!(name in vars)) throw new Error(`$${name} is not set`);
    return vars[name];
  });
const substDeep = (v, vars) =>
  typeof v === "string" ? subst(v, vars) : Array.isArray(v) ? v.map((x) => substDeep(x, vars)) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substDeep(x, vars)])) : v;
const pick = (obj, p) => p.split(".").reduce((v, k) => (v == null ? undefined : v[k]), obj);

class StepFailed extends Error {}

export async function run(base, { log = console.log } = {}) {
  const vars = { H: base.replace(/\/+$/, "") };
  // keel's cookies, as curl's jar (/tmp/keel-jar) keeps them: "save" starts it afresh, "send" adds to it.
  let jar = new Map();
  let stopServers;
  let n = 0;
  try {
  for (const step of STEPS) {
    if ("comment" in step || "raw" in step) continue;
    n++;
    const shown = lineOf(step);
    const fail = (msg) => {
      throw new StepFailed(`step ${n} failed: ${msg}\n  ${shown}`);
    };
    if ("set" in step) {
      vars[step.set] = step.value(vars);
      continue;
    }
    if ("totp" in step) {
      vars[step.totp] = totp(vars[step.secret], Date.now() / 1000 + (step.next ? 30 : 0));
      continue;
    }
    if ("node" in step) {
      const res = spawnSync(process.execPath, step.node.map((a) => subst(a, vars)), { cwd: root, encoding: "utf8" });
      if (res.status !== 0) fail(`exit ${res.status}\n${res.stdout}\n${res.stderr}`);
      log(`ok ${n} node ${step.node[0]}`);
      continue;
    }
    if ("servers" in step) {
      if (step.servers === "start" && !stopServers) stopServers = await startSsoServers(vars.H);
      if (step.servers === "stop" && stopServers) {
        await stopServers();
        stopServers = undefined;
      }
      log(`ok ${n} sso servers ${step.servers}`);
      continue;
    }
    if ("ssoLogin" in step) {
      try {
        vars[step.ssoLogin] = await ssoLogin(vars[step.url], subst(step.login, vars));
      } catch (err) {
        fail(err.message);
      }
      log(`ok ${n} sso login at the provider`);
      continue;
    }
    if ("param" in step) {
      const v = new URL(vars[step.from]).searchParams.get(step.name);
      if (!v) fail(`no ${step.name} in ${vars[step.from]}`);
      vars[step.param] = v;
      continue;
    }
    if ("passkey" in step) {
      vars[step.passkey] = softPasskey(step.ceremony, vars.H, vars[step.options]);
      log(`ok ${n} passkey ${step.ceremony}`);
      continue;
    }
    if ("mail" in step) {
      const url = `${vars.H}/dev/mailbox?to=${encodeURIComponent(subst(step.to, vars))}`;
      const re = step.code ? /sign-in code is ([0-9]{6})/ : new RegExp(`${step.link}\\?token=([A-Za-z0-9._-]*)`);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const res = await fetch(url, { headers: { accept: "application/json" } });
        if (res.status !== 200) fail(`GET /dev/mailbox answered ${res.status}`);
        const m = re.exec(await res.text());
        if (m) {
          vars[step.mail] = m[1];
          break;
        }
        if (Date.now() > deadline) fail(`no ${step.code ? "sign-in code" : step.link + " link"} in the mailbox of ${subst(step.to, vars)} after 30 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      log(`ok ${n} mail ${step.code ? "sign-in code" : step.link}`);
      continue;
    }
    const [method, p] = step.call;
    const url = subst(p.startsWith("$") ? p : p.startsWith("/dev/") ? `$H${p}` : `$H/api/v1${p}`, vars);
    const headers = { accept: "application/json", ...(step.headers ?? {}) };
    if (step.auth && typeof step.auth === "object") headers["x-api-key"] = vars[step.auth.key];
    else if (step.auth) headers.authorization = `Bearer ${vars[step.auth]}`;
    if (step.cookies === "save") jar = new Map();
    if (step.cookies === "send" && jar.size) headers.cookie = cookieHeader(jar);
    let body;
    if (step.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(substDeep(step.body, vars));
    }
    if (step.rawBody !== undefined) {
      headers["content-type"] = "application/json";
      body = subst(step.rawBody, vars);
    }
    const res = await fetch(url, { method, headers, body, redirect: step.location ? "manual" : "follow" });
    const text = await res.text();
    if (step.cookies) cookieJar(jar, res);
    if (res.status !== step.expect) fail(`${method} ${p} answered ${res.status}, expected ${step.expect}\n  ${text.slice(0, 2000)}`);
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const problem = step.check?.(json, vars);
    if (problem) fail(`${problem}\n  ${text.slice(0, 2000)}`);
    for (const [name, jp] of Object.entries(step.capture ?? {})) {
      const v = jp === "." ? text : pick(json, jp);
      if (v === undefined || v === null || v === "") fail(`no ${jp} in the answer\n  ${text.slice(0, 2000)}`);
      vars[name] = String(v);
    }
    if (step.location) {
      const to = res.headers.get("location");
      if (!to) fail(`no location in the answer`);
      vars[step.location] = new URL(to, url).href;
    }
    log(`ok ${n} ${method} ${p} → ${res.status}`);
  }
  } finally {
    await stopServers?.();
  }
  return vars;
}

// ---------------------------------------------------------------------------------------------

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  if (args[0] === "--markdown") {
    process.stdout.write(markdown());
  } else if (args[0] === "--write-readme") {
    const file = path.join(root, "README.md");
    writeFileSync(file, withTour(readFileSync(file, "utf8")));
    console.log("README.md: tour section regenerated");
  } else if (args[0] === "--passkey") {
    if (!["create", "get", "step-up"].includes(args[1]) || !args[2] || !args[3]) {
      console.error("usage: node scripts/tour.mjs --passkey create|get|step-up BASE_URL OPTIONS_JSON");
      process.exit(2);
    }
    console.log(softPasskey(args[1], args[2], args[3]));
  } else if (args[0] === "--sso-servers") {
    if (!args[1]) {
      console.error("usage: node scripts/tour.mjs --sso-servers BASE_URL");
      process.exit(2);
    }
    const stop = await startSsoServers(args[1]);
    console.error(`sso: OpenID provider http://127.0.0.1:${IDP_PORT} (client ${SSO_CLIENT.client_id}), DNS-over-HTTPS http://127.0.0.1:${DOH_PORT}/dns-query`);
    const quit = () => stop().then(() => process.exit(0));
    process.once("SIGTERM", quit);
    process.once("SIGINT", quit);
  } else if (args[0] === "--sso-login") {
    if (!args[1] || !args[2]) {
      console.error("usage: node scripts/tour.mjs --sso-login AUTHORIZATION_URL LOGIN");
      process.exit(2);
    }
    console.log(await ssoLogin(args[1], args[2]));
  } else if (args[0] === "--totp") {
    if (!args[1]) {
      console.error("usage: node scripts/tour.mjs --totp BASE32SECRET [--next]");
      process.exit(2);
    }
    console.log(totp(args[1], Date.now() / 1000 + (args.includes("--next") ? 30 : 0)));
  } else {
    const base = args[0] ?? process.env.KEEL_URL ?? "http://127.0.0.1:8787";
    try {
      await run(base);
      console.log("tour: every step answered as expected");
    } catch (err) {
      console.error(err instanceof StepFailed ? err.message : err);
      process.exit(1);
    }
  }
}
