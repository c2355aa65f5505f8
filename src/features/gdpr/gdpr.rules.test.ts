import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERASED, scrubDetails } from "./gdpr.rules";

describe("scrubDetails", () => {
  it("keeps the event, drops personal keys, erases addresses and the user's name", () => {
    expect(
      scrubDetails(
        { session_id: "ses_1", method: "password", old_email: "a@x.io", note: "for Ada Lovelace", nested: { to: "b@y.io", ids: ["k1", "Ada lovelace"] }, "c@d.io": 1 },
        ["Ada Lovelace", null],
      ),
    ).toEqual({ session_id: "ses_1", method: "password", note: ERASED, nested: { to: ERASED, ids: ["k1", ERASED] } });
  });

  it("ignores personal values too short to be meaningful", () => {
    expect(scrubDetails({ method: "totp" }, ["to", ""])).toEqual({ method: "totp" });
  });

  it("never leaves an @ anywhere (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, name) => {
        expect(JSON.stringify(scrubDetails(value, [name]))).not.toContain("@");
      }),
    );
  });
});
