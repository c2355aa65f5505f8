import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import { ErrorNotice, Field, formValues, Link, navigate, useLoad, useLocation, when, EmptyHint } from "../ui";
import type { AuditEvent } from "../dto";

export function AuditTable({ items, empty }: { items: AuditEvent[]; empty?: string | undefined }) {
  if (empty && items.length === 0) return <EmptyHint>{empty}</EmptyHint>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">User</th>
          <th scope="col">By</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr>
            <td>{when(e.created_at)}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td>{e.user_id ? <Link href={`/console/users/${encodeURIComponent(e.user_id)}`}>{e.user_id}</Link> : "—"}</td>
            <td>{e.actor_id && e.actor_id !== e.user_id ? e.actor_id : "—"}</td>
            <td class="details">{e.details && Object.keys(e.details as object).length ? JSON.stringify(e.details) : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AuditView() {
  const { search } = useLocation();
  const filters = { user_id: search.get("user_id") ?? "", action: search.get("action") ?? "", since: search.get("since") ?? "", until: search.get("until") ?? "" };
  // Cursors of the pages seen so far, so "Previous" works with cursor pagination.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const key = JSON.stringify(filters);
  const loaded = useLoad(
    () =>
      api<{ items: AuditEvent[]; next_cursor: string | null }>(
        "GET",
        `/admin/audit${query({
          ...filters,
          since: filters.since ? new Date(filters.since).toISOString() : "",
          until: filters.until ? new Date(filters.until).toISOString() : "",
          limit: 50,
          cursor,
        })}`,
      ),
    [key, cursor],
  );
  return (
    <>
      <h1>Audit log</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e: Event) => {
          const v = formValues(e);
          setCursors([]);
          navigate(`/console/audit${query(v)}`);
        }}
      >
        <Field idPrefix="af" name="user_id" label="User id" value={filters.user_id} />
        <Field idPrefix="af" name="action" label="Action (e.g. admin.user_suspended)" value={filters.action} />
        <Field idPrefix="af" name="since" label="Since" type="date" value={filters.since} />
        <Field idPrefix="af" name="until" label="Until" type="date" value={filters.until} />
        <button type="submit">Filter</button>
      </form>
      <ErrorNotice error={loaded.error} />
      <AuditTable
        items={loaded.data?.items ?? []}
        empty={loaded.data ? "No event matches. Every change keel makes (sign-ins, profile edits, administration) is recorded here; widen the dates or clear the action filter." : undefined}
      />
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button type="button" class="secondary" disabled={!loaded.data?.next_cursor} onClick={() => loaded.data?.next_cursor && setCursors([...cursors, loaded.data.next_cursor])}>
          Older
        </button>
      </nav>
    </>
  );
}
