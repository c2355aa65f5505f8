import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, textFromBase64, textToBase64url, toBase64, toBase64NoPad, toBase64url } from "./encoding";

// The implementations encoding.ts replaced, verbatim: stored hashes, sealed columns, cursors and
// tokens in emails already sent were written by these, so the new module must write the same.
const old = {
  base64url(bytes: Uint8Array): string {
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
  fromBase64(value: string): Uint8Array {
    const normal = value.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  },
  encodeCursor: (key: string) => btoa(key).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  decodeCursor: (cursor: string) => atob(cursor.replace(/-/g, "+").replace(/_/g, "/")),
  unsubscribePayload: (payload: string) =>
    new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0))),
  mimeHeader: (value: string) => btoa(String.fromCharCode(...new TextEncoder().encode(value))),
  base64Lines(value: string) {
    let bin = "";
    for (const b of new TextEncoder().encode(value)) bin += String.fromCharCode(b);
    return btoa(bin);
  },
  b64: (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, ""),
};

const bytes = fc.uint8Array({ maxLength: 200 });
const runs = { numRuns: 500 };

describe("encoding: byte for byte what the replaced code wrote", () => {
  it("URL-safe base64 (tokens, sealed values) and its decoding", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const encoded = toBase64url(b);
        expect(encoded).toBe(old.base64url(b));
        expect(fromBase64(encoded)).toEqual(old.fromBase64(encoded));
        expect(fromBase64(encoded)).toEqual(b);
      }),
      runs,
    );
  });

  it("standard base64, padded (MIME) and unpadded (scrypt hashes), decoded like before", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(toBase64(b)).toBe(Buffer.from(b).toString("base64"));
        expect(toBase64NoPad(b)).toBe(old.b64(b));
        // DATA_ENCRYPTION_KEY is written by Node's toString("base64") (padded, `+/`).
        expect(fromBase64(toBase64(b))).toEqual(old.fromBase64(toBase64(b)));
        expect(fromBase64(toBase64NoPad(b))).toEqual(b);
      }),
      runs,
    );
  });

  it("text: MIME bodies and headers, unsubscribe payloads", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (text) => {
        expect(toBase64(new TextEncoder().encode(text))).toBe(old.mimeHeader(text));
        expect(toBase64(new TextEncoder().encode(text))).toBe(old.base64Lines(text));
        const payload = textToBase64url(text);
        expect(textFromBase64(payload)).toBe(old.unsubscribePayload(payload));
      }),
      runs,
    );
  });

  it("cursors (ASCII keys: ids and numbers)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 }), (key) => {
        const cursor = textToBase64url(key);
        expect(cursor).toBe(old.encodeCursor(key));
        expect(textFromBase64(cursor)).toBe(old.decodeCursor(cursor));
      }),
      runs,
    );
  });

  it("never decodes anything to other bytes than before; refuses what is not base64", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= ".split("");
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 }), (text) => {
        let decoded: Uint8Array | undefined;
        try {
          decoded = fromBase64(text);
        } catch {
          return;
        }
        expect(decoded).toEqual(old.fromBase64(text));
      }),
      { numRuns: 2000 },
    );
    for (const bad of ["a", "ab$c", "QQ=x", "====="]) expect(() => fromBase64(bad)).toThrow();
  });
});
