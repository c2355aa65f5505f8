/**
 * The bid-status lifecycle of a favorite: planning → preparing → submitted → won | lost, and
 * withdrawn. The lifecycle records what happened (issue 14, point 20), so it refuses only what
 * contradicts a recorded outcome:
 * - from no status or an open status (planning, preparing, submitted) any status may be set:
 *   forward moves may skip steps (a bid submitted offline is recorded directly), and a step set by
 *   mistake may be corrected;
 * - a withdrawn bid can be reopened to any status;
 * - won and lost are recorded outcomes: they move nowhere else (not to the other outcome, not back,
 *   and not to withdrawn, which would let a second move reopen them).
 * Setting the current status again is allowed and changes nothing. Pure.
 */
import type { BID_STATUSES } from "../../db/tables";

export type BidStatus = (typeof BID_STATUSES)[number];

const ALL: readonly BidStatus[] = ["planning", "preparing", "submitted", "won", "lost", "withdrawn"];
const OUTCOMES: readonly BidStatus[] = ["won", "lost"];

/**
 * Whether a favorite may move from `from` (null: no status yet) to `to`.
 *
 * @example canMoveBid(null, "submitted") // true
 * @example canMoveBid("won", "planning") // false
 */
export function canMoveBid(from: BidStatus | null, to: BidStatus): boolean {
  return from === to || from === null || !OUTCOMES.includes(from);
}

/**
 * Why a move is refused, for the 422's detail (null when it is allowed).
 *
 * @example bidMoveRefusal("won", "planning") // "The bid's outcome is recorded as won; it cannot move to planning"
 */
export function bidMoveRefusal(from: BidStatus | null, to: BidStatus): string | null {
  if (canMoveBid(from, to)) return null;
  return `The bid's outcome is recorded as ${from}; it cannot move to ${to}`;
}

/**
 * Every status from which `to` may be reached (null: no status yet), for a guarded UPDATE that
 * applies the move only if the stored status still allows it.
 */
export function bidSourcesFor(to: BidStatus): { statuses: BidStatus[]; fromNone: boolean } {
  return { statuses: ALL.filter((s) => canMoveBid(s, to)), fromNone: canMoveBid(null, to) };
}
