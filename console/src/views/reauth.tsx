import { useEffect, useState } from "hono/jsx/dom";
import { onReauthenticationRequired, reauthenticate, reauthenticateWithPasskey, sendEmailCode, type ReauthProof, type Session } from "../api";
import { ErrorNotice, Field, formValues, Notice, useAction } from "../ui";

type Method = "password" | "code" | "email_code" | "passkey";

/**
 * The step-up dialog: when an action answers 401 `reauthentication_required`, it asks for the
 * password, an authenticator code, an emailed code or a passkey, calls POST /auth/reauthenticate, and lets
 * the action go again. Cancelling leaves the action's error on its screen.
 */
export function ReauthDialog({ session }: { session: Session }) {
  const [pending, setPending] = useState<((ok: boolean) => void) | null>(null);
  const [method, setMethod] = useState<Method>("password");
  const [codeSent, setCodeSent] = useState(false);
  const { error, setError, run } = useAction();

  useEffect(
    () =>
      onReauthenticationRequired(
        () =>
          new Promise<boolean>((resolve) => {
            setMethod("password");
            setCodeSent(false);
            setError(null);
            setPending(() => resolve);
          }),
      ),
    [],
  );

  if (!pending) return null;
  const finish = (ok: boolean) => {
    pending(ok);
    setPending(null);
  };
  const tab = (m: Method, label: string) => (
    <button type="button" class={method === m ? "small-button" : "secondary small-button"} aria-pressed={method === m ? "true" : "false"} onClick={() => setMethod(m)}>
      {label}
    </button>
  );

  return (
    <div class="overlay">
      <div class="card dialog" role="dialog" aria-modal="true" aria-labelledby="reauth-title">
        <h2 id="reauth-title">Confirm it is you</h2>
        <p>This action needs a recent sign-in. Confirm with one of these:</p>
        <p>
          {tab("password", "Password")} {tab("code", "Authenticator code")} {tab("email_code", "Email code")} {tab("passkey", "Passkey")}
        </p>
        <ErrorNotice error={error} />
        {method === "passkey" ? (
          <p>
            <button type="button" onClick={() => void run(async () => { await reauthenticateWithPasskey(); finish(true); })}>
              Use a passkey
            </button>
          </p>
        ) : method === "email_code" && !codeSent ? (
          <p>
            <button type="button" onClick={() => void run(async () => { await sendEmailCode(session.user.email); setCodeSent(true); })}>
              Email me a code
            </button>
          </p>
        ) : (
          <form
            onSubmit={(e: Event) => {
              const v = formValues(e);
              const proof: ReauthProof =
                method === "password" ? { password: v.password ?? "" } : method === "code" ? { code: (v.code ?? "").replace(/\s/g, "") } : { email_code: (v.email_code ?? "").replace(/\s/g, "") };
              void run(async () => {
                await reauthenticate(proof);
                finish(true);
              });
            }}
          >
            {method === "password" ? <Field name="password" label="Password" type="password" autocomplete="current-password" required idPrefix="reauth" /> : null}
            {method === "code" ? <Field name="code" label="Authentication code" autocomplete="one-time-code" inputmode="numeric" required idPrefix="reauth" /> : null}
            {method === "email_code" ? (
              <>
                <Notice kind="info">
                  <p>A code was sent to {session.user.email}.</p>
                </Notice>
                <Field name="email_code" label="Code from the email" autocomplete="one-time-code" inputmode="numeric" required idPrefix="reauth" />
              </>
            ) : null}
            <button type="submit">Confirm</button>
          </form>
        )}
        <p>
          <button type="button" class="link-button" onClick={() => finish(false)}>
            Cancel
          </button>
        </p>
      </div>
    </div>
  );
}
