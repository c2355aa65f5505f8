import { describe, expect, it } from "vitest";
import { en } from "./en";
import { hi } from "./hi";
import { CATALOGUES, messagesFor } from "./index";
import { formatInstant } from "../format";

describe("message catalogue", () => {
  it("every language has every English key, of the same kind", () => {
    for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        expect(catalogue, `${lang} lacks ${key}`).toHaveProperty(key);
        expect(typeof catalogue[key], `${lang}.${key}`).toBe(typeof en[key]);
      }
    }
  });

  it("Hindi is Hindi (Devanagari in every text), not a copy of English", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const h = hi[key];
      const e = en[key];
      const sample = (v: unknown) => (typeof v === "function" ? String((v as (...a: unknown[]) => unknown)("X", 2)) : String(v));
      if (key === "locale" || key === "signature" || key === "none") continue;
      expect(sample(h), key).toMatch(/[\u0900-\u097F]/);
      expect(sample(h)).not.toBe(sample(e));
    }
  });

  it("picks by the primary language subtag; anything else, and a missing key, falls back to English", () => {
    expect(messagesFor("hi").hello("A")).toBe("नमस्ते A,");
    expect(messagesFor("hi-IN").locale).toBe("hi-IN");
    expect(messagesFor("fr").hello("A")).toBe("Hello A,");
    expect(messagesFor(null).locale).toBe("en-IN");
    const saved = (CATALOGUES as Record<string, unknown>).hi;
    try {
      const partial: Record<string, unknown> = { ...hi };
      delete partial.seeAll;
      (CATALOGUES as Record<string, unknown>).hi = partial;
      expect(messagesFor("hi").seeAll).toBe(en.seeAll);
      expect(messagesFor("hi").hello("A")).toBe("नमस्ते A,");
    } finally {
      (CATALOGUES as Record<string, unknown>).hi = saved;
    }
  });

  it("dates keep their instant and name the zone", () => {
    const closing = new Date("2026-11-30T19:30:00Z");
    expect(formatInstant(closing, "Asia/Kolkata", "en-IN")).toBe("1 December 2026 at 01:00 am IST");
    expect(formatInstant(closing, "Asia/Kolkata", "hi-IN")).toContain("1 दिसंबर 2026");
    expect(formatInstant(closing, "America/New_York", "en-IN")).toBe("30 November 2026 at 02:30 pm GMT-5 (America/New_York)");
    expect(formatInstant(closing, "Not/AZone", "en-IN")).toContain("UTC");
  });
});
