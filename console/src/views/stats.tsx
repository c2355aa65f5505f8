import { api } from "../api";
import { BarChart, type Point } from "../chart";
import { ErrorNotice, useLoad } from "../ui";
import { DeliveryStats } from "./delivery";

type Dict = Record<string, unknown>;

const DAY = 86_400_000;

/** The last `days` UTC dates, oldest first, with the series' value or 0. */
function daily(series: unknown, key: string, days = 30): Point[] {
  const byDate = new Map<string, number>();
  if (Array.isArray(series)) for (const row of series as Dict[]) byDate.set(String(row.date).slice(0, 10), Number(row[key] ?? row.count ?? 0));
  const today = Date.now();
  return Array.from({ length: days }, (_, i) => {
    const date = new Date(today - (days - 1 - i) * DAY).toISOString().slice(0, 10);
    return { label: date.slice(5), value: byDate.get(date) ?? 0 };
  });
}

/** The engagement distribution: an object of counts, or `{buckets|distribution: [...]}`. */
function distribution(engagement: unknown): Point[] {
  if (!engagement || typeof engagement !== "object") return [];
  const e = engagement as Dict;
  const list = (e.score_distribution ?? e.distribution ?? e.buckets) as unknown;
  if (Array.isArray(list)) return (list as Dict[]).map((b) => ({ label: String(b.label ?? b.bucket ?? b.range ?? b.name ?? "?"), value: Number(b.count ?? b.users ?? b.value ?? 0) }));
  const nested = Object.values(e).find((v) => v && typeof v === "object" && !Array.isArray(v)) as Dict | undefined;
  const source = nested ?? e;
  return Object.entries(source)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => ({ label: k.replace(/_/g, " "), value: v as number }));
}

/** The scalar figures of the engagement object (users with activity, average score, …). */
function engagementTotals(engagement: unknown): [string, number][] {
  if (!engagement || typeof engagement !== "object") return [];
  return Object.entries(engagement as Dict).filter(([, v]) => typeof v === "number") as [string, number][];
}

export function StatsView() {
  const loaded = useLoad(() => api<Dict>("GET", "/admin/stats"), []);
  const s = loaded.data;
  const totals = s ? (Object.entries(s).filter(([, v]) => typeof v === "number") as [string, number][]) : [];
  return (
    <>
      <h1>Stats</h1>
      <ErrorNotice error={loaded.error} />
      {s ? (
        <>
          <ul class="totals" aria-label="Totals">
            {totals.map(([k, v]) => (
              <li>
                <span class="total-value">{v}</span>
                <span class="total-label">{k.replace(/_/g, " ")}</span>
              </li>
            ))}
            {engagementTotals(s.engagement).map(([k, v]) => (
              <li>
                <span class="total-value">{v}</span>
                <span class="total-label">{k.replace(/_/g, " ")}</span>
              </li>
            ))}
          </ul>
          <BarChart id="logins" title="Sign-ins by day, last 30 days" points={daily(s.logins_by_day, "logins")} empty="Each day's sign-ins are counted here once users sign in." />
          {s.new_users_by_day ? <BarChart id="new-users" title="New users by day, last 30 days" points={daily(s.new_users_by_day, "users")} empty="New registrations and imports are counted here by day." /> : null}
          {distribution(s.engagement).length ? <BarChart id="engagement" title="Engagement distribution (users by average daily score, 30 days)" points={distribution(s.engagement)} /> : null}
          <DeliveryStats />
        </>
      ) : null}
    </>
  );
}
