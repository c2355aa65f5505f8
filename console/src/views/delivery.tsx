// Delivery figures of GET /admin/delivery (issue 19, point 7), drawn in the stats view as bar
// charts for the last 24 hours and 7 days. Needs admin:system: an administrator without it sees
// a one-line note instead of the section.
import { api, ApiError } from "../api";
import type { components } from "../api-types";
import { BarChart, type Point } from "../chart";
import { ErrorNotice, useLoad } from "../ui";

type Delivery = components["schemas"]["AdminDelivery"];
type Window = components["schemas"]["AdminDeliveryWindow"];

const label = (k: string) => k.replace(/_/g, " ");
const points = (o: Record<string, number>): Point[] => Object.entries(o).map(([k, v]) => ({ label: label(k), value: v }));

function windowCharts(w: Window, key: "24h" | "7d", span: string) {
  return (
    <>
      {/* Sent, failed and pending add up to the emails queued: the chart's total is that figure. */}
      <BarChart
        id={`delivery-emails-${key}`}
        title={`Emails queued by status, ${span}`}
        points={points({ sent: w.emails.sent, failed: w.emails.failed, pending: w.emails.pending })}
        empty="Emails are counted here once they are queued."
      />
      <p class="meta" data-suppressed={key}>
        {w.emails.suppressed} {w.emails.suppressed === 1 ? "address" : "addresses"} suppressed ({span})
      </p>
      <BarChart id={`delivery-matches-${key}`} title={`Alert matches by frequency, ${span}`} points={points(w.matches_by_frequency)} empty="Matches appear here once alerts match tenders." />
      <BarChart
        id={`delivery-notices-${key}`}
        title={`Digests, reminders and change notices, ${span}`}
        points={[
          { label: "daily digests", value: w.digests_sent.daily },
          { label: "weekly digests", value: w.digests_sent.weekly },
          { label: "reminders", value: w.reminders_sent },
          { label: "change notices", value: w.change_notices },
        ]}
        empty="Digests, reminders and change notices are counted here once sent."
      />
    </>
  );
}

export function DeliveryStats() {
  const loaded = useLoad(() => api<Delivery>("GET", "/admin/delivery"), []);
  const d = loaded.data;
  if (loaded.error instanceof ApiError && loaded.error.status === 403) {
    return <p class="meta">Delivery figures need the admin:system permission.</p>;
  }
  return (
    <section aria-labelledby="delivery-heading">
      <h2 id="delivery-heading">Delivery</h2>
      <ErrorNotice error={loaded.error} />
      {d ? (
        <>
          <ul class="totals" aria-label="Delivery now">
            <li>
              <span class="total-value">{d.digests_due}</span>
              <span class="total-label">digests due</span>
            </li>
            <li>
              <span class="total-value">{d.pending_tenders}</span>
              <span class="total-label">tenders pending matching</span>
            </li>
            <li>
              <span class="total-value">{d.parked_tenders}</span>
              <span class="total-label">parked tenders</span>
            </li>
            <li data-oldest-pending>
              <span class="total-value">{d.oldest_pending_tender ? new Date(d.oldest_pending_tender.pending_since).toLocaleString() : "none"}</span>
              <span class="total-label">
                oldest pending tender{d.oldest_pending_tender ? `: ${d.oldest_pending_tender.title} (${d.oldest_pending_tender.attempts} attempts)` : ""}
              </span>
            </li>
          </ul>
          {windowCharts(d.last_24h, "24h", "last 24 hours")}
          {windowCharts(d.last_7d, "7d", "last 7 days")}
        </>
      ) : null}
    </section>
  );
}
