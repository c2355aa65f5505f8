import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { Field, Notice, Page, sendPage } from "../pages/page-layout";
import { BrokenLink, CONSOLE, form, PageToken, pageStatus, sameOriginForms, sentence, type PageContext } from "../pages/page-forms";
import { resetPassword, setPasswordLinkSignsIn, signInWithSetPasswordLink } from "./passwords.service";
import { verificationSignsIn, verifyEmail, verifyEmailAndSignIn } from "./registration.service";
import { registerSignInPages, signedInPage } from "./sign-in.pages";

// The pages of the verification and password-reset links (features/pages/page-forms.tsx says how
// every emailed-link page behaves).

const VerifyEmailForm = z.object({ token: PageToken, sign_in: z.literal("1").optional() });

const ResetPasswordForm = z.object({
  token: PageToken,
  new_password: z.string().min(1, "Enter a new password").max(1024),
  confirm_password: z.string().max(1024),
});

// ---------------------------------------------------------------------------------------------
// /verify-email

const VerifyForm = ({ token, signIn }: { token: string; signIn: boolean }) =>
  signIn ? (
    // An account without a password: the link is also its way in, to add a passkey.
    <form method="post" action="/verify-email">
      <p>Press the button to confirm that this email address is yours and sign in. Then add a passkey, or sign in later with a code sent to this address.</p>
      <input type="hidden" name="token" value={token} />
      <input type="hidden" name="sign_in" value="1" />
      <button type="submit">Verify and sign in</button>
    </form>
  ) : (
    <form method="post" action="/verify-email">
      <p>Press the button to confirm that this email address is yours.</p>
      <input type="hidden" name="token" value={token} />
      <button type="submit">Verify my email address</button>
    </form>
  );

function registerVerifyEmail(app: App): void {
  app.get("/verify-email", async (c) => {
    const token = c.req.query("token")?.trim() ?? "";
    if (!VerifyEmailForm.safeParse({ token }).success) return sendPage(c, <Page title="Verify your email"><BrokenLink what="verification" /></Page>, 400);
    const signIn = await verificationSignsIn(c.var.ctx, token);
    return sendPage(c, <Page title="Verify your email"><VerifyForm token={token} signIn={signIn} /></Page>);
  });

  app.post("/verify-email", sameOriginForms, async (c) => {
    const input = VerifyEmailForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title="Verify your email"><BrokenLink what="verification" /></Page>, 400);
    try {
      if (input.data.sign_in) {
        const { signedIn } = await verifyEmailAndSignIn(c.var.ctx, input.data.token);
        if (signedIn) return signedInPage(c, signedIn, "Your email address is verified.");
        return sendPage(c, <Page title="Email verified"><Notice kind="ok"><p>Your email address is verified. You can sign in now.</p></Notice><p><a href={CONSOLE}>Sign in to keel</a></p></Page>);
      }
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

function PasswordPolicy({ c }: { c: PageContext }) {
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

function ResetForm({ c, token, errors = {}, banner, passwordless = false }: { c: PageContext; token: string; errors?: Record<string, string[]>; banner?: string; passwordless?: boolean }) {
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
      {passwordless ? (
        <form method="post" action="/reset-password/sign-in">
          <p>Or sign in without a password, and add a passkey instead (or sign in later with a code sent to your email).</p>
          <input type="hidden" name="token" value={token} />
          <button type="submit">Sign in without a password</button>
        </form>
      ) : null}
    </Page>
  );
}

function registerResetPassword(app: App): void {
  app.get("/reset-password", async (c) => {
    const token = c.req.query("token")?.trim() ?? "";
    if (!VerifyEmailForm.safeParse({ token }).success) return sendPage(c, <Page title="Choose a new password"><BrokenLink what="password reset" /></Page>, 400);
    return sendPage(c, <ResetForm c={c} token={token} passwordless={await setPasswordLinkSignsIn(c.var.ctx, token)} />);
  });

  // An account created or imported without a password: the set-password link may sign in instead.
  app.post("/reset-password/sign-in", sameOriginForms, async (c) => {
    const input = VerifyEmailForm.safeParse(await form(c));
    if (!input.success) return sendPage(c, <Page title="Choose a new password"><BrokenLink what="password reset" /></Page>, 400);
    try {
      return signedInPage(c, await signInWithSetPasswordLink(c.var.ctx, input.data.token));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const banner = err.code === "validation_failed" ? "This link is invalid, used or expired. Ask for a new one from the sign-in screen." : sentence(err);
      return sendPage(c, <Page title="Sign in to keel"><Notice kind="error"><p>{banner}</p></Notice></Page>, pageStatus(err));
    }
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


/** The GET pages and POST forms of /verify-email and /reset-password. */
export function registerAuthPages(app: App): void {
  registerVerifyEmail(app);
  registerResetPassword(app);
  registerSignInPages(app);
}
