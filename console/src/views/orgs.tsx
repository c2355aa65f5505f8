import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import { ConfirmButton, ErrorNotice, Link, Notice, useLoad, when, useAction, EmptyHint } from "../ui";
import type { Member, Org } from "../dto";

const PLANS = ["free", "team", "business", "enterprise"] as const;

export function OrgsView() {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const loaded = useLoad(() => api<{ items: Org[]; next_cursor?: string | null }>("GET", `/admin/orgs${query({ limit: 50, cursor })}`), [cursor]);
  return (
    <>
      <h1>Organizations</h1>
      <ErrorNotice error={loaded.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Plan</th>
            <th scope="col">Status</th>
            <th scope="col">Members</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {(loaded.data?.items ?? []).map((o) => (
            <tr>
              <td>
                <Link href={`/console/orgs/${encodeURIComponent(o.id)}`}>{o.name}</Link>
              </td>
              <td>{o.subscription_plan}</td>
              <td>{o.subscription_status ?? "—"}</td>
              <td>{o.member_count ?? "—"}</td>
              <td>{when(o.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded.data && loaded.data.items.length === 0 ? (
        <EmptyHint>No organizations yet. A user creates one with POST /api/v1/orgs (they become its owner, on a 14-day team trial); it appears here with its plan and members.</EmptyHint>
      ) : null}
      {loaded.data?.next_cursor ? (
        <button type="button" class="secondary" onClick={() => setCursor(loaded.data?.next_cursor ?? undefined)}>
          More
        </button>
      ) : null}
    </>
  );
}

export function OrgDetailView({ id }: { id: string }) {
  const org = useLoad(() => api<Org>("GET", `/admin/orgs/${encodeURIComponent(id)}`), [id]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const members = useLoad(() => api<{ items: Member[]; next_cursor: string | null }>("GET", `/admin/orgs/${encodeURIComponent(id)}/members${query({ limit: 100, cursor })}`), [id, cursor]);
  const [plan, setPlan] = useState<string>("");
  const { error, run } = useAction();
  const [saved, setSaved] = useState<string | null>(null);
  const o = org.data;
  return (
    <>
      <p>
        <Link href="/console/orgs">← Organizations</Link>
      </p>
      <h1>{o?.name ?? "Organization"}</h1>
      <ErrorNotice error={org.error ?? error} />
      {saved ? (
        <Notice kind="ok">
          <p>Plan changed to {saved}.</p>
        </Notice>
      ) : null}
      {o ? (
        <section aria-labelledby="h-plan">
          <h2 id="h-plan">Plan</h2>
          <p>
            Current plan: <strong>{o.subscription_plan}</strong>
            {o.max_users !== undefined ? ` · up to ${o.max_users} users` : ""}
          </p>
          <div class="inline-form">
            <label for="plan">New plan</label>
            <select id="plan" onChange={(e: Event) => setPlan((e.target as HTMLSelectElement).value)}>
              <option value="">choose…</option>
              {PLANS.map((p) => (
                <option value={p}>{p}</option>
              ))}
            </select>
            {plan && plan !== o.subscription_plan ? (
              <ConfirmButton
                label="Change plan"
                question={`Move ${o.name} to ${plan}?`}
                onConfirm={async () => {
                  await run(async () => {
                    await api("PATCH", `/admin/orgs/${encodeURIComponent(id)}`, { subscription_plan: plan });
                    setSaved(plan);
                  }, org);
                }}
              />
            ) : null}
          </div>
        </section>
      ) : null}
      <section aria-labelledby="h-members">
        <h2 id="h-members">Members</h2>
        <ErrorNotice error={members.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {(members.data?.items ?? []).map((m) => (
              <tr>
                <td>
                  <Link href={`/console/users/${encodeURIComponent(m.user_id)}`}>{m.email}</Link>
                </td>
                <td>{m.full_name}</td>
                <td>{m.role}</td>
                <td>{when(m.joined_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {members.data?.next_cursor ? (
          <button type="button" class="secondary" onClick={() => setCursor(members.data?.next_cursor ?? undefined)}>
            Next members
          </button>
        ) : null}
      </section>
    </>
  );
}
