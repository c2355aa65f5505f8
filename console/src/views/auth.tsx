import { useState } from "hono/jsx/dom";
import { publicPost, sendEmailCode, signIn, signInWithEmailCode, verifySecondFactor } from "../api";
import { ErrorNotice, Field, formValues, Link, navigate, Notice, useAction } from "../ui";

function afterSignIn() {
  const next = new URLSearchParams(location.search).get("next");
  navigate(next && next.startsWith("/console/") ? next : "/console");
}

export function SignInView() {
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [useBackup, setUseBackup] = useState(false);
  // "Email me a code": null = password sign-in; "" = asking for the address; else the address the code went to.
  const [codeEmail, setCodeEmail] = useState<string | null>(null);
  const [codeSentTo, setCodeSentTo] = useState<string | null>(null);
  const { error, run: act } = useAction();
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    await act(work);
    setBusy(false);
  };

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
      <form
        onSubmit={(e: Event) => {
          const v = formValues(e);
          void run(async () => {
            const res = await signIn(v.email ?? "", v.password ?? "");
            if (res.kind === "mfa") setMfaToken(res.mfaToken);
            else afterSignIn();
          });
        }}
      >
        <Field name="email" label="Email" type="email" autocomplete="username" required errors={error?.field("email")} />
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
