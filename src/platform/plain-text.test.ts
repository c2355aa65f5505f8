import { describe, expect, it } from "vitest";
import { isPlainText } from "./plain-text";

describe("isPlainText", () => {
  it("takes real names in any script, with initials, apostrophes, hyphens and the joiners Persian and Indic spelling need", () => {
    for (const name of ["José Müller", "देवनागरी नाम", "O'Brien", "Jean-Luc Picard", "Dr. A. Kumar", "J.R.R. Tolkien", "S.K.Sharma", "Smith & Co.", "Team 2.0", "Acme Pvt. Ltd. (Patna)", "زین\u200Cالعابدین", "क्ष\u200Dत्रिय"]) {
      expect(isPlainText(name), name).toBe(true);
    }
  });

  it("refuses links in every disguise: bare domains, addresses, full-width or ideographic dots, hidden format characters", () => {
    for (const text of ["keel-payroll-login.com/verify", "Visit www\u200B.evil.example", "evil\u200B.com", "a@b", "evil\uFF0E\uFF43\uFF4F\uFF4D", "evil\u3002com", "evil.рф", "x.com", "t.co/abc", "X.Com/abc", "a\u200Db.com", "x\u202Eyz", "a\u2028b", "zero\u200Bwidth", "soft\u00ADhyphen", "http://x"]) {
      expect(isPlainText(text), JSON.stringify(text)).toBe(false);
    }
  });
});
