/** Rendered email: every message has a plain-text and an HTML part. */
export interface RenderedEmail {
  template: string;
  subject: string;
  text: string;
  html: string;
  /** Extra message headers (e.g. RFC 8058 List-Unsubscribe), stored with the outbox row. */
  headers?: Record<string, string>;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function layout(title: string, paragraphs: string[], action?: { label: string; url: string }): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`).join("");
  const button = action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(action.url)}" style="background:#1f4fd1;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p><p style="margin:0 0 16px;font-size:13px;color:#555">Or open this link: ${escapeHtml(action.url)}</p>`
    : "";
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111;max-width:560px;margin:0 auto;padding:24px"><h1 style="font-size:20px">${escapeHtml(title)}</h1>${body}${button}<p style="font-size:12px;color:#777">keel</p></body></html>`;
}

function text(paragraphs: string[], action?: { label: string; url: string }): string {
  return [...paragraphs, ...(action ? [`${action.label}: ${action.url}`] : []), "— keel"].join("\n\n");
}

function build(template: string, subject: string, paragraphs: string[], action?: { label: string; url: string }): RenderedEmail {
  return { template, subject, text: text(paragraphs, action), html: layout(subject, paragraphs, action) };
}

/** The part of the configuration that decides where emailed links point. */
export interface LinkConfig {
  PUBLIC_BASE_URL: string;
  EMAIL_LINK_BASE_URL?: string | undefined;
}

/**
 * A link for an email: `<EMAIL_LINK_BASE_URL or PUBLIC_BASE_URL>/<path>?token=<token>`, the token
 * exactly as the API takes it. keel serves pages for these paths itself (the *.pages.tsx of auth,
 * orgs and alert-delivery); a deployment with its own front end points EMAIL_LINK_BASE_URL there.
 */
export function tokenLink(config: LinkConfig, path: string, token: string): string {
  const baseUrl = config.EMAIL_LINK_BASE_URL ?? config.PUBLIC_BASE_URL;
  const url = new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.searchParams.set("token", token);
  return url.toString();
}

export const emails = {
  emailCode: (p: { name: string; code: string; url: string; minutes: number }) =>
    build(
      "email_code",
      `Your keel sign-in code: ${p.code}`,
      [
        `Hello ${p.name},`,
        `Your sign-in code is ${p.code}. Enter it on the sign-in screen, or use the button below. The code and the link expire in ${p.minutes} minutes and work once; a newer code replaces this one.`,
        "If you did not ask to sign in, ignore this email: nobody can sign in without the code.",
      ],
      { label: "Sign in to keel", url: p.url },
    ),
  verification: (p: { name: string; url: string; hours: number }) =>
    build(
      "verification",
      "Verify your email address",
      [`Hello ${p.name},`, `Confirm your email address to finish creating your keel account. The link expires in ${p.hours} hours and works once.`],
      { label: "Verify email", url: p.url },
    ),
  passwordReset: (p: { name: string; url: string; minutes: number }) =>
    build(
      "password_reset",
      "Reset your password",
      [
        `Hello ${p.name},`,
        `Someone asked to reset the password of your keel account. The link expires in ${p.minutes} minutes and works once.`,
        "If it was not you, ignore this email: your password stays as it is.",
      ],
      { label: "Choose a new password", url: p.url },
    ),
  /** An administrator created the account without a password: the link sets the first one. */
  accountInvite: (p: { name: string; url: string; hours: number }) =>
    build(
      "account_invite",
      "Set the password of your new keel account",
      [
        `Hello ${p.name},`,
        `An administrator created a keel account for you. Choose a password to start using it. The link expires in ${p.hours} hours and works once.`,
        "If you did not expect this, ignore this email: nobody can sign in to the account until a password is set.",
      ],
      { label: "Set your password", url: p.url },
    ),
  passwordChanged: (p: { name: string; when: string; ip: string; byAdministrator?: boolean }) =>
    build("password_changed", "Your password was changed", [
      `Hello ${p.name},`,
      p.byAdministrator
        ? `An administrator replaced the password of your keel account with one from an account import at ${p.when} (UTC). You were signed out everywhere.`
        : `The password of your keel account was changed at ${p.when} (UTC) from IP ${p.ip}. Your other sessions were signed out.`,
      // A new password also revokes every API key (README "Passwords and API keys"): a key minted by whoever knew the old password dies with it.
      "Your API keys were revoked as well: integrations that use them stop working until you create new keys (Account → API keys, or POST /api/v1/me/api-keys).",
      "If this was not you, reset your password at once and contact support.",
    ]),
  identityLinked: (p: { name: string; provider: string; email: string | null; when: string }) =>
    build("identity_linked", "A sign-in was linked to your account", [
      `Hello ${p.name},`,
      `A ${p.provider} account${p.email ? ` (${p.email})` : ""} was linked to your keel account at ${p.when} (UTC): it can now sign you in.`,
      "If this was not you, remove it under My account, change your password and sign out all sessions.",
    ]),
  newSignIn: (p: { name: string; when: string; ip: string; device: string; location: string | null }) =>
    build("new_sign_in", "New sign-in to your account", [
      `Hello ${p.name},`,
      `Your keel account was signed in to from a device we have not seen before: ${p.device}, ${p.location ? `near ${p.location}, ` : ""}IP ${p.ip}, at ${p.when} (UTC).`,
      "If this was you, nothing to do. If not, change your password and sign out all sessions.",
    ]),
  emailChange: (p: { name: string; url: string; hours: number }) =>
    build(
      "email_change",
      "Confirm your new email address",
      [
        `Hello ${p.name},`,
        `Someone asked to use this address for a keel account. Confirm it to make the change; the link expires in ${p.hours} hours and works once.`,
        "If it was not you, ignore this email: nothing changes.",
      ],
      { label: "Confirm new email", url: p.url },
    ),
  emailChanged: (p: { name: string; newEmail: string; when: string }) =>
    build("email_changed", "Your email address was changed", [
      `Hello ${p.name},`,
      `The email address of your keel account was changed to ${p.newEmail} at ${p.when} (UTC). This address will no longer receive messages about the account.`,
      "If this was not you, contact support at once.",
    ]),
  passkeyAdded: (p: { name: string; passkeyName: string; when: string; ip: string }) =>
    build("passkey_added", "A passkey was added to your account", [
      `Hello ${p.name},`,
      `A passkey named "${p.passkeyName}" was added to your keel account at ${p.when} (UTC) from IP ${p.ip}. It can now sign in to the account.`,
      "If this was not you, remove it under Account → Passkeys, change your password and sign out all sessions.",
    ]),
  /** An administrator removed the user's second factors (TOTP, backup codes, passkeys). */
  factorsReset: (p: { name: string; when: string }) =>
    build("factors_reset", "Your sign-in methods were reset", [
      `Hello ${p.name},`,
      `An administrator removed the two-factor authentication and the passkeys of your keel account at ${p.when} (UTC), as you asked after losing access to them, and signed you out everywhere.`,
      "Sign in with your password (or a sign-in link) and set up two-factor authentication and passkeys again. If you did not ask for this, contact support at once.",
    ]),
  secondFactorLocked: (p: { name: string; until: string; failures: number }) =>
    build("second_factor_locked", "Sign-in to your account is locked", [
      `Hello ${p.name},`,
      `Someone who knows your password entered ${p.failures} wrong authentication codes in a row, so two-factor sign-in to your keel account is locked until ${p.until} (UTC).`,
      "If this was not you, your password is known to someone else: reset it now.",
    ]),
  /** An SSO sign-in could not join the organization: no seat left (to each owner and admin, at most hourly). */
  ssoSeatLimit: (p: { name: string; orgName: string; email: string; limit: number; url: string }) =>
    build(
      "sso_seat_limit",
      `${p.orgName} is full: a single sign-on user could not join`,
      [
        `Hello ${p.name},`,
        `${p.email} signed in through ${p.orgName}'s single sign-on but could not join the organization: its plan allows ${p.limit} users and every seat is taken.`,
        "Free a seat or upgrade the plan; the person can then sign in again. Further refused sign-ins within the hour are listed in the organization's SSO view, not emailed.",
      ],
      { label: "Open the SSO view", url: p.url },
    ),
  invitation: (p: { orgName: string; inviterName: string; role: string; url: string; days: number }) =>
    build(
      "invitation",
      `You are invited to join ${p.orgName} on keel`,
      [
        "Hello,",
        `${p.inviterName} invited you to join the organization ${p.orgName} on keel as ${p.role === "admin" || p.role === "owner" ? "an" : "a"} ${p.role}.`,
        `Sign in with this email address (verified) and accept. The link expires in ${p.days} days and works once.`,
        "If you did not expect this invitation, ignore this email.",
      ],
      { label: "Accept the invitation", url: p.url },
    ),
  /** A webhook endpoint keel turned off after failing for days (features/webhooks). */
  webhookDisabled: (p: { name: string; url: string; days: number; where: string }) =>
    build("webhook_disabled", "A webhook endpoint was disabled", [
      `Hello ${p.name},`,
      `The webhook endpoint ${p.url} (${p.where}) has failed every delivery for ${p.days} days, so keel disabled it and sends it nothing more.`,
      "Fix the receiver, then enable the endpoint again (PATCH it with enabled: true); its delivery log shows the last responses.",
    ]),
};
