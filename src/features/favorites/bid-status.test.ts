import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BID_STATUSES } from "../../db/schema";
import { bidSourcesFor, canMoveBid, type BidStatus } from "./bid-status";

describe("bid-status lifecycle", () => {
  it("walks the happy path and its two endings", () => {
    expect(canMoveBid(null, "planning")).toBe(true);
    expect(canMoveBid("planning", "preparing")).toBe(true);
    expect(canMoveBid("preparing", "submitted")).toBe(true);
    expect(canMoveBid("submitted", "won")).toBe(true);
    expect(canMoveBid("submitted", "lost")).toBe(true);
  });

  it("refuses skipping, going back and leaving a final state", () => {
    expect(canMoveBid(null, "submitted")).toBe(false);
    expect(canMoveBid("planning", "submitted")).toBe(false);
    expect(canMoveBid("preparing", "won")).toBe(false);
    expect(canMoveBid("submitted", "preparing")).toBe(false);
    expect(canMoveBid("won", "lost")).toBe(false);
    expect(canMoveBid("withdrawn", "planning")).toBe(false);
  });

  it("withdrawn is reachable from any status; the same status is a no-op", () => {
    for (const s of [null, ...BID_STATUSES] as (BidStatus | null)[]) expect(canMoveBid(s, "withdrawn")).toBe(true);
    for (const s of BID_STATUSES) expect(canMoveBid(s, s)).toBe(true);
  });

  it("bidSourcesFor lists exactly the statuses canMoveBid allows", () => {
    const status = fc.constantFrom(...BID_STATUSES);
    fc.assert(
      fc.property(fc.option(status, { nil: null }), status, (from, to) => {
        const { statuses, fromNone } = bidSourcesFor(to);
        expect(from === null ? fromNone : statuses.includes(from)).toBe(canMoveBid(from, to));
      }),
    );
  });
});
