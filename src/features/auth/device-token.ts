import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv, RequestContext } from "../../platform/context";
import { hmacHex, randomToken, timingSafeEqualStr } from "../../platform/crypto";
import { API } from "../../platform/route-helpers";
import { derivedKey } from "../../platform/secrets";
import { deliverTokens } from "./refresh-cookie";
import { DAY } from "../../platform/time";

// Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a successful
// sign-in hands the device a token; a later login that sends it back is judged by that device's
// own failure count and lock, not by the email's, so someone who locks an email with wrong
// passwords keeps out only devices that never signed in.
//
// `dv2.<user id>.<device id>.<issued, base-36 seconds>.<password version>.<HMAC>`: stateless,
// nothing is stored; the HMAC (a key derived from DATA_ENCRYPTION_KEY) binds the device id to the
// user, so a token is worthless for any other account and cannot be forged or moved to another
// device id. The password version (the user's `password_changed_at`, base 36) binds it to the
// password it was earned with: a password change or reset ends every device token (checked after
// the user lookup, see `deviceOfUser`), so someone who once knew the old password keeps nothing.

export interface Device {
  userId: string;
  deviceId: string;
  /** The password version the token was issued under (see `passwordVersion`). */
  passwordVersion: string;
}

/** The user fields a device token is bound to. */
export interface DeviceOwner {
  id: string;
  passwordChangedAt: Date;
}

const FORMAT = /^dv2\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{22})\.([0-9a-z]{1,10})\.([0-9a-z]{1,12})\.([0-9a-f]{64})$/;

const passwordVersion = (owner: DeviceOwner) => owner.passwordChangedAt.getTime().toString(36);

const mac = (ctx: RequestContext, userId: string, deviceId: string, issued: string, version: string) =>
  hmacHex(derivedKey(ctx.env, ctx.config, "device-tokens"), `${userId}.${deviceId}.${issued}.${version}`);

/** A token for the user's device: the known one again (fresh lifetime), or a new device. */
export function issueDeviceToken(ctx: RequestContext, owner: DeviceOwner, deviceId?: string | null): string {
  const id = deviceId ?? randomToken(16);
  const issued = Math.floor(ctx.now.getTime() / 1000).toString(36);
  const version = passwordVersion(owner);
  return `dv2.${owner.id}.${id}.${issued}.${version}.${mac(ctx, owner.id, id, issued, version)}`;
}

/**
 * The device a token names when it is genuine and not expired; null otherwise (treated as an
 * unknown device). Whether it still belongs to the user's current password is known only after
 * the lookup: `deviceOfUser`.
 */
export function verifyDeviceToken(ctx: RequestContext, token: string | undefined | null): Device | null {
  const m = token ? FORMAT.exec(token) : null;
  if (!m) return null;
  const [, userId, deviceId, issued, version, given] = m as unknown as [string, string, string, string, string, string];
  const issuedMs = parseInt(issued, 36) * 1000;
  if (!(issuedMs + ctx.config.DEVICE_TOKEN_TTL_DAYS * DAY > ctx.now.getTime())) return null;
  return timingSafeEqualStr(mac(ctx, userId, deviceId, issued, version), given) ? { userId, deviceId, passwordVersion: version } : null;
}

/** True when the device is this user's and was earned with the user's current password. */
export const deviceOfUser = (device: Device, user: DeviceOwner | undefined): boolean =>
  !!user && device.userId === user.id && device.passwordVersion === passwordVersion(user);

/** A sign-in's tokens with its device token (a named type, so unions with MfaRequired stay distinct). */
export const withDeviceToken = <T extends object>(tokens: T, deviceToken: string): T & { device_token: string } => ({ ...tokens, device_token: deviceToken });

/** The guard of one device of one user: its own failure count, lock and rate. */
export const deviceGuardKey = (device: Device) => `login-device:${device.userId}:${device.deviceId}`;

/**
 * The guard all of one user's devices share: every failure made with a valid device token counts
 * here too, with the same threshold, so N collected tokens never give N budgets of guesses past a
 * locked email. Failures without a device token (strangers) never count here, so they cannot
 * keep the user's known devices out.
 */
export const userDevicesGuardKey = (userId: string) => `login-devices:${userId}`;

// The console's copy lives in a cookie no script can read (HttpOnly), sent only over HTTPS, only by
// same-site requests, and only to the login endpoint, which reads it when the body has none.
// /auth/mfa/verify sets it (for the login path) but never needs to read it: the device rides in
// the mfa token.

/** `__Secure-` makes browsers refuse the cookie unless it is Secure and set from a secure origin. */
export const DEVICE_COOKIE = "__Secure-keel_device";
const DEVICE_PATH = `${API}/auth/login`;

export function deviceTokenFromCookie<E extends AppEnv>(c: Context<E>): string | undefined {
  return getCookie(c, DEVICE_COOKIE);
}

/**
 * A sign-in's tokens as delivered: with `cookie`, the device token goes into its cookie and the
 * refresh token into its own (see deliverTokens); neither is in the body.
 */
export function deliverSignIn<E extends AppEnv, T extends { refresh_token: string; device_token: string }>(
  c: Context<E>,
  tokens: T,
  delivery: "body" | "cookie" | undefined,
) {
  if (delivery !== "cookie") return tokens;
  const { device_token, ...rest } = tokens;
  setCookie(c, DEVICE_COOKIE, device_token, {
    path: DEVICE_PATH,
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    maxAge: c.var.ctx.config.DEVICE_TOKEN_TTL_DAYS * 86_400,
  });
  return deliverTokens(c, rest, "cookie");
}
