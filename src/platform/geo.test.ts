import { describe, expect, it } from "vitest";
import { geoOf } from "./geo";

describe("geoOf", () => {
  it("reads country and city from request.cf", () => {
    expect(geoOf({ country: "IN", city: "Patna", colo: "BOM" })).toEqual({ country: "IN", city: "Patna" });
    expect(geoOf({ country: "T1" })).toEqual({ country: "T1", city: null });
  });
  it("drops what is missing, unknown or malformed", () => {
    expect(geoOf(undefined)).toEqual({ country: null, city: null });
    expect(geoOf({ country: "XX", city: "  " })).toEqual({ country: null, city: null });
    expect(geoOf({ country: "india", city: 5 })).toEqual({ country: null, city: null });
    expect(geoOf({ country: "IN", city: "x".repeat(300) }).city).toHaveLength(100);
  });
});
