import { z } from "@hono/zod-openapi";
import { UserSchema } from "../users/user.schema";
import { EmailInput, FullNameInput, PhoneInput } from "../users/users.schemas";

// Policy (length, common passwords …) is checked by the service and answers `weak_password`;
// this bound only keeps absurd inputs away from the hasher.
const PasswordInput = z.string().min(1, "Required").max(1024).openapi({ example: "correct horse battery staple" });
const TokenInput = z.string().min(16).max(512);

export const RegisterInput = z
  .strictObject({
    email: EmailInput,
    password: PasswordInput.optional().openapi({
      description:
        "Leave out for an account without a password: its verification link signs the user in (on the page's button), to add a passkey or use emailed codes",
    }),
    full_name: FullNameInput,
    phone: PhoneInput.optional(),
    terms_accepted: z.boolean().optional().openapi({ description: "Required (true) when the deployment tracks a terms of service version (TERMS_VERSION); the version and time are recorded" }),
    privacy_accepted: z.boolean().optional().openapi({ description: "Required (true) when the deployment tracks a privacy policy version (PRIVACY_VERSION)" }),
  })
  .openapi("RegisterInput");

export const RegisterResponse = z.object({ user: UserSchema, verification_required: z.boolean() }).openapi("RegisterResponse");

export const VerifyEmailInput = z.strictObject({ token: TokenInput }).openapi("VerifyEmailInput");
export const EmailOnlyInput = z.strictObject({ email: EmailInput }).openapi("EmailInput");

/**
 * Where the refresh token goes: `body` (default, the Tokens document) or `cookie` (an HttpOnly,
 * Secure, SameSite=Strict cookie limited to /api/v1/auth/refresh, for browser clients such as the
 * console: no script can read it).
 */
export const RefreshTokenDelivery = z.enum(["body", "cookie"]).openapi({
  description:
    "`cookie`: the refresh token is set as the HttpOnly, Secure, SameSite=Strict cookie `__Secure-keel_refresh` (Path=/api/v1/auth/refresh) and left out of the body; POST /auth/refresh then reads it (with an `X-Requested-With` header) when its body has no refresh_token.",
});

export const LoginInput = z
  .strictObject({
    email: EmailInput,
    password: PasswordInput,
    device_name: z.string().trim().min(1).max(100).optional(),
    device_token: z.string().max(512).optional().openapi({
      description:
        "The `device_token` of an earlier sign-in on this device: the attempt is judged by this device's own failures and lock, not the email's. A token that is not this account's, expired or malformed counts as no token. Browser clients leave it out: the `__Secure-keel_device` cookie is read instead.",
    }),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .openapi("LoginInput");

export const TokensSchema = z
  .object({
    access_token: z.string().openapi({
      description: "EdDSA JWT (`at+jwt`) with `sub`, `sid` and `auth_time` (seconds: the last sign-in or step-up of the session; a refresh keeps it)",
    }),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Access token lifetime, seconds" }),
    session_id: z.string(),
    user: UserSchema,
    password_expired: z.boolean().openapi({ description: "When true, every route but password change answers 403 until it is changed" }),
    terms_update_required: z.boolean().openapi({
      description: "When true, the configured terms / privacy versions are not the ones the user accepted: every route but POST /me/consents and logout answers 403 `terms_update_required` until they are accepted",
    }),
    device_token: z.string().optional().openapi({
      description:
        "Sign-ins only (login, mfa/verify; not refresh): opaque, long-lived (DEVICE_TOKEN_TTL_DAYS, renewed at each sign-in), identifies this device to later logins. Send it back as `device_token` on POST /auth/login: that device is judged by its own failures, so a lock someone else set on the email does not keep it out.",
    }),
  })
  .openapi("Tokens");

export const CookieTokensSchema = TokensSchema.omit({ refresh_token: true, device_token: true })
  .extend({
    refresh_token_delivery: z.literal("cookie").openapi({
      description:
        "The refresh token was set as a cookie, not sent in the body; on a sign-in the device token too (`__Secure-keel_device`, HttpOnly, Secure, SameSite=Strict, Path=/api/v1/auth/login), which the login then reads",
    }),
  })
  .openapi("CookieTokens");

export const MfaRequiredSchema = z
  .object({ mfa_required: z.literal(true), mfa_token: z.string(), expires_in: z.number().int() })
  .openapi("MfaRequired");

export const MfaVerifyInput = z
  .strictObject({
    mfa_token: TokenInput,
    code: z.string().trim().regex(/^\d{6}$/, "A 6-digit code").optional(),
    backup_code: z.string().trim().min(6).max(32).optional(),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .refine((v) => (v.code === undefined) !== (v.backup_code === undefined), {
    message: "Send either code or backup_code",
    path: ["code"],
  })
  .openapi("MfaVerifyInput");

export const RefreshInput = z
  .strictObject({
    refresh_token: TokenInput.optional().openapi({ description: "Required unless the refresh-token cookie is sent (cookie delivery)" }),
    refresh_token_delivery: RefreshTokenDelivery.optional().openapi({ description: "Where the new refresh token goes; a cookie refresh always gets a cookie" }),
  })
  .openapi("RefreshInput");

export const PasswordChangeInput = z
  .strictObject({ current_password: PasswordInput, new_password: PasswordInput })
  .openapi("PasswordChangeInput");

export const PasswordResetInput = z.strictObject({ token: TokenInput, new_password: PasswordInput }).openapi("PasswordResetInput");

export const TotpCodeInput = z.strictObject({ code: z.string().trim().regex(/^\d{6}$/, "A 6-digit code") }).openapi("TotpCodeInput");

export const TotpDisableInput = z
  .strictObject({
    code: z.string().trim().regex(/^\d{6}$/, "A 6-digit code").optional(),
    password: PasswordInput.optional(),
  })
  .refine((v) => v.code === undefined || v.password === undefined, { message: "Send either code or password (or neither, after a recent authentication)", path: ["code"] })
  .openapi("TotpDisableInput");

export const TotpSetupSchema = z
  .object({
    secret: z.string().openapi({ description: "Base32 secret for manual entry" }),
    otpauth_url: z.string().openapi({ example: "otpauth://totp/keel:ada%40example.com?secret=…&issuer=keel" }),
  })
  .openapi("TotpSetup");

/** POST /auth/mfa/backup-codes: a current code, or nothing after a recent authentication. */
export const BackupCodesInput = z
  .strictObject({ code: z.string().trim().regex(/^\d{6}$/, "A 6-digit code").optional() })
  .openapi("BackupCodesInput");

export const BackupCodesSchema = z.object({ backup_codes: z.array(z.string()).length(10) }).openapi("BackupCodes");

// ─── one-time email codes and step-up (issue 16) ───

const SixDigits = z.string().trim().regex(/^\d{6}$/, "A 6-digit code");

export const EmailCodeSendInput = z.strictObject({ email: EmailInput }).openapi("EmailCodeSendInput");

export const EmailCodeVerifyInput = z
  .strictObject({
    email: EmailInput.optional(),
    code: SixDigits.optional(),
    token: TokenInput.optional().openapi({ description: "The token of the emailed /sign-in link, instead of email and code" }),
    device_name: z.string().trim().min(1).max(100).optional(),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .refine((v) => (v.token !== undefined ? v.email === undefined && v.code === undefined : v.email !== undefined && v.code !== undefined), {
    message: "Send either email and code, or token",
    path: ["code"],
  })
  .openapi("EmailCodeVerifyInput");

export const ReauthenticateInput = z
  .strictObject({
    password: PasswordInput.optional(),
    code: SixDigits.optional().openapi({ description: "A current TOTP code" }),
    backup_code: z.string().trim().min(6).max(32).optional(),
    email_code: SixDigits.optional().openapi({ description: "The 6-digit code POST /auth/email-code/send emailed to the caller's own address" }),
    passkey: z
      .strictObject({ challenge_id: z.string().min(1).max(128), response: z.record(z.string(), z.unknown()) })
      .optional()
      .openapi({ description: "A passkey assertion: options from POST /auth/passkeys/login/options called with the caller's bearer token (the challenge is bound to them; another user's passkey, or a challenge asked without the token, is 401 `invalid_credentials`)" }),
    refresh_token_delivery: RefreshTokenDelivery.optional(),
  })
  .refine((v) => [v.password, v.code, v.backup_code, v.email_code, v.passkey].filter((x) => x !== undefined).length === 1, {
    message: "Send exactly one of password, code, backup_code, email_code, passkey",
    path: ["password"],
  })
  .openapi("ReauthenticateInput");
