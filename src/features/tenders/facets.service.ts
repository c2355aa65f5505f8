import type { ServiceContext } from "../../platform/context";
import { IsolateCache } from "../../platform/isolate-cache";
import { SECOND } from "../../platform/time";
import { AppError } from "../../platform/errors";
import { facetCountsQuery, labelExists } from "./facets.repo";
import { normalizeLabel } from "./text";

export interface Facet {
  value: string;
  count: number;
}
export interface Facets {
  states: Facet[];
  departments: Facet[];
}

/** Values per facet at most (most common first): a picker, not an export. */
export const MAX_FACET_VALUES = 1_000;
const KV_KEY = "tender-facets:v1";
/** Per isolate, in front of KV: a hot isolate does not read KV at every request. */
const ISOLATE_TTL_MS = 30 * SECOND;
const isolate = new IsolateCache<string, Facets>(1);

/**
 * Spellings that the matcher treats as one (normalizeLabel: case, accents, spaces) count as one
 * value, shown in its most common spelling; most common first, then by name.
 */
export function groupFacets(rows: readonly { value: string | null; count: number }[]): Facet[] {
  const groups = new Map<string, { best: Facet; count: number }>();
  for (const r of rows) {
    if (r.value === null) continue;
    const key = normalizeLabel(r.value);
    if (key === "") continue;
    const count = Number(r.count);
    const g = groups.get(key);
    if (!g) groups.set(key, { best: { value: r.value, count }, count });
    else {
      g.count += count;
      if (count > g.best.count) g.best = { value: r.value, count };
    }
  }
  return [...groups.values()]
    .map((g) => ({ value: g.best.value, count: g.count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    .slice(0, MAX_FACET_VALUES);
}

/**
 * The known states and departments with counts, for pickers and for alert validation. Cached:
 * per isolate for 30 s and in KV for TENDER_FACETS_CACHE_SECONDS, so a request never scans
 * tenders while the cache holds; an ingest drops the KV entry ({@link forgetFacets}).
 */
export async function tenderFacets(ctx: Pick<ServiceContext, "db" | "env" | "config" | "now">): Promise<Facets> {
  const now = ctx.now.getTime();
  const hot = isolate.get(KV_KEY, now);
  if (hot) return hot;
  const cached = await ctx.env.CACHE.get<Facets>(KV_KEY, "json").catch(() => null);
  if (cached && Array.isArray(cached.states) && Array.isArray(cached.departments)) {
    isolate.set(KV_KEY, cached, now, ISOLATE_TTL_MS);
    return cached;
  }
  const [states, departments] = await facetCountsQuery(ctx.db);
  const facets = { states: groupFacets(states), departments: groupFacets(departments) };
  isolate.set(KV_KEY, facets, now, ISOLATE_TTL_MS);
  await ctx.env.CACHE.put(KV_KEY, JSON.stringify(facets), { expirationTtl: Math.max(60, ctx.config.TENDER_FACETS_CACHE_SECONDS) }).catch(() => {});
  return facets;
}

/** After an ingest: the next facets request recomputes (this isolate at once, others within 30 s). */
export async function forgetFacets(ctx: Pick<ServiceContext, "env">): Promise<void> {
  isolate.delete(KV_KEY);
  await ctx.env.CACHE.delete(KV_KEY).catch(() => {});
}

/**
 * 422 `unknown_criteria_value` when criteria name a state or department that no tender has had
 * (compared as the matcher compares: normalizeLabel), one error per value with its path. Reads
 * the cached facets; a value missing there (newer than the cache, or beyond MAX_FACET_VALUES) is
 * looked up exactly in the index before it is refused.
 */
export async function assertKnownCriteriaValues(
  ctx: Pick<ServiceContext, "db" | "env" | "config" | "now">,
  criteria: { states?: readonly string[] | undefined; departments?: readonly string[] | undefined },
  pathPrefix = "criteria",
): Promise<void> {
  if (!criteria.states?.length && !criteria.departments?.length) return;
  const facets = await tenderFacets(ctx);
  const known = { states: new Set(facets.states.map((f) => normalizeLabel(f.value))), departments: new Set(facets.departments.map((f) => normalizeLabel(f.value))) };
  const errors: { path: string; message: string }[] = [];
  for (const [key, field] of [["states", "state"], ["departments", "department"]] as const) {
    for (const [i, value] of (criteria[key] ?? []).entries()) {
      if (known[key].has(normalizeLabel(value)) || (await labelExists(ctx.db, field, value))) continue;
      errors.push({ path: `${pathPrefix}.${key}.${i}`, message: `No tender has ever had the ${field} "${value}" (send allow_unknown_values: true to keep it)` });
    }
  }
  if (errors.length > 0) throw new AppError("unknown_criteria_value", errors.map((e) => e.message).join("; "), { errors });
}
