import { ownerOf } from "../../identity/owner";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { toFtsQuery } from "../tenders/match";
import { favoriteSignalsQuery } from "../favorites/favorites.repo";
import { isUrgent } from "../tenders/ingest";
import { DEFAULT_VIEW_PREFERENCES, viewPreferencesQuery } from "../tenders/tenders.repo";
import { toTenderOut } from "../tenders/tenders.schemas";
import { profileSignalsQuery, recommendationCandidates, viewSignalsQuery } from "./recommendations.repo";
import { compileSignals, scoreTender } from "./score";

const CANDIDATES = 300;

const countBy = (labels: (string | null)[]) => {
  const out = new Map<string, number>();
  for (const l of labels) if (l) out.set(l, (out.get(l) ?? 0) + 1);
  return out;
};

/**
 * GET /me/recommendations: open tenders ranked by profile fit and behaviour, each with its
 * reasons. Two round trips: the signals (preferences, profile, favorites, views) in one batch,
 * then one candidate query (FTS5 bm25 over the profile's keywords, or the profile's and the
 * favorites' states and departments); scoring runs here. Already-favorited tenders are skipped.
 */
export async function recommend(ctx: RequestContext, actor: Actor, limit: number) {
  const { db, now } = ctx;
  const [[prefsRow], [profile], favorites, views] = await db.batch([
    viewPreferencesQuery(db, ownerOf(actor)),
    profileSignalsQuery(db, ownerOf(actor)),
    favoriteSignalsQuery(db, ownerOf(actor)),
    viewSignalsQuery(db, ownerOf(actor)),
  ]);
  const prefs = prefsRow ?? DEFAULT_VIEW_PREFERENCES;
  if (!prefs.aiRecommendations) {
    return { items: [], reason: "Recommendations are off: enable_ai_recommendations is false in your preferences" };
  }
  const signals = compileSignals({
    keywords: [...(profile?.industrySector ?? []), ...(profile?.specializations ?? []), ...(profile?.preferredTenderTypes ?? [])],
    operatingStates: profile?.operatingStates ?? [],
    minValue: profile?.minTenderValue ?? null,
    maxValue: profile?.maxTenderValue ?? null,
    favoriteDepartments: countBy(favorites.map((f) => f.department)),
    favoriteStates: countBy(favorites.map((f) => f.state)),
    viewedDepartments: countBy(views.map((v) => v.department)),
  });
  const fts = signals.keywords.length ? toFtsQuery(signals.keywords.map((k) => k.compiled)) : null;
  const candidates = await recommendationCandidates(db, {
    fts,
    states: [...signals.states.values(), ...[...signals.favoriteStates.values()].map((s) => s.label)],
    departments: [...[...signals.favoriteDepartments.values()].map((d) => d.label), ...[...signals.viewedDepartments.values()].map((d) => d.label)],
    excludeIds: favorites.map((f) => f.tenderId),
    now,
    limit: CANDIDATES,
  });
  if (candidates.length === 0) {
    return { items: [], reason: "Nothing to go on yet: add sectors, specializations or operating states to your profile, or favorite some tenders" };
  }
  // bm25 is negative, better is lower: scale to [0, 1] against the best candidate.
  const best = Math.min(0, ...candidates.map((c) => c.rank ?? 0));
  const scored = candidates
    .map((t) => ({ t, ...scoreTender(signals, t, best < 0 && t.rank !== null ? t.rank / best : 0) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || (a.t.closingDate?.getTime() ?? Infinity) - (b.t.closingDate?.getTime() ?? Infinity) || (a.t.id < b.t.id ? -1 : 1))
    .slice(0, limit);
  return {
    items: scored.map((s) => ({ tender: toTenderOut(s.t, prefs.highlightUrgent && isUrgent(s.t.closingDate, now)), score: s.score, reasons: s.reasons })),
  };
}
