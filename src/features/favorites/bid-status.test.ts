import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BID_STATUSES } from "../../db/tables";
import { bidMoveRefusal, bidSourcesFor, canMoveBid, type BidStatus } from "./bid-status";

const status = fc.constantFrom(...BID_STATUSES);
const OUTCOMES: BidStatus[] = ["won", "lost"];
const OPEN: (BidStatus | null)[] = [null, "planning", "preparing", "submitted", "withdrawn"];

describe("bid-status lifecycle", () => {
  it("walks the happy path and its two endings", () => {
    expect(canMoveBid(null, "planning")).toBe(true);
    expect(canMoveBid("planning", "preparing")).toBe(true);
    expect(canMoveBid("preparing", "submitted")).toBe(true);
    expect(canMoveBid("submitted", "won")).toBe(true);
    expect(canMoveBid("submitted", "lost")).toBe(true);
  });

  // Issue 14, point 20: a bid submitted offline is recorded directly; forward moves may skip steps.
  it("forward moves may skip steps, from no status too", () => {
    expect(canMoveBid(null, "submitted")).toBe(true);
    expect(canMoveBid(null, "won")).toBe(true);
    expect(canMoveBid("planning", "submitted")).toBe(true);
    expect(canMoveBid("preparing", "won")).toBe(true);
    expect(canMoveBid("planning", "lost")).toBe(true);
  });

  it("a withdrawn bid can be reopened to any status", () => {
    for (const to of BID_STATUSES) expect(canMoveBid("withdrawn", to), to).toBe(true);
  });

  it("a recorded outcome is final: won and lost move nowhere else (not even to withdrawn, which would reopen them)", () => {
    expect(canMoveBid("won", "planning")).toBe(false);
    expect(canMoveBid("won", "lost")).toBe(false);
    expect(canMoveBid("lost", "won")).toBe(false);
    expect(canMoveBid("won", "withdrawn")).toBe(false);
    expect(canMoveBid("lost", "submitted")).toBe(false);
    expect(bidMoveRefusal("won", "planning")).toBe("The bid's outcome is recorded as won; it cannot move to planning");
  });

  it("withdrawn is reachable from every open status; the same status is a no-op", () => {
    for (const s of OPEN) expect(canMoveBid(s, "withdrawn")).toBe(true);
    for (const s of BID_STATUSES) expect(canMoveBid(s, s)).toBe(true);
  });

  it("property: from no status or an open status every move is allowed; from an outcome only staying put", () => {
    fc.assert(
      fc.property(fc.option(status, { nil: null }), status, (from, to) => {
        const recorded = from !== null && OUTCOMES.includes(from);
        expect(canMoveBid(from, to)).toBe(!recorded || from === to);
        // Every refusal has a message naming both ends; an allowed move has none.
        const refusal = bidMoveRefusal(from, to);
        if (canMoveBid(from, to)) expect(refusal).toBeNull();
        else {
          expect(refusal).toContain(`${from}`);
          expect(refusal).toContain(to);
        }
      }),
    );
  });

  it("property: a forward move is never refused, however many steps it skips", () => {
    const rank = (s: BidStatus | null) => (s === null ? 0 : { planning: 1, preparing: 2, submitted: 3, won: 4, lost: 4, withdrawn: 0 }[s]);
    fc.assert(
      fc.property(fc.option(status, { nil: null }), status, (from, to) => {
        fc.pre(rank(to) > rank(from) && !(from !== null && OUTCOMES.includes(from)));
        expect(canMoveBid(from, to)).toBe(true);
      }),
    );
  });

  it("bidSourcesFor lists exactly the statuses canMoveBid allows", () => {
    fc.assert(
      fc.property(fc.option(status, { nil: null }), status, (from, to) => {
        const { statuses, fromNone } = bidSourcesFor(to);
        expect(from === null ? fromNone : statuses.includes(from)).toBe(canMoveBid(from, to));
      }),
    );
  });
});
