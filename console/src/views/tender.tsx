// The tender's page behind every emailed tender link (/l/{signed} redirects here unless the
// deployment has its own front end): the tender, the caller's notes and those shared with their
// organizations, and the favorite and note actions. Everything through the public API.
import { useState } from "hono/jsx/dom";
import { api, query } from "../api";
import type { components } from "../api-types";
import { ErrorNotice, Link, Notice, formValues, useAction, useLoad, when } from "../ui";

type Schemas = components["schemas"];
type TenderDetail = Schemas["TenderDetail"];
type Favorite = Schemas["Favorite"];
type MyOrg = Schemas["Organization"];

const money = (value: number | null, currency: string) =>
  value === null ? "—" : new Intl.NumberFormat("en-IN", { style: "currency", currency: currency || "INR", maximumFractionDigits: 0 }).format(value);

/** The caller's favorite of this tender, if any: the newest 100 favorites are looked at (one bounded read). */
async function favoriteOf(tenderId: string): Promise<Favorite | null> {
  const page = await api<{ items: Favorite[] }>("GET", `/me/favorites${query({ limit: 100 })}`);
  return page.items.find((f) => f.tender_id === tenderId) ?? null;
}

export function TenderView({ id }: { id: string }) {
  const tender = useLoad(() => api<TenderDetail>("GET", `/tenders/${encodeURIComponent(id)}`), [id]);
  const favorite = useLoad(() => favoriteOf(id), [id]);
  const orgs = useLoad(() => api<{ items: MyOrg[] }>("GET", "/orgs"), []);
  const { error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);
  const t = tender.data;
  const shareable = (orgs.data?.items ?? []).filter((o) => o.role && o.role !== "viewer");
  const fav = favorite.data;

  if (tender.error) {
    return (
      <>
        <h1>Tender</h1>
        <ErrorNotice error={tender.error} />
        <p>This tender may have been withdrawn. <Link href="/console/account">Back to my account</Link></p>
      </>
    );
  }
  if (!t) return <h1>Tender</h1>;
  const notes = t.notes ?? [];
  const own = notes.filter((n) => n.own);
  const shared = notes.filter((n) => !n.own);
  const orgName = (orgId: string | null) => orgs.data?.items.find((o) => o.id === orgId)?.name ?? "your organization";

  return (
    <>
      <h1>{t.title}</h1>
      <ErrorNotice error={error} />
      {done ? (
        <Notice kind="ok">
          <p>{done}</p>
        </Notice>
      ) : null}
      <dl class="facts" aria-label="Tender details">
        <dt>Department</dt>
        <dd>{t.department ?? "—"}</dd>
        <dt>State</dt>
        <dd>{t.state ?? "—"}</dd>
        <dt>Value</dt>
        <dd>{money(t.value, t.currency)}</dd>
        <dt>Closes</dt>
        <dd>{when(t.closing_date)}</dd>
        <dt>Published</dt>
        <dd>{when(t.published_at)}</dd>
        <dt>Portal</dt>
        <dd>{t.portal ?? "—"}</dd>
        <dt>Reference</dt>
        <dd>{t.external_id}</dd>
      </dl>
      {t.description ? <p class="tender-description">{t.description}</p> : null}
      {t.url ? (
        <p>
          <a href={t.url} rel="noopener noreferrer" target="_blank">
            Open on the tender portal
          </a>
        </p>
      ) : null}

      <section aria-labelledby="h-favorite">
        <h2 id="h-favorite">Favorite</h2>
        {fav ? (
          <p>
            In your favorites{fav.bid_status ? ` · bid: ${fav.bid_status}` : ""}.{" "}
            <button
              type="button"
              class="secondary"
              onClick={() => run(() => api("DELETE", `/me/favorites/${encodeURIComponent(fav.id)}`), favorite).then((ok) => ok && setDone("Removed from your favorites."))}
            >
              Remove from favorites
            </button>
          </p>
        ) : (
          <button type="button" onClick={() => run(() => api("POST", "/me/favorites", { tender_id: t.id }), favorite).then((ok) => ok && setDone("Saved to your favorites."))}>
            Save to favorites
          </button>
        )}
      </section>

      <section aria-labelledby="h-my-notes">
        <h2 id="h-my-notes">Your notes</h2>
        {own.length === 0 ? <p>No notes yet.</p> : null}
        <ul class="notes">
          {own.map((n) => (
            <li>
              <p>{n.note_text}</p>
              <p class="hint">
                {when(n.created_at)}
                {n.organization_id ? ` · shared with ${orgName(n.organization_id)}` : " · private"}
              </p>
            </li>
          ))}
        </ul>
        <form
          aria-label="Add a note"
          onSubmit={async (e: Event) => {
            const form = e.currentTarget as HTMLFormElement;
            const v = formValues(e);
            const body = { tender_id: t.id, note_text: v.note_text ?? "", ...(v.share ? { organization_id: v.share } : {}) };
            if (await run(() => api("POST", "/me/notes", body), tender)) {
              form.reset();
              setDone("Note added.");
            }
          }}
        >
          <div class="field">
            <label for="note-text">New note</label>
            <textarea id="note-text" name="note_text" required rows={3} maxLength={10000} aria-invalid={error?.field("note_text").length ? "true" : undefined} />
          </div>
          {shareable.length ? (
            <div class="field">
              <label for="note-share">Share with</label>
              <select id="note-share" name="share">
                <option value="">Nobody (private)</option>
                {shareable.map((o) => (
                  <option value={o.id}>{o.name}</option>
                ))}
              </select>
            </div>
          ) : null}
          <button type="submit">Add note</button>
        </form>
      </section>

      <section aria-labelledby="h-shared-notes">
        <h2 id="h-shared-notes">Your organization's notes</h2>
        {shared.length === 0 ? <p>No member of your organizations has shared a note on this tender.</p> : null}
        <ul class="notes">
          {shared.map((n) => (
            <li>
              <p>{n.note_text}</p>
              <p class="hint">
                {n.author.full_name} · {orgName(n.organization_id)} · {when(n.created_at)}
              </p>
            </li>
          ))}
        </ul>
        {t.notes_total !== undefined && t.notes_total > notes.length ? <p class="hint">Showing the newest {notes.length} of {t.notes_total} notes.</p> : null}
      </section>
    </>
  );
}
