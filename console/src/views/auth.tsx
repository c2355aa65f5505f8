import { useEffect, useState } from "hono/jsx/dom";
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, WebAuthnAbortService } from "@simplewebauthn/browser";
import { ApiError, listProviders, providerStartUrl, publicPost, sendEmailCode, signIn, signInWithEmailCode, signInWithLoginCode, signInWithPasskey, ssoStartUrl, verifySecondFactor, type SignInResult } from "../api";
import { ErrorNotice, Field, formValues, Link, navigate, Notice, useAction, useLoad } from "../ui";

/** What a provider sign-in's `error=` means, for the sign-in screen. */
const PROVIDER_ERRORS: Record<string, string> = {
  invalid_state: "That sign-in link was already used or has expired. Start again.",
  invalid_response: "The identity provider's answer could not be verified. Start again.",
  access_denied: "The sign-in was cancelled at the identity provider.",
  provider_unavailable: "The identity provider cannot be reached right now.",
  rate_limited: "Too many attempts from this network; wait a few minutes.",
};

/** Login codes already sent to the exchange (a code works once; a re-render must not spend it again). */
const spentCodes = new Set<string>();

function afterSignIn() {
  const next = new URLSearchParams(location.search).get("next");
  navigate(next && next.startsWith("/console/") ? next : "/console");
}

/** The sign-in screen's pending autofill request: at most one; a newer screen's replaces it. */
let autofill: AbortController | null = null;

/**
 * Starts passkey autofill for a sign-in screen; returns its cleanup. A screen that is replaced
 * or gone (its controller aborted) sends no assertion, so one pick signs in once, however often
 * the screen mounted meanwhile.
 */
function startPasskeyAutofill(onSignedIn: (res: SignInResult) => void, onError: (err: unknown) => void): () => void {
  autofill?.abort();
  const screen = new AbortController();
  autofill = screen;
  void (async () => {
    if (!(await browserSupportsWebAuthnAutofill()) || screen.signal.aborted) return;
    try {
      const res = await signInWithPasskey({ autofill: true, signal: screen.signal });
      if (!screen.signal.aborted) onSignedIn(res);
    } catch (err) {
      const aborted = err instanceof Error && (err.name === "AbortError" || (err as { code?: string }).code === "ERROR_CEREMONY_ABORTED");
      if (!screen.signal.aborted && !aborted) onError(err);
    }
  })();
  return () => {
    screen.abort();
    if (autofill === screen) {
      autofill = null;
      WebAuthnAbortService.cancelCeremony();
    }
  };
}

/** Where every provider sign-in (social or SSO) comes back to: this screen exchanges the login code. */
const signInReturn = () => `${location.origin}/console/signin`;

/** "Sign in with SSO": a work email, then off to its organization's identity provider. */
function SsoForm({ email }: { email: string }) {
  const { error, run } = useAction();
  const [busy, setBusy] = useState(false);
  return (
    <>
      <ErrorNotice error={error} />
      <form
        onSubmit={(e: Event) => {
          const v = formValues(e);
          setBusy(true);
          void run(async () => {
            try {
              location.assign(await ssoStartUrl(v.email ?? "", signInReturn()));
            } catch (err) {
              setBusy(false);
              if (err instanceof ApiError && err.code === "not_found") {
                throw new ApiError(err.status, err.code, "No single sign-on is set up for this address. Sign in with your password, an emailed code or a passkey.");
              }
              throw err;
            }
          });
        }}
      >
        <Field name="email" label="Work email" type="email" autocomplete="username" value={email} required errors={error?.field("email")} />
        <button type="submit" disabled={busy}>
          Continue with SSO
        </button>
      </form>
    </>
  );
}

/** /console/sso?email=: where an address whose organization enforces SSO is sent (the API's `sso_url`). */
export function SsoView() {
  const email = new URLSearchParams(location.search).get("email") ?? "";
  return (
    <section>
      <h1>Sign in with single sign-on</h1>
      <p>Your organization signs you in through its own identity provider.</p>
      <SsoForm email={email} />
      <p class="small">
        <Link href="/console/signin">Other ways to sign in</Link>
      </p>
    </section>
  );
}

export function SignInView() {
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [useBackup, setUseBackup] = useState(false);
  // "Email me a code": null = password sign-in; "" = asking for the address; else the address the code went to.
  const [codeEmail, setCodeEmail] = useState<string | null>(null);
  const [codeSentTo, setCodeSentTo] = useState<string | null>(null);
  // "Sign in with SSO": null = hidden; else the address typed so far.
  const [ssoEmail, setSsoEmail] = useState<string | null>(null);
  const { error, run: act } = useAction();
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    await act(work);
    setBusy(false);
  };
  const signedIn = (res: SignInResult) => (res.kind === "mfa" ? setMfaToken(res.mfaToken) : afterSignIn());

  // Passkey autofill (conditional mediation): the browser offers saved passkeys in the email
  // field's suggestions; picking one signs in. Cancelled when the screen goes away.
  useEffect(() => startPasskeyAutofill(signedIn, (err) => void act(() => Promise.reject(err))), []);

  const providers = useLoad(() => listProviders(), []);
  const params = new URLSearchParams(location.search);
  const providerError = params.get("error");

  // Back from a provider: exchange the one-time code, and take it out of the address bar.
  useEffect(() => {
    const code = new URLSearchParams(location.search).get("login_code");
    if (!code || spentCodes.has(code)) return;
    spentCodes.add(code);
    history.replaceState(null, "", location.pathname);
    void run(async () => {
      try {
        const res = await signInWithLoginCode(code);
        if (res.kind === "mfa") setMfaToken(res.mfaToken);
        else afterSignIn();
      } catch (err) {
        if (err instanceof ApiError && err.code === "limit_reached") {
          throw new ApiError(err.status, err.code, "Your organization has no free seat for you; its administrators were told. Sign in again once a seat is free.");
        }
        if (err instanceof ApiError && err.code === "account_exists") {
          throw new ApiError(err.status, err.code, "An account with this email already exists. Sign in with your password, then link the provider under My account.");
        }
        throw err;
      }
    });
  }, []);

  if (mfaToken) {
    return (
      <section>
        <h1>Two-step verification</h1>
        <ErrorNotice error={error} />
        <form
          onSubmit={(e: Event) => {
            const v = formValues(e);
            void run(async () => {
              await verifySecondFactor(mfaToken, useBackup ? { backup_code: v.backup_code ?? "" } : { code: (v.code ?? "").replace(/\s/g, "") });
              afterSignIn();
            });
          }}
        >
          {useBackup ? (
            <Field name="backup_code" label="Backup code" autocomplete="off" required />
          ) : (
            <Field name="code" label="Authentication code" hint="The 6-digit code from your authenticator app." autocomplete="one-time-code" inputmode="numeric" required />
          )}
          <button type="submit" disabled={busy}>
            Verify
          </button>{" "}
          <button type="button" class="link-button" onClick={() => setUseBackup(!useBackup)}>
            {useBackup ? "Use an authenticator code" : "Use a backup code"}
          </button>
        </form>
      </section>
    );
  }

  if (ssoEmail !== null) {
    return (
      <section>
        <h1>Sign in with SSO</h1>
        <SsoForm email={ssoEmail} />
        <p class="small">
          <button type="button" class="link-button" onClick={() => setSsoEmail(null)}>
            Sign in another way
          </button>
        </p>
      </section>
    );
  }

  if (codeEmail !== null) {
    return (
      <section>
        <h1>Sign in with an emailed code</h1>
        <ErrorNotice error={error} />
        {codeSentTo === null ? (
          <form
            onSubmit={(e: Event) => {
              const v = formValues(e);
              void run(async () => {
                await sendEmailCode(v.email ?? "");
                setCodeSentTo(v.email ?? "");
              });
            }}
          >
            <Field name="email" label="Email" type="email" autocomplete="username" value={codeEmail} required errors={error?.field("email")} />
            <button type="submit" disabled={busy}>
              Email me a code
            </button>
          </form>
        ) : (
          <form
            onSubmit={(e: Event) => {
              const v = formValues(e);
              void run(async () => {
                const res = await signInWithEmailCode(codeSentTo, (v.code ?? "").replace(/\s/g, ""));
                if (res.kind === "mfa") setMfaToken(res.mfaToken);
                else afterSignIn();
              });
            }}
          >
            <Notice kind="info">
              <p>If {codeSentTo} has a keel account, a 6-digit code is on its way. It works once, for 10 minutes; the email's link signs in too.</p>
            </Notice>
            <Field name="code" label="Code from the email" autocomplete="one-time-code" inputmode="numeric" required />
            <button type="submit" disabled={busy}>
              Sign in
            </button>{" "}
            <button type="button" class="link-button" onClick={() => setCodeSentTo(null)}>
              Send a new code
            </button>
          </form>
        )}
        <p class="small">
          <button
            type="button"
            class="link-button"
            onClick={() => {
              setCodeEmail(null);
              setCodeSentTo(null);
            }}
          >
            Sign in with a password instead
          </button>
        </p>
      </section>
    );
  }

  return (
    <section>
      <h1>Sign in</h1>
      <ErrorNotice error={error} />
      {providerError ? <ErrorNotice error={new ApiError(0, providerError, PROVIDER_ERRORS[providerError] ?? "The sign-in with the identity provider failed.")} /> : null}
      <form
        onSubmit={(e: Event) => {
          const v = formValues(e);
          void run(async () => {
            try {
              signedIn(await signIn(v.email ?? "", v.password ?? ""));
            } catch (err) {
              // The address's organization enforces SSO: its SSO page, pre-filled.
              if (err instanceof ApiError && err.code === "sso_required") navigate(`/console/sso?email=${encodeURIComponent(v.email ?? "")}`);
              else throw err;
            }
          });
        }}
      >
        <Field name="email" label="Email" type="email" autocomplete="username webauthn" required errors={error?.field("email")} />
        <Field name="password" label="Password" type="password" autocomplete="current-password" required />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        <button type="button" class="secondary" onClick={() => setCodeEmail("")}>
          Email me a code
        </button>
      </p>
      <p>
        <button type="button" class="secondary" onClick={() => setSsoEmail("")}>
          Sign in with SSO
        </button>
      </p>
      {browserSupportsWebAuthn() ? (
        <p>
          <button type="button" class="secondary" disabled={busy} onClick={() => void run(async () => signedIn(await signInWithPasskey()))}>
            Sign in with a passkey
          </button>
        </p>
      ) : null}
      {(providers.data ?? []).length > 0 ? (
        <div class="providers" aria-label="Other ways to sign in">
          <p class="small">Or sign in with</p>
          {(providers.data ?? []).map((p) => (
            <p>
              <a class="button" href={providerStartUrl(p.id, signInReturn())}>
                Continue with {p.name}
              </a>
            </p>
          ))}
        </div>
      ) : null}
      <p class="small">
        <Link href="/console/forgot">Forgot your password?</Link> · <Link href="/console/register">Create an account</Link>
      </p>
    </section>
  );
}

export function RegisterView() {
  const { error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);
  // Without a password: the account signs in by emailed code, its verification link, or a passkey it adds.
  const [passwordless, setPasswordless] = useState(false);
  if (done) {
    return (
      <section>
        <h1>Check your email</h1>
        <Notice kind="ok">
          <p>
            We sent a verification link to {done}.{" "}
            {passwordless ? "Open it and press “Verify and sign in”: you are signed in and can add a passkey." : "Open it to finish creating your account, then sign in."}
          </p>
        </Notice>
        <p>
          <Link href="/console/signin">Sign in</Link>
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>Create an account</h1>
      <ErrorNotice error={error} />
      <form
        onSubmit={async (e: Event) => {
          const v = formValues(e);
          await run(async () => {
            await publicPost("/auth/register", { email: v.email, ...(passwordless ? {} : { password: v.password }), full_name: v.full_name });
            setDone(v.email ?? "");
          });
        }}
      >
        <Field name="full_name" label="Full name" autocomplete="name" required errors={error?.field("full_name")} />
        <Field name="email" label="Email" type="email" autocomplete="email" required errors={error?.field("email")} />
        {passwordless ? null : (
          <Field
            name="password"
            label="Password"
            type="password"
            autocomplete="new-password"
            hint="At least 15 characters; a few unrelated words make a good one."
            required
            errors={error?.field("password")}
          />
        )}
        <p class="check">
          <input type="checkbox" id="register-passwordless" checked={passwordless} onChange={(e: Event) => setPasswordless((e.currentTarget as HTMLInputElement).checked)} />
          <label for="register-passwordless">Skip it: I will sign in with one-time codes sent to me, or a passkey</label>
        </p>
        <button type="submit">Create account</button>
      </form>
      <p class="small">
        <Link href="/console/signin">I have an account</Link>
      </p>
    </section>
  );
}

export function ForgotView() {
  const [sent, setSent] = useState(false);
  const { error, run } = useAction();
  return (
    <section>
      <h1>Reset your password</h1>
      <ErrorNotice error={error} />
      {sent ? (
        <Notice kind="ok">
          <p>If an account exists for that address, a reset link is on its way.</p>
        </Notice>
      ) : (
        <form
          onSubmit={async (e: Event) => {
            const v = formValues(e);
            await run(async () => {
              await publicPost("/auth/password/forgot", { email: v.email });
              setSent(true);
            });
          }}
        >
          <Field name="email" label="Email" type="email" autocomplete="email" required />
          <button type="submit">Send the reset link</button>
        </form>
      )}
      <p class="small">
        <Link href="/console/signin">Back to sign in</Link>
      </p>
    </section>
  );
}
