/**
 * Why a tender matched criteria, in words a person reads: the keywords that hit, the state, the
 * department, the value range, the closing window. Pure; the same rule as match.ts (it calls its
 * matcher per keyword), so a reason is never claimed that the matcher did not use.
 */
import type { TenderCriteria } from "./criteria.schema";
import { compileKeyword, matchesKeyword, prepareTender, type TenderFields } from "./match";
import { normalizeLabel } from "./text";

const money = (n: number) => new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 }).format(n);

/**
 * @example matchReasons({ keywords: ["bridge", "road*"], states: ["bihar"] }, { title: "Roads in Patna", state: "Bihar" })
 * // ['keyword "road*"', "state Bihar"]
 */
export function matchReasons(criteria: TenderCriteria, tender: TenderFields): string[] {
  const prepared = prepareTender(tender);
  const reasons: string[] = [];
  for (const k of criteria.keywords ?? []) if (matchesKeyword(compileKeyword(k), prepared)) reasons.push(`keyword "${k}"`);
  if (criteria.states?.length && tender.state && criteria.states.some((s) => normalizeLabel(s) === prepared.state)) reasons.push(`state ${tender.state}`);
  if (criteria.departments?.length && tender.department && criteria.departments.some((d) => normalizeLabel(d) === prepared.department))
    reasons.push(`department ${tender.department}`);
  if ((criteria.min_value !== undefined || criteria.max_value !== undefined) && typeof tender.value === "number") {
    const range =
      criteria.min_value !== undefined && criteria.max_value !== undefined
        ? `between ${money(criteria.min_value)} and ${money(criteria.max_value)}`
        : criteria.min_value !== undefined
          ? `at least ${money(criteria.min_value)}`
          : `at most ${money(criteria.max_value!)}`;
    reasons.push(`value ${money(tender.value)}, ${range}`);
  }
  if (criteria.closing_date_range && criteria.closing_date_range !== "any") reasons.push(`closes within the ${criteria.closing_date_range.replace(/_/g, " ")}`);
  return reasons;
}
