/**
 * A software WebAuthn authenticator for tests, written independently of the service's library:
 * a WebCrypto ES256 (P-256) key pair per credential, authenticatorData built by hand, attestation
 * "none", a minimal CBOR encoder (RFC 8949: unsigned/negative integers, byte and text strings,
 * maps) and DER signatures (WebAuthn §6.5.6: ES256 signatures are ASN.1 DER).
 *
 * It answers the JSON options of the API the way a browser's `PublicKeyCredential.toJSON()` does.
 */

import { call, json } from "./harness";

const enc = new TextEncoder();

export const b64url = (bytes: Uint8Array): string => {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

// ─── CBOR ─────────────────────────────────────────────────────────────────────────────────

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [k: string]: Cbor };

function head(major: number, n: number): Uint8Array {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 0x100) return Uint8Array.of((major << 5) | 24, n);
  if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff);
  return Uint8Array.of((major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

export function cbor(value: Cbor): Uint8Array {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = enc.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return concat(head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)]));
}

// ─── DER ──────────────────────────────────────────────────────────────────────────────────

/** WebCrypto's raw r‖s (64 bytes) as an ASN.1 DER SEQUENCE of two INTEGERs. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    let v: Uint8Array = x.slice(i);
    if (v[0]! & 0x80) v = concat(Uint8Array.of(0), v);
    return concat(Uint8Array.of(0x02, v.length), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(Uint8Array.of(0x30, body.length), body);
}

// ─── the authenticator ────────────────────────────────────────────────────────────────────

export interface SoftCredential {
  id: Uint8Array;
  keys: CryptoKeyPair;
  rpId: string;
  userHandle: Uint8Array;
  counter: number;
}

export interface AuthenticatorOptions {
  /** The origin the "browser" puts in clientDataJSON. */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData (default: the options' rp.id). */
  rpId?: string;
  /** User verification (UV flag); default true. */
  uv?: boolean;
  /** Backup eligible + backed up (a synced passkey); default false. */
  backedUp?: boolean;
  /** Fixed signature counter for the next assertion (default: previous + 1). */
  counter?: number;
  /** Sign with this key instead of the credential's (a forged assertion). */
  signWith?: CryptoKey;
}

export const ORIGIN = "http://localhost:8787";
export const RP_ID = "localhost";

const FLAG_UP = 0x01,
  FLAG_UV = 0x04,
  FLAG_BE = 0x08,
  FLAG_BS = 0x10,
  FLAG_AT = 0x40;

const flagsOf = (o: AuthenticatorOptions, attested: boolean) =>
  FLAG_UP | (o.uv === false ? 0 : FLAG_UV) | (o.backedUp ? FLAG_BE | FLAG_BS : 0) | (attested ? FLAG_AT : 0);

const counterBytes = (n: number) => Uint8Array.of((n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  /** Answers creation options (`navigator.credentials.create`) with a RegistrationResponseJSON. */
  async create(options: { challenge: string; rp: { id?: string }; user: { id: string } }, o: AuthenticatorOptions & { again?: SoftCredential } = {}) {
    const rpId = o.rpId ?? options.rp.id ?? RP_ID;
    // `again`: the same credential (id and key) once more, as a cloned or re-imported authenticator would.
    const keys = o.again?.keys ?? ((await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair);
    const jwk = (await crypto.subtle.exportKey("jwk", keys.publicKey)) as JsonWebKey;
    const fromB64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, fromB64url(jwk.x!)], [-3, fromB64url(jwk.y!)]]));
    const id = o.again?.id ?? crypto.getRandomValues(new Uint8Array(16));
    const counter = o.counter ?? 0;
    const authData = concat(
      await sha256(enc.encode(rpId)),
      Uint8Array.of(flagsOf(o, true)),
      counterBytes(counter),
      new Uint8Array(16), // AAGUID: zeros, as with attestation "none"
      Uint8Array.of(id.length >> 8, id.length & 0xff),
      id,
      cose,
    );
    const clientData = enc.encode(JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin: o.origin ?? ORIGIN, crossOrigin: false }));
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData });
    const credential: SoftCredential = { id, keys, rpId, userHandle: fromB64url(options.user.id), counter };
    this.credentials.push(credential);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform" as const,
    };
  }

  /**
   * Answers request options (`navigator.credentials.get`) with an AuthenticationResponseJSON:
   * with the first allowed credential it holds, or (no allow list) its newest one, or `credential`.
   */
  async get(options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }, o: AuthenticatorOptions & { credential?: SoftCredential } = {}) {
    const allowed = options.allowCredentials?.map((c) => c.id);
    const credential =
      o.credential ?? [...this.credentials].reverse().find((c) => !allowed || allowed.length === 0 || allowed.includes(b64url(c.id)));
    if (!credential) throw new Error("no credential for these options");
    credential.counter = o.counter ?? credential.counter + 1;
    const authData = concat(await sha256(enc.encode(o.rpId ?? credential.rpId)), Uint8Array.of(flagsOf(o, false)), counterBytes(credential.counter));
    const clientData = enc.encode(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: o.origin ?? ORIGIN, crossOrigin: false }));
    const signed = concat(authData, await sha256(clientData));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, o.signWith ?? credential.keys.privateKey, signed));
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(derSignature(raw)), userHandle: b64url(credential.userHandle) },
      clientExtensionResults: {},
      authenticatorAttachment: "platform" as const,
    };
  }
}

// ─── through the API ──────────────────────────────────────────────────────────────────────


export interface PasskeyOut {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
  device_type: string;
  transports: string[];
}

/** Registers a passkey for the signed-in `token` with `authenticator`; returns the API's Passkey. */
export async function addPasskey(token: string, authenticator: SoftAuthenticator, o: AuthenticatorOptions & { name?: string } = {}): Promise<PasskeyOut> {
  const options = await call("auth/passkeys/register/options", { method: "POST", token });
  if (options.status !== 200) throw new Error(`register/options: ${options.status} ${await options.text()}`);
  const opts = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(options);
  const response = await authenticator.create(opts, o);
  const res = await call("auth/passkeys/register/verify", { body: { challenge_id: opts.challenge_id, response, ...(o.name ? { name: o.name } : {}) }, token });
  if (res.status !== 201) throw new Error(`register/verify: ${res.status} ${await res.text()}`);
  return json<PasskeyOut>(res);
}
