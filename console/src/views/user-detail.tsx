import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import { ConfirmButton, ErrorNotice, Field, formValues, Link, Notice, useLoad, when, useAction } from "../ui";
import { AuditTable } from "./audit";
import type { AuditEvent } from "../dto";
import type { ApiKey as ApiKeyRow, SessionRow } from "../dto";

type Dict = Record<string, unknown>;

/** A role of the admin view: a plain name, or a RoleAssignment `{role, expires_at, active, granted_at}`. */
function roleOf(r: unknown): { name: string; expires_at: string | null; active: boolean; granted_at: string | null } {
  if (typeof r === "string") return { name: r, expires_at: null, active: true, granted_at: null };
  const o = (r ?? {}) as Dict;
  return {
    name: String(o.role ?? o.name ?? "?"),
    expires_at: (o.expires_at as string | null | undefined) ?? null,
    active: o.active !== false,
    granted_at: (o.granted_at as string | null | undefined) ?? null,
  };
}

/** `{active, last_used_at}` (the admin view's summary) or a list. */
function summary(v: unknown): { count: number; lastUsed: string | null; list: Dict[] } {
  if (Array.isArray(v)) return { count: v.length, lastUsed: null, list: v as Dict[] };
  const o = (v ?? {}) as Dict;
  return { count: Number(o.active ?? 0), lastUsed: (o.last_used_at as string | null | undefined) ?? null, list: [] };
}

const arr = (v: unknown): Dict[] => (Array.isArray(v) ? (v as Dict[]) : []);

const where = (s: SessionRow) => [s.city, s.country].filter(Boolean).join(", ") || "—";

export function UserDetailView({ id }: { id: string }) {
  const loaded = useLoad(() => api<Dict>("GET", `/admin/users/${encodeURIComponent(id)}`), [id]);
  const audit = useLoad(() => api<{ items: AuditEvent[] }>("GET", `/admin/audit${query({ user_id: id, limit: 10 })}`), [id]);
  // The roles that exist (GET /admin/roles), to pick from; "user" is implicit and held by all.
  const roleList = useLoad(() => api<{ items: { name: string; description: string | null }[] }>("GET", "/admin/roles"), []);
  const { error, run } = useAction();
  const [message, setMessage] = useState<string | null>(null);

  const u = loaded.data ? ((loaded.data.user as Dict | undefined) ?? loaded.data) : undefined;
  const act = async (label: string, work: () => Promise<unknown>) => {
    setMessage(null);
    await run(async () => {
      await work();
      setMessage(`${label}: done for ${String(u?.email ?? id)}.`);
    }, loaded, audit);
  };

  const roles = u ? arr(loaded.data?.role_assignments ?? u.role_assignments ?? u.roles).map(roleOf) : [];
  const assignable = (roleList.data?.items ?? []).filter((r) => r.name !== "user");
  const sessions = summary(loaded.data?.sessions ?? u?.sessions);
  const keys = summary(loaded.data?.api_keys ?? u?.api_keys);
  const orgs = arr(loaded.data?.organizations);
  const sessionRows = arr(loaded.data?.sessions_list) as unknown as SessionRow[];
  const keyRows = arr(loaded.data?.api_keys_list) as unknown as ApiKeyRow[];

  return (
    <>
      <p>
        <Link href="/console/users">← Users</Link>
      </p>
      <h1>{u ? String(u.full_name ?? u.email) : "User"}</h1>
      <ErrorNotice error={loaded.error ?? error} />
      {message ? (
        <Notice kind="ok">
          <p>{message}</p>
        </Notice>
      ) : null}
      {u ? (
        <>
          <section aria-labelledby="h-profile">
            <h2 id="h-profile">Profile</h2>
            <dl class="facts">
              {(["id", "email", "email_verified", "status", "account_type", "two_factor_enabled", "phone", "created_at", "last_login_at", "locked_until", "failed_login_attempts", "password_set"] as const)
                .filter((k) => k in u)
                .map((k) => (
                  <>
                    <dt>{k.replace(/_/g, " ")}</dt>
                    <dd>{k.endsWith("_at") || k === "locked_until" ? when(u[k] as string | null) : String(u[k] ?? "—")}</dd>
                  </>
                ))}
            </dl>
            <div class="actions" role="group" aria-label="Account actions">
              {(["activate", "deactivate", "suspend", "unlock"] as const).map((a) => (
                <ConfirmButton
                  label={a[0]!.toUpperCase() + a.slice(1)}
                  question={`${a} ${String(u.email)}?`}
                  danger={a === "deactivate" || a === "suspend"}
                  onConfirm={() => act(a, () => api("POST", `/admin/users/${encodeURIComponent(id)}/${a}`))}
                />
              ))}
            </div>
          </section>

          <section aria-labelledby="h-methods">
            <h2 id="h-methods">Sign-in methods</h2>
            {(() => {
              const m = (loaded.data?.sign_in_methods ?? {}) as { password?: boolean; passkeys?: { count: number; last_used_at: string | null }; totp?: boolean; email_codes?: boolean };
              return (
                <dl class="facts">
                  <dt>password</dt>
                  <dd>{m.password ? "set" : "not set"}</dd>
                  <dt>passkeys</dt>
                  <dd>
                    {m.passkeys?.count ?? 0} (last used {when(m.passkeys?.last_used_at)})
                  </dd>
                  <dt>authenticator app (TOTP)</dt>
                  <dd>{m.totp ? "on" : "off"}</dd>
                  <dt>email codes</dt>
                  <dd>{m.email_codes ? "allowed" : "off"}</dd>
                </dl>
              );
            })()}
            <div class="actions" role="group" aria-label="Sign-in method actions">
              <ConfirmButton
                label="Reset second factors"
                question={`Remove the authenticator app and every passkey of ${String(u.email)}?`}
                danger
                onConfirm={() => act("Reset second factors", () => api("POST", `/admin/users/${encodeURIComponent(id)}/reset-factors`))}
              />
            </div>
          </section>

          <section aria-labelledby="h-roles">
            <h2 id="h-roles">Roles</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Granted</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="sr-only">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {roles.map((r) => (
                  <tr>
                    <td>
                      {r.name} {r.active ? null : <span class="badge status-inactive">expired</span>}
                    </td>
                    <td>{when(r.granted_at)}</td>
                    <td>{r.expires_at ? when(r.expires_at) : "never"}</td>
                    <td>
                      {r.name === "user" ? null : (
                        <ConfirmButton
                          label="Remove"
                          danger
                          question={`Remove ${r.name}?`}
                          onConfirm={() => act(`remove ${r.name}`, () => api("DELETE", `/admin/users/${encodeURIComponent(id)}/roles/${encodeURIComponent(r.name)}`))}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {roles.length === 0 ? <p>No role beyond the implicit user role.</p> : null}
            {roleList.error ? <ErrorNotice error={roleList.error} /> : null}
            <form
              class="inline-form"
              onSubmit={(e: Event) => {
                const v = formValues(e);
                const expires = v.expires_at ? new Date(`${v.expires_at}T23:59:59Z`).toISOString() : undefined;
                void act(`assign ${v.role}`, () => api("POST", `/admin/users/${encodeURIComponent(id)}/roles`, { role: v.role, ...(expires ? { expires_at: expires } : {}) }));
              }}
            >
              <div class="field">
                <label for="role-role">Role to assign</label>
                <select id="role-role" name="role" required>
                  {assignable.map((r) => (
                    <option value={r.name}>{r.description ? `${r.name} — ${r.description}` : r.name}</option>
                  ))}
                </select>
              </div>
              <Field idPrefix="role" name="expires_at" label="Expires (optional)" type="date" />
              <button type="submit">Assign role</button>
            </form>
          </section>

          <section aria-labelledby="h-sessions">
            <h2 id="h-sessions">Sessions and API keys</h2>
            <p>
              {sessions.count} live session(s){sessions.lastUsed ? `, last used ${when(sessions.lastUsed)}` : ""} · {keys.count} active API key(s). Suspending
              or deactivating ends them all at once.
            </p>
            <h3 id="h-session-list">Live sessions</h3>
            <table aria-labelledby="h-session-list">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">IP</th>
                  <th scope="col">Location</th>
                  <th scope="col">Signed in</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                </tr>
              </thead>
              <tbody>
                {sessionRows.map((s) => (
                  <tr>
                    <td>{s.device_name ?? "—"}</td>
                    <td>{s.ip_address ?? "—"}</td>
                    <td>{where(s)}</td>
                    <td>{when(s.created_at)}</td>
                    <td>{when(s.last_used_at)}</td>
                    <td>{when(s.expires_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {sessionRows.length === 0 ? <p>No live session.</p> : null}
            {sessions.count > sessionRows.length ? <p>Showing the newest {sessionRows.length} of {sessions.count}.</p> : null}
            <h3 id="h-key-list">Live API keys</h3>
            <table aria-labelledby="h-key-list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                </tr>
              </thead>
              <tbody>
                {keyRows.map((k) => (
                  <tr>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{k.scopes.join(", ")}</td>
                    <td>{when(k.created_at)}</td>
                    <td>{when(k.last_used_at)}</td>
                    <td>{k.expires_at ? when(k.expires_at) : "never"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {keyRows.length === 0 ? <p>No live API key.</p> : null}
            {keys.count > keyRows.length ? <p>Showing the newest {keyRows.length} of {keys.count}.</p> : null}
          </section>

          <section aria-labelledby="h-orgs">
            <h2 id="h-orgs">Organizations</h2>
            {orgs.length === 0 ? <p>No organization.</p> : null}
            <ul>
              {orgs.map((o) => (
                <li>
                  <Link href={`/console/orgs/${encodeURIComponent(String(o.organization_id))}`}>{String(o.name)}</Link> · {String(o.role)}
                </li>
              ))}
            </ul>
          </section>

          <section aria-labelledby="h-audit">
            <h2 id="h-audit">Recent audit events</h2>
            <ErrorNotice error={audit.error} />
            <AuditTable items={audit.data?.items ?? []} />
          </section>
        </>
      ) : null}
    </>
  );
}
