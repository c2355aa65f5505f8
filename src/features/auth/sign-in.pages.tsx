import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { Field, Notice, Page, sendPage } from "../pages/page-layout";
import { BrokenLink, CONSOLE, form, PageToken, pageStatus, sameOriginForms, sentence, type PageContext } from "../pages/page-forms";
import { deliverSignIn } from "./device-token";
import { verifyEmailCode } from "./email-code.service";
import { verifyMfaLogin } from "./login.service";

// The page of the emailed sign-in link (/sign-in?token=), and the signed-in outcome every
// passwordless link page shares (this one, a passwordless account's verification link, a
// set-password link): like the other link pages it acts on a button press only, under the same
// CSP and same-origin form rule. The tokens go to the console the way its own sign-in keeps them:
// the refresh token (and device token) as HttpOnly cookies, which the console's start-up refresh
// picks up; no token is ever put in the page.

const SignInForm = z.object({ token: PageToken });
const MfaForm = z.object({ mfa_token: PageToken, code: z.string().trim().regex(/^\d{6}$/, "Enter the 6-digit code") });

type SignInOutcome = { mfa_required: true; mfa_token: string } | { refresh_token: string; device_token: string; user: { email: string } };

/** The second step of a link sign-in for a user with TOTP on: a code field, posted to /sign-in/mfa. */
const SecondStep = ({ mfaToken, error }: { mfaToken: string; error?: string }) => (
  <Page title="Two-step verification">
    {error ? (
      <Notice kind="error">
        <p>{error}</p>
      </Notice>
    ) : null}
    <form method="post" action="/sign-in/mfa" novalidate>
      <input type="hidden" name="mfa_token" value={mfaToken} />
      <Field name="code" label="Authentication code" hint="The 6-digit code from your authenticator app." autocomplete="one-time-code" inputmode="numeric" />
      <button type="submit">Verify</button>
    </form>
  </Page>
);

/**
 * Renders the result of a link sign-in: the second step, or (tokens issued) sets the console's
 * cookies and sends the person on to the console, where they can add a passkey.
 */
export function signedInPage(c: PageContext, outcome: SignInOutcome, lead?: string) {
  if ("mfa_required" in outcome) return sendPage(c, <SecondStep mfaToken={outcome.mfa_token} />);
  deliverSignIn(c, outcome, "cookie");
  return sendPage(
    c,
    <Page title="You are signed in">
      <Notice kind="ok">
        <p>
          {lead ? `${lead} ` : ""}You are signed in as <strong>{outcome.user.email}</strong>.
        </p>
      </Notice>
      <p>
        <a href={CONSOLE}>Continue to keel</a> · <a href={`${CONSOLE}/account`}>Add a passkey in My account</a>
      </p>
    </Page>,
  );
}

const Disabled = () => (
  <Page title="Not found">
    <Notice kind="error">
      <p>Sign-in links are not available here.</p>
    </Notice>
  </Page>
);

export function registerSignInPages(app: App): void {
  app.get("/sign-in", (c) => {
    if (!c.var.ctx.config.PASSWORDLESS_EMAIL) return sendPage(c, <Disabled />, 404);
    const token = c.req.query("token")?.trim() ?? "";
    if (!SignInForm.safeParse({ token }).success) return sendPage(c, <Page title="Sign in to keel"><BrokenLink what="sign-in" /></Page>, 400);
    return sendPage(
      c,
      <Page title="Sign in to keel">
        <form method="post" action="/sign-in">
          <p>Press the button to sign in with the link from your email. It works once and expires 10 minutes after it was sent.</p>
          <input type="hidden" name="token" value={token} />
          <button type="submit">Sign in</button>
        </form>
      </Page>,
    );
  });

  app.post("/sign-in", sameOriginForms, async (c) => {
    if (!c.var.ctx.config.PASSWORDLESS_EMAIL) return sendPage(c, <Disabled />, 404);
    const input = SignInForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title="Sign in to keel"><BrokenLink what="sign-in" /></Page>, 400);
    try {
      return signedInPage(c, await verifyEmailCode(c.var.ctx, { token: input.data.token }));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const text = err.code === "invalid_credentials" ? "This sign-in link is invalid, used or expired. Ask for a new code from the sign-in screen." : sentence(err);
      return sendPage(
        c,
        <Page title="Sign in to keel">
          <Notice kind="error">
            <p>{text}</p>
          </Notice>
          <p>
            <a href={CONSOLE}>Go to the sign-in screen</a>
          </p>
        </Page>,
        pageStatus(err),
      );
    }
  });

  app.post("/sign-in/mfa", sameOriginForms, async (c) => {
    const raw = await form(c);
    const input = MfaForm.safeParse(raw);
    if (!input.success) {
      if (!PageToken.safeParse(raw.mfa_token).success) return sendPage(c, <Page title="Two-step verification"><BrokenLink what="sign-in" /></Page>, 400);
      return sendPage(c, <SecondStep mfaToken={raw.mfa_token ?? ""} error="Enter the 6-digit code from your authenticator app." />, 422);
    }
    try {
      return signedInPage(c, await verifyMfaLogin(c.var.ctx, input.data));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code === "invalid_mfa_code") return sendPage(c, <SecondStep mfaToken={input.data.mfa_token} error={sentence(err)} />, 401);
      return sendPage(
        c,
        <Page title="Two-step verification">
          <Notice kind="error">
            <p>{sentence(err)}</p>
          </Notice>
        </Page>,
        pageStatus(err),
      );
    }
  });
}
