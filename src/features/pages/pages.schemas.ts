import { z } from "@hono/zod-openapi";

// The forms of the emailed-link pages. Same bounds as the JSON API's inputs (auth.schemas.ts):
// anything else is a broken link or a hand-made request, answered with a page, never a 500.
const Token = z.string().trim().min(16).max(512);

export const VerifyEmailForm = z.object({ token: Token });

export const ResetPasswordForm = z.object({
  token: Token,
  new_password: z.string().min(1, "Enter a new password").max(1024),
  confirm_password: z.string().max(1024),
});

export const InvitationSignInForm = z.object({
  token: Token,
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(1024),
});

export const InvitationMfaForm = z.object({
  token: Token,
  mfa_token: z.string().min(16).max(512),
  code: z.string().trim().regex(/^\d{6}$/, "Enter the 6-digit code from your authenticator app"),
});

export const InvitationAcceptForm = z.object({ token: Token });

/** The unsubscribe token is signed, not stored: same bounds as `/api/v1/unsubscribe`. */
export const UnsubscribeForm = z.object({ token: z.string().trim().min(1).max(1000) });

/** A form body as strings only (files are not taken by any page). */
export function formFields(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}
