/**
 * Why a tender matched an alert, for the emails that announce it: the keywords that hit, the
 * state and department, the value range, the closing window. Pure; uses the matcher's own rules
 * (tenders/match.ts), so a reason is given exactly when that criterion holds for the tender.
 * Only criteria the alert sets give reasons; an alert without criteria says so ({kind: "any"}).
 */
import type { TenderCriteria } from "../../db/tables";
import { CLOSING_RANGE_MS, compileKeyword, matchesKeyword, prepareTender, type TenderFields } from "../tenders/match";
import { normalizeLabel } from "../tenders/text";

export type MatchReason =
  | { kind: "keyword"; keyword: string }
  | { kind: "state"; state: string }
  | { kind: "department"; department: string }
  | { kind: "value"; min: number | null; max: number | null; value: number }
  | { kind: "closing"; days: number }
  | { kind: "any" };

const finite = (n: number | null | undefined): number | null => (typeof n === "number" && Number.isFinite(n) ? n : null);

/**
 * @example explainMatch({ keywords: ["bridge", "road"], states: ["Bihar"] }, { title: "Bridge over the Ganga", state: "Bihar" }, now)
 * // [{ kind: "keyword", keyword: "bridge" }, { kind: "state", state: "Bihar" }]
 */
export function explainMatch(criteria: TenderCriteria, tender: TenderFields, now: Date): MatchReason[] {
  const reasons: MatchReason[] = [];
  const prepared = prepareTender(tender);
  for (const keyword of criteria.keywords ?? []) {
    if (matchesKeyword(compileKeyword(keyword), prepared)) reasons.push({ kind: "keyword", keyword });
  }
  const inLabels = (labels: readonly string[] | undefined, value: string | null) => value !== null && (labels ?? []).some((l) => normalizeLabel(l) === value);
  if (tender.state && inLabels(criteria.states, prepared.state)) reasons.push({ kind: "state", state: tender.state.trim() });
  if (tender.department && inLabels(criteria.departments, prepared.department)) reasons.push({ kind: "department", department: tender.department.trim() });
  const min = finite(criteria.min_value);
  const max = finite(criteria.max_value);
  if ((min !== null || max !== null) && prepared.value !== null && (min === null || prepared.value >= min) && (max === null || prepared.value <= max)) {
    reasons.push({ kind: "value", min, max, value: prepared.value });
  }
  const range = criteria.closing_date_range;
  if (range && range !== "any" && prepared.closingTime !== null) {
    const left = prepared.closingTime - now.getTime();
    if (left >= 0 && left <= CLOSING_RANGE_MS[range]) reasons.push({ kind: "closing", days: Number(range.replace(/\D/g, "")) });
  }
  const setsAnything =
    (criteria.keywords?.length ?? 0) > 0 || (criteria.states?.length ?? 0) > 0 || (criteria.departments?.length ?? 0) > 0 || min !== null || max !== null || (range !== undefined && range !== "any");
  if (reasons.length === 0 && !setsAnything) reasons.push({ kind: "any" });
  return reasons;
}
