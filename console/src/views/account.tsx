import { useState } from "hono/jsx/dom";
import { addPasskey, api, ApiError, listProviders, updateUser, type Session, type User } from "../api";
import { browserSupportsWebAuthn } from "@simplewebauthn/browser";
import { API_KEY_SCOPES, PRIVILEGED_SCOPES } from "../../../src/identity/scopes";
import { qrSvg } from "../qr";
import { choicesFor, fieldLabel, INDIAN_STATES } from "../labels";
import { ConfirmButton, EmptyHint, ErrorNotice, Field, formValues, Notice, useLoad, when, useAction } from "../ui";
import type { ApiKey, CreatedApiKey, Passkey, SessionRow } from "../dto";

// The API's own scope list (a dependency-free module), less the privileged scopes a user needs a
// platform permission for: one list, so the console cannot drift from what the API accepts.
const SCOPES = API_KEY_SCOPES.filter((s) => !(s in PRIVILEGED_SCOPES));

type Scalar = string | number | boolean | null;

function ProfileSection({ user }: { user: User }) {
  const { error, run } = useAction();
  const [saved, setSaved] = useState(false);
  return (
    <section aria-labelledby="h-profile">
      <h2 id="h-profile">Profile</h2>
      <p class="meta">
        {user.email} · {user.email_verified ? "verified" : "not verified"} · member since {when(user.created_at)}
      </p>
      <ErrorNotice error={error} />
      {saved ? (
        <Notice kind="ok">
          <p>Saved.</p>
        </Notice>
      ) : null}
      <form
        onSubmit={async (e: Event) => {
          const v = formValues(e);
          setSaved(false);
          await run(async () => {
            updateUser(await api<User>("PATCH", "/me", { full_name: v.full_name, ...(v.phone ? { phone: v.phone } : {}) }));
            setSaved(true);
          });
        }}
      >
        <div class="row">
          <Field idPrefix="me" name="full_name" label="Full name" value={user.full_name} autocomplete="name" errors={error?.field("full_name")} />
          <Field idPrefix="me" name="phone" label="Phone" value={user.phone} autocomplete="tel" errors={error?.field("phone")} />
        </div>
        <button type="submit">Save profile</button>
      </form>
    </section>
  );
}

/** A picker for a fixed-choice setting; a stored value outside the list stays selectable. */
function ChoiceField(props: { idPrefix: string; name: string; label: string; value: string; choices: [string, string][]; errors?: string[] | undefined }) {
  const id = `${props.idPrefix}-${props.name}`;
  const choices = props.value && !props.choices.some(([v]) => v === props.value) ? [[props.value, props.value] as [string, string], ...props.choices] : props.choices;
  const errs = props.errors ?? [];
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} aria-describedby={errs.length ? `${id}-err` : undefined}>
        {props.value === "" ? <option value="">Not set</option> : null}
        {choices.map(([v, l]) => (
          <option value={v} selected={v === props.value}>
            {l}
          </option>
        ))}
      </select>
      {errs.length ? (
        <ul class="field-errors" id={`${id}-err`}>
          {errs.map((m) => (
            <li>{m}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/**
 * A form over the scalar and list-of-text fields of GET `path` (profile details, preferences);
 * PATCH sends the changed ones, typed as they came. A list is edited as comma-separated text
 * (states, sectors and the like hold no commas). The API validates; its errors show next to each
 * field.
 */
function SettingsSection({ title, path, id, skip = [] }: { title: string; path: string; id: string; skip?: string[] }) {
  const loaded = useLoad(() => api<Record<string, unknown>>("GET", path), [path]);
  const { error, run } = useAction();
  const [saved, setSaved] = useState(false);
  const data = loaded.data;
  const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
  const fields = data
    ? (Object.entries(data).filter(([k, v]) => !skip.includes(k) && (v === null || isTextList(v) || ["string", "number", "boolean"].includes(typeof v))) as [string, Scalar | string[]][])
    : [];
  const listText = (items: readonly string[]) => items.join(", ");
  return (
    <section aria-labelledby={`h-${id}`}>
      <h2 id={`h-${id}`}>{title}</h2>
      {loaded.error ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.loading && !data ? <p>Loading…</p> : null}
      {data ? (
        <form
          onSubmit={async (e: Event) => {
            const v = formValues(e);
            const form = e.currentTarget as HTMLFormElement;
            const patch: Record<string, Scalar | string[]> = {};
            for (const [k, old] of fields) {
              if (Array.isArray(old)) {
                const items = (v[k] ?? "")
                  .split(",")
                  .map((x) => x.trim())
                  .filter((x) => x !== "");
                if (listText(items) !== listText(old)) patch[k] = items;
              } else if (typeof old === "boolean") {
                const now = (form.elements.namedItem(k) as HTMLInputElement).checked;
                if (now !== old) patch[k] = now;
              } else {
                const raw = v[k] ?? "";
                if (raw === String(old ?? "")) continue;
                patch[k] = raw === "" ? null : typeof old === "number" ? Number(raw) : raw;
              }
            }
            setSaved(false);
            await run(async () => {
              await api("PATCH", path, patch);
              setSaved(true);
            }, loaded);
          }}
        >
          <ErrorNotice error={error} />
          {saved ? (
            <Notice kind="ok">
              <p>Saved.</p>
            </Notice>
          ) : null}
          <div class="grid">
            {fields.map(([k, value]) =>
              Array.isArray(value) ? (
                <Field idPrefix={id} name={k} label={fieldLabel(k)} value={listText(value)} hint={k.endsWith("states") ? `Separate entries with commas, e.g. ${INDIAN_STATES[4]}, ${INDIAN_STATES[16]}` : "Separate entries with commas"} errors={error?.field(k)} />
              ) : typeof value === "boolean" ? (
                <div class="field check">
                  <input type="checkbox" id={`${id}-${k}`} name={k} checked={value} />
                  <label for={`${id}-${k}`}>{fieldLabel(k)}</label>
                </div>
              ) : choicesFor(k) ? (
                <ChoiceField idPrefix={id} name={k} label={fieldLabel(k)} value={value === null ? "" : String(value)} choices={choicesFor(k)!} errors={error?.field(k)} />
              ) : (
                <Field idPrefix={id} name={k} label={fieldLabel(k)} value={value === null ? "" : String(value)} errors={error?.field(k)} />
              ),
            )}
          </div>
          <button type="submit">Save {title.toLowerCase()}</button>
        </form>
      ) : null}
    </section>
  );
}

function PasswordSection() {
  const { error, run } = useAction();
  const [done, setDone] = useState(false);
  return (
    <section aria-labelledby="h-password">
      <h2 id="h-password">Password</h2>
      <ErrorNotice error={error} />
      {done ? (
        <Notice kind="ok">
          <p>Password changed; your other sessions were signed out.</p>
        </Notice>
      ) : null}
      <form
        onSubmit={async (e: Event) => {
          const v = formValues(e);
          setDone(false);
          await run(async () => {
            await api("POST", "/auth/password/change", { current_password: v.current_password, new_password: v.new_password });
            setDone(true);
            (e.currentTarget as HTMLFormElement | null)?.reset();
          });
        }}
      >
        <div class="row">
          <Field idPrefix="pw" name="current_password" label="Current password" type="password" autocomplete="current-password" required />
          <Field idPrefix="pw" name="new_password" label="New password" type="password" autocomplete="new-password" required errors={error?.errors.map((x) => x.message)} />
        </div>
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}

function TwoFactorSection({ user }: { user: User }) {
  const [setup, setSetup] = useState<{ secret: string; otpauth_url: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const { error, run } = useAction();
  const act = (work: () => Promise<void>) => run(work);
  const refreshUser = async () => updateUser(await api<User>("GET", "/me"));

  return (
    <section aria-labelledby="h-2fa">
      <h2 id="h-2fa">Two-factor authentication</h2>
      <ErrorNotice error={error} />
      {codes ? (
        <div class="notice notice-ok" role="status">
          <p>
            <strong>Backup codes.</strong> Keep them somewhere safe: each works once, and they are shown only now.
          </p>
          <ul class="codes" aria-label="Backup codes">
            {codes.map((c) => (
              <li>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {user.two_factor_enabled ? (
        <>
          <p>
            Two-factor authentication is <strong>on</strong>.
          </p>
          <form
            class="inline-form"
            onSubmit={(e: Event) => {
              const v = formValues(e);
              void act(async () => setCodes((await api<{ backup_codes: string[] }>("POST", "/auth/mfa/backup-codes", { code: v.code })).backup_codes));
            }}
          >
            <Field idPrefix="bc" name="code" label="Code, to replace the backup codes" autocomplete="one-time-code" inputmode="numeric" required />
            <button type="submit">New backup codes</button>
          </form>
          <form
            class="inline-form"
            onSubmit={(e: Event) => {
              const v = formValues(e);
              void act(async () => {
                await api("POST", "/auth/mfa/totp/disable", { password: v.password });
                setCodes(null);
                await refreshUser();
              });
            }}
          >
            <Field idPrefix="off" name="password" label="Password, to turn it off" type="password" autocomplete="current-password" required />
            <button type="submit" class="danger">
              Turn off
            </button>
          </form>
        </>
      ) : setup ? (
        <div class="totp-setup">
          <img class="qr" width="200" height="200" alt="QR code of the authenticator secret" src={`data:image/svg+xml,${encodeURIComponent(qrSvg(setup.otpauth_url))}`} />
          <div>
            <p>Scan the code with an authenticator app, or type this secret into it:</p>
            <p>
              <code class="secret" aria-label="Authenticator secret">
                {setup.secret}
              </code>
            </p>
            <form
              onSubmit={(e: Event) => {
                const v = formValues(e);
                void act(async () => {
                  setCodes((await api<{ backup_codes: string[] }>("POST", "/auth/mfa/totp/enable", { code: (v.code ?? "").replace(/\s/g, "") })).backup_codes);
                  setSetup(null);
                  await refreshUser();
                });
              }}
            >
              <Field idPrefix="totp" name="code" label="Code from the app" autocomplete="one-time-code" inputmode="numeric" required errors={error?.field("code")} />
              <button type="submit">Turn on two-factor authentication</button>
            </form>
          </div>
        </div>
      ) : (
        <>
          <p>Two-factor authentication is off. With it on, signing in also asks for a code from an authenticator app.</p>
          <button type="button" onClick={() => void act(async () => setSetup(await api("POST", "/auth/mfa/totp/setup")))}>
            Set up two-factor authentication
          </button>
        </>
      )}
    </section>
  );
}

function SessionsSection() {
  const loaded = useLoad(() => api<{ items: SessionRow[] }>("GET", "/me/sessions"), []);
  const { error, run } = useAction();
  return (
    <section aria-labelledby="h-sessions">
      <h2 id="h-sessions">Sessions</h2>
      <ErrorNotice error={loaded.error ?? error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">IP</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(loaded.data?.items ?? []).map((s) => (
            <tr>
              <td>
                {s.device_name ?? s.user_agent ?? "unknown"} {s.current ? <span class="badge">this session</span> : null}
              </td>
              <td>{s.ip_address ?? "—"}</td>
              <td>{when(s.created_at)}</td>
              <td>{when(s.last_used_at)}</td>
              <td>
                {s.current ? null : (
                  <ConfirmButton
                    label="Revoke"
                    question="End this session?"
                    danger
                    onConfirm={async () => {
                      await run(async () => {
                        await api("DELETE", `/me/sessions/${encodeURIComponent(s.id)}`);
                      }, loaded);
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Passkeys: add one of this device, rename, remove; and which sign-in methods are set up. */
function PasskeysSection({ user }: { user: User }) {
  const loaded = useLoad(() => api<{ items: Passkey[] }>("GET", "/me/passkeys"), []);
  const { error, run } = useAction();
  const [added, setAdded] = useState<string | null>(null);
  const items = loaded.data?.items ?? [];
  return (
    <section aria-labelledby="h-passkeys">
      <h2 id="h-passkeys">Passkeys</h2>
      <p class="meta" data-testid="sign-in-methods">
        Sign-in methods set up: {items.length === 1 ? "1 passkey" : `${items.length} passkeys`} · authenticator app {user.two_factor_enabled ? "on" : "off"}
      </p>
      <ErrorNotice error={loaded.error ?? error} />
      {added ? (
        <Notice kind="ok">
          <p>Passkey {added} added: you can now sign in with it, without a password.</p>
        </Notice>
      ) : null}
      {browserSupportsWebAuthn() ? (
        <form
          onSubmit={async (e: Event) => {
            const v = formValues(e);
            setAdded(null);
            await run(async () => {
              setAdded((await addPasskey(v.name || undefined)).name);
            }, loaded);
          }}
        >
          <Field idPrefix="passkey" name="name" label="Name of the new passkey" hint="Optional, e.g. the device it is on." errors={error?.field("name")} />
          <button type="submit">Add a passkey</button>
        </form>
      ) : (
        <p>This browser cannot create passkeys.</p>
      )}
      {items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Synced</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr>
                <td>
                  <form
                    class="inline-form"
                    onSubmit={async (e: Event) => {
                      const v = formValues(e);
                      await run(async () => {
                        await api("PATCH", `/me/passkeys/${encodeURIComponent(p.id)}`, { name: v.name });
                      }, loaded);
                    }}
                  >
                    <input name="name" aria-label={`Name of passkey ${p.name}`} value={p.name} required maxlength={100} />{" "}
                    <button type="submit" class="secondary">
                      Rename
                    </button>
                  </form>
                </td>
                <td>{when(p.created_at)}</td>
                <td>{when(p.last_used_at)}</td>
                <td>{p.backed_up ? "yes" : "no"}</td>
                <td>
                  <ConfirmButton
                    label="Remove"
                    question={`Remove passkey ${p.name}?`}
                    danger
                    onConfirm={async () => {
                      await run(async () => {
                        await api("DELETE", `/me/passkeys/${encodeURIComponent(p.id)}`);
                      }, loaded);
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function ApiKeysSection() {
  const loaded = useLoad(() => api<{ items: ApiKey[] }>("GET", "/me/api-keys"), []);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const { error, run } = useAction();
  return (
    <section aria-labelledby="h-keys">
      <h2 id="h-keys">API keys</h2>
      <ErrorNotice error={loaded.error ?? error} />
      {created ? (
        <div class="notice notice-ok" role="status">
          <p>
            Key <strong>{created.name}</strong> created. Copy it now: it is shown only once.
          </p>
          <p>
            <code class="secret" aria-label="New API key">
              {created.key}
            </code>
          </p>
        </div>
      ) : null}
      <form
        onSubmit={async (e: Event) => {
          const v = formValues(e);
          const form = e.currentTarget as HTMLFormElement;
          const scopes = SCOPES.filter((s) => (form.elements.namedItem(`scope-${s}`) as HTMLInputElement | null)?.checked);
          await run(async () => {
            setCreated(await api("POST", "/me/api-keys", { name: v.name, scopes }));
          }, loaded);
        }}
      >
        <Field idPrefix="key" name="name" label="Key name" required errors={error?.field("name")} />
        <fieldset>
          <legend>Scopes</legend>
          <div class="scopes">
            {SCOPES.map((s) => (
              <span class="check">
                <input type="checkbox" id={`scope-${s}`} name={`scope-${s}`} checked={s === "read:profile"} />
                <label for={`scope-${s}`}>{s}</label>
              </span>
            ))}
          </div>
        </fieldset>
        <button type="submit">Create key</button>
      </form>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Scopes</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(loaded.data?.items ?? []).map((k) => (
            <tr>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.scopes.join(", ")}</td>
              <td>{when(k.last_used_at)}</td>
              <td>
                <ConfirmButton
                  label="Revoke"
                  question={`Revoke ${k.name}?`}
                  danger
                  onConfirm={async () => {
                    await run(async () => {
                      await api("DELETE", `/me/api-keys/${encodeURIComponent(k.id)}`);
                    }, loaded);
                  }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && loaded.data.items.length === 0 ? (
        <EmptyHint>No API keys yet. A key lets a script act as you within the scopes you tick above; it is shown once, when you create it.</EmptyHint>
      ) : null}
    </section>
  );
}

interface IdentityRow {
  id: string;
  provider: string;
  issuer: string;
  subject: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** Linked sign-in providers: unlink one (refused for the last way to sign in), or link another. */
function IdentitiesSection() {
  const loaded = useLoad(() => api<{ items: IdentityRow[] }>("GET", "/me/identities"), []);
  const providers = useLoad(() => listProviders(), []);
  const { error, run } = useAction();
  const back = new URLSearchParams(location.search);
  const linked = back.get("linked");
  const failed = back.get("error");
  if (providers.data?.length === 0 && loaded.data?.items.length === 0) return null;
  const nameOf = (id: string) => providers.data?.find((p) => p.id === id)?.name ?? id;
  return (
    <section aria-labelledby="h-identities">
      <h2 id="h-identities">Sign-in providers</h2>
      {linked ? (
        <Notice kind="ok">
          <p>{nameOf(linked)} is linked: it can now sign you in.</p>
        </Notice>
      ) : null}
      {failed ? <ErrorNotice error={new ApiError(0, failed, failed === "identity_in_use" ? "That account at the provider is already linked to another keel account." : "Linking failed.")} /> : null}
      <ErrorNotice error={loaded.error ?? error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Email there</th>
            <th scope="col">Linked</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(loaded.data?.items ?? []).map((i) => (
            <tr>
              <td>{nameOf(i.provider)}</td>
              <td>{i.email ?? "—"}</td>
              <td>{when(i.created_at)}</td>
              <td>{when(i.last_used_at)}</td>
              <td>
                <ConfirmButton
                  label="Unlink"
                  question={`Unlink ${nameOf(i.provider)}?`}
                  danger
                  onConfirm={async () => {
                    await run(async () => {
                      await api("DELETE", `/me/identities/${encodeURIComponent(i.id)}`);
                    }, loaded);
                  }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(providers.data ?? []).map((p) => (
        <button
          type="button"
          onClick={() =>
            void run(async () => {
              // POST, not a navigation to the GET: the access token stays in a header, never in a URL.
              const { authorization_url } = await api<{ authorization_url: string }>("POST", `/me/identities/${encodeURIComponent(p.id)}/link`, {
                return_to: `${location.origin}/console/account`,
              });
              location.assign(authorization_url);
            })
          }
        >
          Link {p.name}
        </button>
      ))}
    </section>
  );
}

export function AccountView({ session }: { session: Session }) {
  const user = session.user;
  return (
    <>
      <h1>My account</h1>
      <ProfileSection user={user} />
      <SettingsSection title="Details" id="profile" path="/me/profile" skip={["profile_completion_percentage", "user_id", "updated_at", "created_at"]} />
      <SettingsSection title="Preferences" id="prefs" path="/me/preferences" skip={["user_id", "updated_at", "created_at", "email_suppressed"]} />
      <PasswordSection />
      <TwoFactorSection user={user} />
      <PasskeysSection user={user} />
      <IdentitiesSection />
      <SessionsSection />
      <ApiKeysSection />
    </>
  );
}
