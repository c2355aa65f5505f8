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
  it("labels wrangler dev's placeholder location in development, and only there", () => {
    // miniflare's fallback request.cf when it cannot fetch a real one (offline, or disabled).
    const placeholder = { country: "US", city: "Austin", colo: "DFW", asn: 395747, postalCode: "78701" };
    expect(geoOf(placeholder, { development: true })).toEqual({ country: "US", city: "Austin (wrangler dev placeholder)" });
    expect(geoOf(placeholder)).toEqual({ country: "US", city: "Austin" });
    expect(geoOf({ ...placeholder, asn: 7922 }, { development: true })).toEqual({ country: "US", city: "Austin" });
  });
});
