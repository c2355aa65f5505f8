/**
 * The bid-status lifecycle of a favorite (seed 000): planning → preparing → submitted → won | lost,
 * and withdrawn from any status. A favorite starts with no status; its first status is `planning`
 * (or `withdrawn`). Setting the current status again is allowed and changes nothing. Every other
 * move, backwards or skipping a step, is refused (422). Pure.
 */
import type { BID_STATUSES } from "../../db/schema";

export type BidStatus = (typeof BID_STATUSES)[number];

const NEXT: Record<BidStatus | "none", readonly BidStatus[]> = {
  none: ["planning", "withdrawn"],
  planning: ["preparing", "withdrawn"],
  preparing: ["submitted", "withdrawn"],
  submitted: ["won", "lost", "withdrawn"],
  won: ["withdrawn"],
  lost: ["withdrawn"],
  withdrawn: [],
};

/**
 * Whether a favorite may move from `from` (null: no status yet) to `to`.
 *
 * @example canMoveBid("preparing", "submitted") // true
 * @example canMoveBid("planning", "won") // false
 */
export function canMoveBid(from: BidStatus | null, to: BidStatus): boolean {
  return from === to || NEXT[from ?? "none"].includes(to);
}

/**
 * Every status from which `to` may be reached (null: no status yet), for a guarded UPDATE that
 * applies the move only if the stored status still allows it.
 */
export function bidSourcesFor(to: BidStatus): { statuses: BidStatus[]; fromNone: boolean } {
  const statuses = (Object.keys(NEXT) as (BidStatus | "none")[]).filter((s): s is BidStatus => s !== "none" && canMoveBid(s, to));
  return { statuses, fromNone: canMoveBid(null, to) };
}
