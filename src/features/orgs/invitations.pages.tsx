import { ownerOf } from "../../identity/owner";
import { z } from "@hono/zod-openapi";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { authenticateActor } from "../../identity/authenticate";
import { login, verifyMfaLogin } from "../auth/login.service";
import { endSessions } from "../sessions/sessions.service";
import { Field, Notice, Page, sendPage } from "../pages/page-layout";
import { BrokenLink, CONSOLE, form, PageToken, pageStatus, sameOriginForms, sentence } from "../pages/page-forms";
import { acceptInvitation } from "./invitations.service";

// The page of the invitation link (features/pages/page-forms.tsx says how every emailed-link page
// behaves).

const InvitationSignInForm = z.object({
  token: PageToken,
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(1024),
});

const InvitationMfaForm = z.object({
  token: PageToken,
  mfa_token: z.string().min(16).max(512),
  code: z.string().trim().regex(/^\d{6}$/, "Enter the 6-digit code from your authenticator app"),
});

const InvitationAcceptForm = z.object({ token: PageToken });

// ---------------------------------------------------------------------------------------------
// /accept-invitation (the invitation service, as POST /invitations/accept uses it)

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

/** The GET page and POST form of /accept-invitation. */
export function registerInvitationPage(app: App): void {
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

