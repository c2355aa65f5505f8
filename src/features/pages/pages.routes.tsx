import { ownerOf } from "../../identity/owner";
import type { Context, Next } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv, App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { authenticateActor } from "../../identity/authenticate";
import { login, verifyMfaLogin } from "../auth/login.service";
import { resetPassword } from "../auth/passwords.service";
import { verifyEmail } from "../auth/registration.service";
import { endSessions } from "../sessions/sessions.service";
import { describeUnsubscribe, unsubscribe } from "../alert-delivery/unsubscribe.service";
import { acceptInvitation } from "../orgs/invitations.service";
import { Field, Notice, Page, sendPage } from "./page-layout";
import { formFields, InvitationAcceptForm, InvitationMfaForm, InvitationSignInForm, ResetPasswordForm, UnsubscribeForm, VerifyEmailForm } from "./pages.schemas";

// Pages for the links keel emails (API.md "Service"): server-rendered, no script, and they act only
// on a button press (a POST form), never on GET, because mail scanners prefetch links. Each POST
// calls the same service as the JSON API and renders the result.

type C = Context<AppEnv>;

const CONSOLE = "/console";

/**
 * Page forms must be posted from keel's own pages. Browsers say where a POST comes from with
 * `Sec-Fetch-Site` (authoritative when present) and `Origin` ("null" when the page's referrer
 * policy hides it): a cross-site form is refused (403 `forbidden`). Clients that send neither
 * header are not browsers, so they cannot be tricked into posting.
 */
async function sameOriginForms(c: C, next: Next) {
  const origin = c.req.header("Origin");
  const site = c.req.header("Sec-Fetch-Site");
  const own = [new URL(c.req.url).origin, new URL(c.var.ctx.config.PUBLIC_BASE_URL).origin];
  const allowed = site !== undefined ? site === "same-origin" : origin === undefined || own.includes(origin);
  if (!allowed) throw new AppError("forbidden", "This form can only be sent from keel's own page");
  await next();
}

async function form(c: C): Promise<Record<string, string>> {
  return formFields(await c.req.parseBody());
}

/** What to tell a person for an error of the API, in words (the problem's detail is written for people). */
function sentence(err: AppError): string {
  if (err.code === "rate_limited") return `Too many attempts. Try again in ${Math.ceil(err.extra.retryAfter ?? 60)} seconds.`;
  return err.message;
}

const pageStatus = (err: AppError) => err.status;

const BrokenLink = ({ what }: { what: string }) => (
  <Notice kind="error">
    <p>This {what} link is incomplete. Open the link from the email again, or copy the whole address into the browser.</p>
  </Notice>
);

// ---------------------------------------------------------------------------------------------
// /verify-email

const VerifyForm = ({ token }: { token: string }) => (
  <form method="post" action="/verify-email">
    <p>Press the button to confirm that this email address is yours.</p>
    <input type="hidden" name="token" value={token} />
    <button type="submit">Verify my email address</button>
  </form>
);

function registerVerifyEmail(app: App): void {
  app.get("/verify-email", (c) => {
    const token = c.req.query("token")?.trim() ?? "";
    if (!VerifyEmailForm.safeParse({ token }).success) return sendPage(c, <Page title="Verify your email"><BrokenLink what="verification" /></Page>, 400);
    return sendPage(c, <Page title="Verify your email"><VerifyForm token={token} /></Page>);
  });

  app.post("/verify-email", sameOriginForms, async (c) => {
    const input = VerifyEmailForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title="Verify your email"><BrokenLink what="verification" /></Page>, 400);
    try {
      const { user } = await verifyEmail(c.var.ctx, input.data.token);
      return sendPage(
        c,
        <Page title="Email verified">
          <Notice kind="ok">
            <p>
              <strong>{user.email}</strong> is verified. You can sign in now.
            </p>
          </Notice>
          <p>
            <a href={CONSOLE}>Sign in to keel</a>
          </p>
        </Page>,
      );
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return sendPage(
        c,
        <Page title="Verify your email">
          <Notice kind="error">
            <p>{sentence(err)}</p>
            <p>A verification link works once and expires. Sign in to keel to have a new one sent.</p>
          </Notice>
        </Page>,
        pageStatus(err),
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// /reset-password

function PasswordPolicy({ c }: { c: C }) {
  const cfg = c.var.ctx.config;
  return (
    <ul class="policy">
      <li>
        At least {cfg.PASSWORD_MIN_LENGTH} characters (at most {cfg.PASSWORD_MAX_LENGTH}); a few unrelated words make a good one.
      </li>
      {cfg.PASSWORD_REQUIRE_CLASSES ? <li>Upper- and lower-case letters, a digit and a symbol.</li> : null}
      <li>Not one of the 10,000 most common passwords, and not your email address or name.</li>
      {cfg.PASSWORD_HISTORY_COUNT > 0 ? <li>Not one of your last {cfg.PASSWORD_HISTORY_COUNT} passwords.</li> : null}
    </ul>
  );
}

function ResetForm({ c, token, errors = {}, banner }: { c: C; token: string; errors?: Record<string, string[]>; banner?: string }) {
  return (
    <Page title="Choose a new password">
      {banner ? (
        <Notice kind="error">
          <p>{banner}</p>
        </Notice>
      ) : null}
      <form method="post" action="/reset-password" novalidate>
        <input type="hidden" name="token" value={token} />
        <Field name="new_password" label="New password" type="password" autocomplete="new-password" hint={<PasswordPolicy c={c} />} errors={errors.new_password} />
        <Field name="confirm_password" label="New password again" type="password" autocomplete="new-password" errors={errors.confirm_password} />
        <button type="submit">Set the new password</button>
      </form>
    </Page>
  );
}

function registerResetPassword(app: App): void {
  app.get("/reset-password", (c) => {
    const token = c.req.query("token")?.trim() ?? "";
    if (!VerifyEmailForm.safeParse({ token }).success) return sendPage(c, <Page title="Choose a new password"><BrokenLink what="password reset" /></Page>, 400);
    return sendPage(c, <ResetForm c={c} token={token} />);
  });

  app.post("/reset-password", sameOriginForms, async (c) => {
    const input = ResetPasswordForm.safeParse(await form(c));
    if (!input.success) {
      const token = input.error.issues.some((i) => i.path[0] === "token");
      if (token) return sendPage(c, <Page title="Choose a new password"><BrokenLink what="password reset" /></Page>, 400);
      return sendPage(c, <ResetForm c={c} token={(await form(c)).token ?? ""} errors={{ new_password: ["Enter a new password"] }} />, 422);
    }
    const { token, new_password, confirm_password } = input.data;
    if (new_password !== confirm_password) {
      return sendPage(c, <ResetForm c={c} token={token} errors={{ confirm_password: ["The two passwords are not the same"] }} />, 422);
    }
    try {
      await resetPassword(c.var.ctx, { token, new_password });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code === "weak_password" || err.code === "password_reused") {
        const messages = err.extra.errors?.map((e) => e.message) ?? [err.message];
        return sendPage(c, <ResetForm c={c} token={token} errors={{ new_password: messages }} />, 422);
      }
      const banner = err.code === "validation_failed" ? "This reset link is invalid, used or expired. Ask for a new one from the sign-in screen." : sentence(err);
      return sendPage(c, <ResetForm c={c} token={token} banner={banner} />, pageStatus(err));
    }
    return sendPage(
      c,
      <Page title="Password changed">
        <Notice kind="ok">
          <p>Your password is changed and every session of your account was signed out.</p>
        </Notice>
        <p>
          <a href={CONSOLE}>Sign in with the new password</a>
        </p>
      </Page>,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// /accept-invitation (the invitation service of features/orgs, as POST /invitations/accept uses it)

/**
 * Between "signed in" and "accept", the page keeps the access token of the session it opened in
 * an HttpOnly cookie that only this path receives; accepting (or leaving) ends that session.
 */
const INVITE_COOKIE = "keel_invitation_session";
const INVITE_COOKIE_OPTS = { path: "/accept-invitation", httpOnly: true, secure: true, sameSite: "Strict" } as const;

function InviteSignIn({ token, error, email = "" }: { token: string; error?: string; email?: string }) {
  return (
    <Page title="Join an organization">
      <p>You were invited to an organization on keel. Sign in with the address the invitation was sent to, then accept it.</p>
      {error ? (
        <Notice kind="error">
          <p>{error}</p>
        </Notice>
      ) : null}
      <form method="post" action="/accept-invitation">
        <input type="hidden" name="token" value={token} />
        <input type="hidden" name="step" value="sign_in" />
        <Field name="email" label="Email" type="email" autocomplete="username" value={email} />
        <Field name="password" label="Password" type="password" autocomplete="current-password" />
        <button type="submit">Sign in</button>
      </form>
      <p class="small">No account yet? Register with the invited address and verify it, then open this link again.</p>
    </Page>
  );
}

function InviteMfa({ token, mfaToken, error }: { token: string; mfaToken: string; error?: string }) {
  return (
    <Page title="Join an organization">
      <form method="post" action="/accept-invitation">
        <input type="hidden" name="token" value={token} />
        <input type="hidden" name="mfa_token" value={mfaToken} />
        <input type="hidden" name="step" value="mfa" />
        <Field name="code" label="Authentication code" autocomplete="one-time-code" inputmode="numeric" hint="The 6-digit code from your authenticator app." errors={error ? [error] : []} />
        <button type="submit">Continue</button>
      </form>
    </Page>
  );
}

function InviteAccept({ token, email, error }: { token: string; email: string; error?: string }) {
  return (
    <Page title="Join an organization">
      {error ? (
        <Notice kind="error">
          <p>{error}</p>
        </Notice>
      ) : (
        <p>
          Signed in as <strong>{email}</strong>.
        </p>
      )}
      <form method="post" action="/accept-invitation">
        <input type="hidden" name="token" value={token} />
        <input type="hidden" name="step" value="accept" />
        <button type="submit">Accept the invitation</button>
      </form>
    </Page>
  );
}

function registerAcceptInvitation(app: App): void {
  app.get("/accept-invitation", (c) => {
    const token = c.req.query("token")?.trim() ?? "";
    if (!InvitationAcceptForm.safeParse({ token }).success) return sendPage(c, <Page title="Join an organization"><BrokenLink what="invitation" /></Page>, 400);
    return sendPage(c, <InviteSignIn token={token} />);
  });

  app.post("/accept-invitation", sameOriginForms, async (c) => {
    const fields = await form(c);
    const step = fields.step;
    const tokenOk = InvitationAcceptForm.safeParse(fields);
    if (!tokenOk.success) return sendPage(c, <Page title="Join an organization"><BrokenLink what="invitation" /></Page>, 400);
    const token = tokenOk.data.token;
    const signedIn = (accessToken: string, email: string) => {
      setCookie(c, INVITE_COOKIE, accessToken, { ...INVITE_COOKIE_OPTS, maxAge: 600 });
      return sendPage(c, <InviteAccept token={token} email={email} />);
    };

    try {
      if (step === "sign_in") {
        const input = InvitationSignInForm.safeParse(fields);
        if (!input.success) return sendPage(c, <InviteSignIn token={token} email={fields.email} error="Enter your email address and password." />, 422);
        const result = await login(c.var.ctx, { email: input.data.email.toLowerCase(), password: input.data.password, device_name: "Invitation page" });
        if ("mfa_required" in result) return sendPage(c, <InviteMfa token={token} mfaToken={result.mfa_token} />);
        return signedIn(result.access_token, result.user.email);
      }
      if (step === "mfa") {
        const input = InvitationMfaForm.safeParse(fields);
        if (!input.success) return sendPage(c, <InviteMfa token={token} mfaToken={fields.mfa_token ?? ""} error="Enter the 6-digit code from your authenticator app." />, 422);
        const tokens = await verifyMfaLogin(c.var.ctx, { mfa_token: input.data.mfa_token, code: input.data.code });
        return signedIn(tokens.access_token, tokens.user.email);
      }
      if (step === "accept") {
        const accessToken = getCookie(c, INVITE_COOKIE);
        if (!accessToken) return sendPage(c, <InviteSignIn token={token} error="Sign in first (the sign-in on this page lasts 10 minutes)." />, 403);
        let actor;
        try {
          actor = await authenticateActor(c.var.ctx, { authorization: `Bearer ${accessToken}`, set: () => {} }, { fresh: true });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          deleteCookie(c, INVITE_COOKIE, INVITE_COOKIE_OPTS);
          return sendPage(c, <InviteSignIn token={token} error="Your sign-in on this page ended. Sign in again." />, 403);
        }
        if (actor.kind !== "user") throw new AppError("unauthenticated");
        const userActor = actor;
        // The session existed only to accept: it ends whatever the answer.
        const endPageSession = async () => {
          deleteCookie(c, INVITE_COOKIE, INVITE_COOKIE_OPTS);
          await endSessions(c.var.ctx, ownerOf(userActor), { only: userActor.sessionId }, "logout", { userId: userActor.userId, action: "auth.logout" });
        };
        let joined;
        try {
          joined = await acceptInvitation(c.var.ctx, userActor, token);
        } catch (err) {
          await endPageSession();
          if (!(err instanceof AppError)) throw err;
          return sendPage(
            c,
            <Page title="Join an organization">
              <Notice kind="error">
                <p>{sentence(err)}</p>
              </Notice>
            </Page>,
            pageStatus(err),
          );
        }
        await endPageSession();
        return sendPage(
          c,
          <Page title="Invitation accepted">
            <Notice kind="ok">
              <p>
                You are now {joined.role === "admin" || joined.role === "owner" ? "an" : "a"} {joined.role} of <strong>{joined.organization_name}</strong>.
              </p>
            </Notice>
            <p>
              <a href={CONSOLE}>Open keel</a>
            </p>
          </Page>,
        );
      }
      return sendPage(c, <InviteSignIn token={token} />, 400);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (step === "mfa" && err.code === "invalid_mfa_code") {
        return sendPage(c, <InviteMfa token={token} mfaToken={fields.mfa_token ?? ""} error={sentence(err)} />, 422);
      }
      return sendPage(c, <InviteSignIn token={token} email={fields.email} error={sentence(err)} />, pageStatus(err));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// /unsubscribe (the link in alert and digest emails; the same verb as /api/v1/unsubscribe)

const UNSUBSCRIBE_TITLE = "Unsubscribe";

const BadUnsubscribeLink = () => (
  <Notice kind="error">
    <p>This unsubscribe link is not valid. Open the link from the email again, or copy the whole address into the browser.</p>
    <p>You can also turn emails off in keel: your alerts, or the digest frequency in your preferences.</p>
  </Notice>
);

function registerUnsubscribePage(app: App): void {
  app.get("/unsubscribe", async (c) => {
    const input = UnsubscribeForm.safeParse({ token: c.req.query("token") ?? "" });
    if (!input.success) return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    let what;
    try {
      what = await describeUnsubscribe(c.var.ctx, input.data.token);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "validation_failed") throw err;
      return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    }
    return sendPage(
      c,
      <Page title={UNSUBSCRIBE_TITLE}>
        <form method="post" action="/unsubscribe">
          {what.kind === "alert" ? (
            <p>
              Press the button to stop emails for {what.alertName ? <>the alert <strong>{what.alertName}</strong></> : "this alert"}. The alert keeps running; its other notifications are unchanged.
            </p>
          ) : (
            <p>Press the button to stop the daily or weekly digest emails. Your alerts keep running.</p>
          )}
          <input type="hidden" name="token" value={input.data.token} />
          <button type="submit">{what.kind === "alert" ? "Stop emails for this alert" : "Stop digest emails"}</button>
        </form>
      </Page>,
    );
  });

  app.post("/unsubscribe", sameOriginForms, async (c) => {
    const input = UnsubscribeForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    let result;
    try {
      result = await unsubscribe(c.var.ctx, input.data.token);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "validation_failed") throw err;
      return sendPage(c, <Page title={UNSUBSCRIBE_TITLE}><BadUnsubscribeLink /></Page>, 400);
    }
    return sendPage(
      c,
      <Page title="Unsubscribed">
        <Notice kind="ok">
          <p>{result.unsubscribed === "alert" ? "You will no longer get emails for this alert." : "You will no longer get digest emails."}</p>
        </Notice>
        <p>
          <a href={CONSOLE}>Open keel</a> to change your alerts or preferences.
        </p>
      </Page>,
    );
  });
}

/** GET pages and their POST forms for every emailed link. */
export function registerPages(app: App): void {
  registerVerifyEmail(app);
  registerResetPassword(app);
  registerAcceptInvitation(app);
  registerUnsubscribePage(app);
}
