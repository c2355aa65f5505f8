import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyUpsert, IDS_PER_MESSAGE, isUrgent, matchingSends, MESSAGES_PER_SEND } from "./ingest";

describe("classifyUpsert", () => {
  it("an insert keeps the proposed id, an update returns the stored one, unchanged rows are absent", () => {
    const proposed = new Map([["E1", "tnd_new1"], ["E2", "tnd_new2"], ["E3", "tnd_new3"]]);
    const result = classifyUpsert(proposed, [
      { id: "tnd_new1", external_id: "E1" },
      { id: "tnd_old2", external_id: "E2" },
    ]);
    expect(result).toEqual({ inserted: ["tnd_new1"], updated: ["tnd_old2"] });
  });
});

describe("matchingSends", () => {
  it("puts every id in exactly one message, within the message and sendBatch limits", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 25_000 }), (ids) => {
        const sends = matchingSends(ids);
        const messages = sends.flat();
        expect(messages.flatMap((m) => m.body.tenderIds)).toEqual(ids);
        for (const send of sends) expect(send.length).toBeLessThanOrEqual(MESSAGES_PER_SEND);
        for (const m of messages) {
          expect(m.body.tenderIds.length).toBeGreaterThan(0);
          expect(m.body.tenderIds.length).toBeLessThanOrEqual(IDS_PER_MESSAGE);
          expect(new TextEncoder().encode(JSON.stringify(m.body)).length).toBeLessThan(128 * 1024);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("sends nothing when nothing changed", () => {
    expect(matchingSends([])).toEqual([]);
  });
});

describe("isUrgent", () => {
  const now = new Date("2026-03-01T00:00:00Z");
  it("is true from now to 7 days ahead, false after, before, and without a date", () => {
    expect(isUrgent(new Date("2026-03-01T00:00:00Z"), now)).toBe(true);
    expect(isUrgent(new Date("2026-03-08T00:00:00Z"), now)).toBe(true);
    expect(isUrgent(new Date("2026-03-08T00:00:01Z"), now)).toBe(false);
    expect(isUrgent(new Date("2026-02-28T23:59:59Z"), now)).toBe(false);
    expect(isUrgent(null, now)).toBe(false);
  });
});
