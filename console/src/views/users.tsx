import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import { ConfirmButton, EmptyHint, ErrorNotice, Field, formValues, Link, navigate, Select, useLoad, useLocation, when, useAction } from "../ui";
import type { BulkResult, UserPage } from "../dto";

const PAGE_SIZE = 25;
const BULK_ACTIONS = ["activate", "deactivate", "suspend", "assign_role", "remove_role", "delete"] as const;

/** The per-id outcome of an action on several users (or one). */
export function ResultList({ result }: { result: BulkResult }) {
  return (
    <div class="notice notice-info" role="status">
      <p>
        {result.succeeded.length} succeeded, {result.failed.length} failed.
      </p>
      <ul class="results">
        {result.succeeded.map((id) => (
          <li>
            <code>{id}</code>: done
          </li>
        ))}
        {result.failed.map((f) => (
          <li>
            <code>{f.id}</code>: failed ({f.code})
          </li>
        ))}
      </ul>
    </div>
  );
}

export function UsersView() {
  const { search } = useLocation();
  const filters = {
    q: search.get("q") ?? "",
    status: search.get("status") ?? "",
    role: search.get("role") ?? "",
    account_type: search.get("account_type") ?? "",
    page: Number(search.get("page") ?? "1") || 1,
  };
  const key = JSON.stringify(filters);
  const loaded = useLoad(() => api<UserPage>("GET", `/admin/users${query({ ...filters, page_size: PAGE_SIZE })}`), [key]);
  const roleList = useLoad(() => api<{ items: { name: string }[] }>("GET", "/admin/roles"), []);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<{ action: string; role: string }>({ action: "suspend", role: "" });
  const [result, setResult] = useState<BulkResult | null>(null);
  const { error, run } = useAction();

  const go = (next: Partial<typeof filters>) => navigate(`/console/users${query({ ...filters, ...next })}`);
  const items = loaded.data?.items ?? [];
  const total = loaded.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return (
    <>
      <h1>Users</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e: Event) => {
          const v = formValues(e);
          go({ q: v.q ?? "", status: v.status ?? "", role: v.role ?? "", account_type: v.account_type ?? "", page: 1 });
        }}
      >
        <Field idPrefix="uf" name="q" label="Search (email or name)" value={filters.q} />
        <Select idPrefix="uf" name="status" label="Status" options={[["", "Any status"], ["active", "Active"], ["inactive", "Inactive"], ["suspended", "Suspended"]]} value={filters.status} />
        <Select idPrefix="uf" name="account_type" label="Account type" options={[["", "Any type"], ["free", "Free"], ["basic", "Basic"], ["premium", "Premium"], ["enterprise", "Enterprise"]]} value={filters.account_type} />
        <Select idPrefix="uf" name="role" label="Role" options={[["", "Any role"], ...(roleList.data?.items ?? []).map((r) => [r.name, r.name] as [string, string])]} value={filters.role} />
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={loaded.error ?? error} />
      {result ? <ResultList result={result} /> : null}

      <div class="bulk" role="group" aria-label="Bulk action on the selected users">
        <span>{selected.size} selected</span>
        <label for="bulk-action">Action</label>
        <select id="bulk-action" onChange={(e: Event) => setBulk({ ...bulk, action: (e.target as HTMLSelectElement).value })}>
          {BULK_ACTIONS.map((a) => (
            <option value={a} selected={a === bulk.action}>
              {a.replace("_", " ")}
            </option>
          ))}
        </select>
        {bulk.action.endsWith("_role") ? (
          <>
            <label for="bulk-role">Role</label>
            <input id="bulk-role" value={bulk.role} onInput={(e: Event) => setBulk({ ...bulk, role: (e.target as HTMLInputElement).value })} />
          </>
        ) : null}
        {selected.size > 0 ? (
          <ConfirmButton
            label="Apply to selection"
            question={`${bulk.action.replace("_", " ")} ${selected.size} user(s)?`}
            danger={bulk.action !== "activate" && bulk.action !== "assign_role"}
            onConfirm={async () => {
              await run(async () => {
                setResult(
                  await api<BulkResult>("POST", "/admin/users/bulk", {
                    action: bulk.action,
                    user_ids: [...selected],
                    ...(bulk.action.endsWith("_role") ? { role: bulk.role } : {}),
                  }),
                );
                setSelected(new Set());
              }, loaded);
            }}
          />
        ) : null}
      </div>

      <table>
        <caption class="meta">
          {total} user(s){loaded.loading ? " · loading…" : ""}
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="sr-only">Select</span>
            </th>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Roles</th>
            <th scope="col">2FA</th>
            <th scope="col">Created</th>
            <th scope="col">Last sign-in</th>
          </tr>
        </thead>
        <tbody>
          {items.map((u) => (
            <tr>
              <td>
                <input type="checkbox" aria-label={`Select ${u.email}`} checked={selected.has(u.id)} onChange={() => toggle(u.id)} />
              </td>
              <td>
                <Link href={`/console/users/${encodeURIComponent(u.id)}`}>{u.email}</Link>
              </td>
              <td>{u.full_name}</td>
              <td>
                <span class={`badge status-${u.status}`}>{u.status}</span>
              </td>
              <td>{u.roles.join(", ") || "—"}</td>
              <td>{u.two_factor_enabled ? "on" : "off"}</td>
              <td>{when(u.created_at)}</td>
              <td>{when(u.last_login_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && items.length === 0 ? (
        <EmptyHint>
          {filters.q || filters.status || filters.role || filters.account_type
            ? "No user matches these filters. Clear a filter, or search for another part of an email or name (3 characters or more)."
            : "No users yet. People appear here when they register, when you create them with POST /api/v1/admin/users, or after an import (scripts/import-users.mjs)."}
        </EmptyHint>
      ) : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={filters.page <= 1} onClick={() => go({ page: filters.page - 1 })}>
          Previous
        </button>
        <span>
          Page {filters.page} of {pages}
        </span>
        <button type="button" class="secondary" disabled={filters.page >= pages} onClick={() => go({ page: filters.page + 1 })}>
          Next
        </button>
      </nav>
    </>
  );
}
