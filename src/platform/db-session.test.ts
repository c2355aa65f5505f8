import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayReadReplica, parseBookmark, sessionStart } from "./db";

// Where each request's D1 session starts (issue 20, point 5). Locally there are no replicas, so
// this choice is what the tests can pin: the HTTP tests (test/d1-session.test.ts) prove the header
// round-trip, this proves which requests may be served by a replica at all.

const BOOKMARK = "0000000b-00000005-00004f6b-8e61117bf38d7adb71b934ebbf891683";

describe("sessionStart", () => {
  it("starts every write from the primary, whatever bookmark the client sends", () => {
    fc.assert(
      fc.property(fc.constantFrom("POST", "PUT", "PATCH", "DELETE", "OPTIONS"), fc.string(), fc.option(fc.string()), (method, path, header) => {
        expect(sessionStart(method, `/${path}`, header)).toBe("first-primary");
      }),
    );
    expect(sessionStart("POST", "/api/v1/me/favorites", BOOKMARK)).toBe("first-primary");
  });

  it("starts sign-in, token checks, admin, organization reads, the emailed links and GETs that write from the primary", () => {
    for (const path of [
      "/api/v1/auth/oidc/callback",
      "/api/v1/auth/providers",
      "/api/v1/admin/users",
      "/api/v1/admin/audit",
      "/api/v1/orgs",
      "/api/v1/orgs/o1/notes",
      "/api/v1/orgs/o1/favorites",
      "/api/v1/unsubscribe",
      "/api/v1/me/identities/google/link",
      "/.well-known/jwks.json",
      "/l/abc",
      "/verify-email",
      "/reset-password",
      "/accept-invitation",
      "/unsubscribe",
      "/sign-in",
    ]) {
      expect(mayReadReplica("GET", path), path).toBe(false);
      expect(sessionStart("GET", path, BOOKMARK), path).toBe("first-primary");
    }
  });

  it("continues other reads from the client's bookmark, else from any replica", () => {
    for (const path of ["/api/v1/me", "/api/v1/me/alerts", "/api/v1/tenders", "/api/v1/me/notes", "/api/v1/me/favorites"]) {
      expect(sessionStart("GET", path, BOOKMARK)).toBe(BOOKMARK);
      expect(sessionStart("HEAD", path, BOOKMARK)).toBe(BOOKMARK);
      expect(sessionStart("GET", path, undefined)).toBe("first-unconstrained");
    }
  });

  it("ignores anything that is not a bookmark's shape: the constraint words, other strings", () => {
    expect(parseBookmark(BOOKMARK)).toBe(BOOKMARK);
    for (const bad of ["first-primary", "first-unconstrained", "", BOOKMARK.toUpperCase(), `${BOOKMARK}0`, ` ${BOOKMARK}`, BOOKMARK.slice(1)]) {
      expect(parseBookmark(bad), bad).toBeNull();
      expect(sessionStart("GET", "/api/v1/me", bad)).toBe("first-unconstrained");
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const start = sessionStart("GET", "/api/v1/tenders", s);
        expect(start === "first-unconstrained" || start === s).toBe(true);
        if (start === s) expect(s).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
      }),
    );
  });
});
