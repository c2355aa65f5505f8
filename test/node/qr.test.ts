import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { qrMatrix, qrSvg, type Ecl } from "../../console/src/qr";

// The console draws the 2FA QR code with its own encoder (console/src/qr.ts). These matrices were
// produced by an independent implementation (npm `qrcode`, same input, level and mask), so a
// wrong table, bit order or Reed–Solomon step shows up as a differing module.
const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "qr-reference.json"), "utf8")) as {
  cases: { text: string; ecl: Ecl; mask: number; version: number; rows: string[] }[];
};

const rowsOf = (m: boolean[][]) => m.map((r) => r.map((d) => (d ? "1" : "0")).join(""));

describe("QR encoder of the console", () => {
  for (const c of reference.cases) {
    it(`matches the reference module for module (version ${c.version}, level ${c.ecl}, mask ${c.mask})`, () => {
      expect(rowsOf(qrMatrix(c.text, { ecl: c.ecl, mask: c.mask }))).toEqual(c.rows);
    });
  }

  it("with the mask chosen by penalty, differs from the reference only where the mask and format bits differ", () => {
    const c = reference.cases[0]!;
    const auto = qrMatrix(c.text, { ecl: c.ecl });
    expect(auto.length).toBe(c.version * 4 + 17);
    const sameMask = [0, 1, 2, 3, 4, 5, 6, 7].find((mask) => JSON.stringify(rowsOf(qrMatrix(c.text, { ecl: c.ecl, mask }))) === JSON.stringify(rowsOf(auto)));
    expect(sameMask).toBeDefined();
  });

  it("renders an SVG with a quiet zone", () => {
    const svg = qrSvg("hello");
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 29 29"/);
  });
});
