/** Pending match rows → the alert sections an alert or digest email lists (reasons, links). */
import type { TenderCriteria } from "../../db/tables";
import type { AlertSection, ListedTender } from "./alert-emails";
import type { DeliveryContext } from "./delivery.context";
import type { PendingMatchRow } from "./delivery.repo";
import { explainMatch } from "./explain";
import { tenderEmailUrl } from "./tender-links";

function criteriaOf(json: string): TenderCriteria {
  try {
    const c: unknown = JSON.parse(json);
    return c !== null && typeof c === "object" ? (c as TenderCriteria) : {};
  } catch {
    return {};
  }
}

export async function listedTender(ctx: DeliveryContext, r: PendingMatchRow, source: "alert" | "digest"): Promise<ListedTender> {
  const closingDate = r.closing_date === null ? null : new Date(r.closing_date);
  return {
    title: r.title,
    department: r.department,
    state: r.state,
    value: r.value,
    currency: r.currency,
    closingDate,
    link: await tenderEmailUrl(ctx, { userId: r.user_id, tenderId: r.tender_id, source }),
    reasons: explainMatch(criteriaOf(r.criteria), { title: r.title, description: r.description, state: r.state, department: r.department, value: r.value, closingDate }, ctx.now),
  };
}

/**
 * Groups rows by alert, in the order of the rows' first appearance (the caller orders them: the
 * digest soonest closing first, so the alert with the most urgent tender comes first).
 */
export async function alertSections(
  ctx: DeliveryContext,
  rows: readonly PendingMatchRow[],
  source: "alert" | "digest",
  unsubscribeUrlOf: (alertId: string) => Promise<string | null>,
): Promise<AlertSection[]> {
  const groups = new Map<string, PendingMatchRow[]>();
  for (const r of rows) {
    const g = groups.get(r.alert_id);
    if (g) g.push(r);
    else groups.set(r.alert_id, [r]);
  }
  return Promise.all(
    [...groups].map(async ([alertId, list]) => ({
      alertName: list[0]?.alert_name ?? "",
      tenders: await Promise.all(list.map((r) => listedTender(ctx, r, source))),
      unsubscribeUrl: await unsubscribeUrlOf(alertId),
    })),
  );
}
