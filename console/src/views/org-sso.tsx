// An organization admin's SSO view (issue 17, point 5): the organization's OpenID provider, its
// claimed domains with the TXT record to publish and a verify button, the enforce toggle, and
// the last SSO sign-ins. Everything goes through the public API (/orgs/{id}/sso, /orgs/{id}/domains).
import { useState } from "hono/jsx/dom";
import { api, ApiError } from "../api";
import type { MyOrg, MyOrgPage, OrgDomain, OrgDomainList, SsoConfig } from "../dto";
import { ConfirmButton, ErrorNotice, Field, formValues, Link, Notice, Select, useAction, useLoad, when } from "../ui";

const MANAGES = new Set(["owner", "admin"]);
const JOIN_ROLES = ["member", "viewer", "admin"] as const;

/** The organizations whose SSO the signed-in user may manage. */
export function MyOrgsSsoView() {
  const orgs = useLoad(() => api<MyOrgPage>("GET", "/orgs?limit=100"), []);
  const mine = (orgs.data?.items ?? []).filter((o) => o.role !== null && MANAGES.has(o.role));
  return (
    <>
      <h1>Organization SSO</h1>
      <ErrorNotice error={orgs.error} />
      {orgs.data && mine.length === 0 ? <p>You are owner or admin of no organization.</p> : null}
      <ul>
        {mine.map((o) => (
          <li>
            <Link href={`/console/org-sso/${encodeURIComponent(o.id)}`}>{o.name}</Link> ({o.role})
          </li>
        ))}
      </ul>
    </>
  );
}

/** GET /orgs/{id}/sso, or null while SSO is not configured (404). */
async function loadSso(id: string): Promise<SsoConfig | null> {
  try {
    return await api<SsoConfig>("GET", `/orgs/${encodeURIComponent(id)}/sso`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.message.startsWith("SSO")) return null;
    throw err;
  }
}

export function OrgSsoView({ id }: { id: string }) {
  const path = `/orgs/${encodeURIComponent(id)}`;
  const org = useLoad(() => api<MyOrg>("GET", path), [id]);
  const sso = useLoad(() => loadSso(id), [id]);
  const domains = useLoad(() => api<OrgDomainList>("GET", `${path}/domains`), [id]);
  const save = useAction();
  const domainAction = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const [mismatch, setMismatch] = useState<string | null>(null);
  const c = sso.data;
  return (
    <>
      <p>
        <Link href="/console/org-sso">← Organization SSO</Link>
      </p>
      <h1>SSO · {org.data?.name ?? "Organization"}</h1>
      <ErrorNotice error={org.error ?? sso.error} />
      {notice ? (
        <Notice kind="ok">
          <p>{notice}</p>
        </Notice>
      ) : null}

      <section aria-labelledby="h-provider">
        <h2 id="h-provider">Identity provider</h2>
        {sso.data === null ? <p>SSO is not configured yet.</p> : null}
        {c ? (
          <p>
            {c.enabled ? "Enabled" : "Disabled"} · {c.enforce_sso ? "enforced: members at verified domains must use SSO" : "not enforced"} · updated {when(c.updated_at)}
          </p>
        ) : null}
        <ErrorNotice error={save.error} />
        {sso.loading && sso.data === undefined ? null : (
          <form
            aria-label="Identity provider"
            onSubmit={async (e: Event) => {
              const form = e.currentTarget as HTMLFormElement;
              const v = formValues(e);
              const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.checked ?? false;
              setNotice(null);
              const ok = await save.run(
                () =>
                  api("PUT", `${path}/sso`, {
                    issuer: v.issuer ?? "",
                    client_id: v.client_id ?? "",
                    ...(v.client_secret ? { client_secret: v.client_secret } : {}),
                    default_role: v.default_role,
                    enabled: checked("enabled"),
                    enforce_sso: checked("enforce_sso"),
                  }),
                sso,
              );
              if (ok) {
                // The secret is write-only: once saved, it leaves the page too.
                const secret = form.elements.namedItem("client_secret") as HTMLInputElement | null;
                if (secret) secret.value = "";
                setNotice("The identity provider was saved.");
              }
            }}
          >
            <Field name="issuer" label="Issuer URL" value={c?.issuer} required errors={save.error?.field("issuer")} hint="https://… as the provider names itself in its discovery document" idPrefix="sso" />
            <Field name="client_id" label="Client ID" value={c?.client_id} required errors={save.error?.field("client_id")} idPrefix="sso" />
            <Field
              name="client_secret"
              label="Client secret"
              type="password"
              autocomplete="off"
              required={!c}
              errors={save.error?.field("client_secret")}
              hint={c ? "A secret is stored (it is never shown). Leave empty to keep it." : "Stored encrypted; never shown again."}
              idPrefix="sso"
            />
            <Select name="default_role" label="Role of a first SSO sign-in" options={JOIN_ROLES} value={c?.default_role ?? "member"} idPrefix="sso" />
            <div class="field">
              <label>
                <input type="checkbox" name="enabled" checked={c?.enabled ?? true} /> Enabled
              </label>
            </div>
            <div class="field">
              <label>
                <input type="checkbox" name="enforce_sso" checked={c?.enforce_sso ?? false} /> Enforce SSO: addresses at verified domains cannot sign in with a password, an email code or a social provider
              </label>
            </div>
            <button type="submit">Save provider</button>
          </form>
        )}
        {c ? (
          <ConfirmButton
            label="Remove SSO"
            danger
            question="Remove this organization's SSO? Domains stay claimed."
            onConfirm={async () => {
              if (await save.run(() => api("DELETE", `${path}/sso`), sso)) setNotice("SSO was removed.");
            }}
          />
        ) : null}
      </section>

      <section aria-labelledby="h-domains">
        <h2 id="h-domains">Domains</h2>
        <p>Claim each email domain of your organization, publish its TXT record in DNS, then verify it.</p>
        <ErrorNotice error={domains.error ?? domainAction.error} />
        {mismatch ? (
          <Notice kind="info">
            <p>{mismatch} DNS changes can take a while to show; verify again later.</p>
          </Notice>
        ) : null}
        <table>
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">TXT record</th>
              <th scope="col">Verified</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(domains.data?.items ?? []).map((d: OrgDomain) => (
              <tr>
                <td>{d.domain}</td>
                <td>
                  <code>{d.verification_record.name}</code>
                  <br />
                  <code>{d.verification_record.value}</code>
                </td>
                <td>{d.verified_at ? when(d.verified_at) : "not yet"}</td>
                <td>
                  {d.verified_at ? null : (
                    <button
                      type="button"
                      class="secondary"
                      onClick={async () => {
                        setMismatch(null);
                        setNotice(null);
                        try {
                          await api("POST", `${path}/domains/${encodeURIComponent(d.domain)}/verify`);
                          setNotice(`${d.domain} is verified.`);
                          domains.reload();
                        } catch (err) {
                          // 409: the record is not there (yet), or another organization verified the domain.
                          if (err instanceof ApiError && err.code === "conflict") setMismatch(`${err.message}.`);
                          else await domainAction.run(() => Promise.reject(err));
                        }
                      }}
                    >
                      Verify {d.domain}
                    </button>
                  )}{" "}
                  <ConfirmButton
                    label={`Remove ${d.domain}`}
                    danger
                    question={`Remove ${d.domain}? SSO no longer covers it.`}
                    onConfirm={async () => {
                      await domainAction.run(() => api("DELETE", `${path}/domains/${encodeURIComponent(d.domain)}`), domains);
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          aria-label="Add a domain"
          class="inline-form"
          onSubmit={async (e: Event) => {
            const form = e.currentTarget as HTMLFormElement;
            const v = formValues(e);
            setNotice(null);
            if (await domainAction.run(() => api("POST", `${path}/domains`, { domain: v.domain ?? "" }), domains)) form.reset();
          }}
        >
          <Field name="domain" label="Domain" required errors={domainAction.error?.field("domain")} hint="e.g. example.com" idPrefix="dom" />
          <button type="submit">Add domain</button>
        </form>
      </section>

      <section aria-labelledby="h-recent">
        <h2 id="h-recent">Recent SSO sign-ins</h2>
        {c && c.recent.length === 0 ? <p>No SSO sign-ins yet.</p> : null}
        {c && c.recent.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Email</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {c.recent.map((r) => (
                <tr>
                  <td>{when(r.at)}</td>
                  <td>{r.email}</td>
                  <td>{r.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
