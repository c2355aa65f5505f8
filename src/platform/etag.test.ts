import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ifMatchOf, noneMatchHits, versionETag, versionMatches } from "./etag";
import { decodeFeedCursor, encodeFeedCursor, feedPage } from "./feed";
import { carriesSecret, parseIdempotencyKey } from "../identity/idempotency";

const instant = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms));

describe("ETags", () => {
  it("If-Match on a resource's own ETag names exactly its version; a weak or altered tag names none", () => {
    fc.assert(
      fc.property(instant, instant, fc.string(), (at, other, name) => {
        const etag = versionETag({ updated_at: at.toISOString(), name } as { updated_at: string });
        expect(versionMatches(ifMatchOf(etag), at)).toBe(true);
        expect(versionMatches(ifMatchOf(etag), other)).toBe(at.getTime() === other.getTime());
        expect(ifMatchOf(`W/${etag}`)).toEqual([]);
        expect(ifMatchOf(`"x", ${etag}`)!.map((d) => d.getTime())).toEqual([at.getTime()]);
        expect(noneMatchHits(`W/${etag}`, etag)).toBe(true);
        expect(noneMatchHits(`"nope"`, etag)).toBe(false);
      }),
    );
    expect(ifMatchOf("*")).toBeUndefined();
    expect(ifMatchOf(undefined)).toBeUndefined();
  });

  it("a derived field that changes changes the ETag, not the version", () => {
    const a = versionETag({ updated_at: "2026-01-01T00:00:00.000Z", role: "admin" } as { updated_at: string });
    const b = versionETag({ updated_at: "2026-01-01T00:00:00.000Z", role: "member" } as { updated_at: string });
    expect(a).not.toBe(b);
    expect(ifMatchOf(a)).toEqual(ifMatchOf(b));
  });
});

describe("feed cursors", () => {
  it("round-trip any position; anything else is refused", () => {
    fc.assert(fc.property(fc.nat(), fc.string(), (at, id) => {
        expect(decodeFeedCursor(encodeFeedCursor({ at, id }))).toEqual({ at, id });
      }),
    );
    expect(() => decodeFeedCursor("bm9wZQ")).toThrow();
  });

  it("a page: next_cursor only when more wait; sync_cursor always, the start when empty", () => {
    const start = { at: 5, id: "" };
    const empty = feedPage([], 2, start, (r: { at: number; id: string }) => r, (r) => r);
    expect(empty).toEqual({ items: [], next_cursor: null, sync_cursor: encodeFeedCursor(start) });
    const rows = [{ at: 6, id: "a" }, { at: 6, id: "b" }, { at: 7, id: "c" }];
    const page = feedPage(rows, 2, start, (r) => r, (r) => r.id);
    expect(page).toEqual({ items: ["a", "b"], next_cursor: encodeFeedCursor({ at: 6, id: "b" }), sync_cursor: encodeFeedCursor({ at: 6, id: "b" }) });
  });
});

describe("Idempotency-Key", () => {
  it("takes 1–255 printable characters, bare or as a structured-field string", () => {
    fc.assert(fc.property(fc.stringMatching(/^[!-~][ -~]{0,253}[!-~]$/).filter((k) => !(k.startsWith('"') && k.endsWith('"'))), (key) => {
        expect(parseIdempotencyKey(key)).toBe(key);
      }),
    );
    expect(parseIdempotencyKey('"abc"')).toBe("abc");
    for (const bad of ["", '""', "x".repeat(256), "é", "a\u0000b"]) expect(() => parseIdempotencyKey(bad)).toThrow();
  });

  it("sees a secret at any depth", () => {
    expect(carriesSecret({ id: "k", key: "kl_live_x" })).toBe(true);
    expect(carriesSecret({ secret: "S", otpauth_url: "otpauth://" })).toBe(true);
    expect(carriesSecret({ backup_codes: ["a"] })).toBe(true);
    expect(carriesSecret({ items: [{ nested: { access_token: "t" } }] })).toBe(true);
    expect(carriesSecret({ id: "srch_1", name: "n", query: { keywords: ["key"] } })).toBe(false);
    expect(carriesSecret({ key: null })).toBe(false);
  });
});
