import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, signedInUser } from "./helpers/harness";

// Issue 18, point 7: browsers on the origins of CORS_ORIGINS (the tests' config lists
// http://localhost:3000), with credentials; every other origin gets no CORS header at all.

const APP = "http://localhost:3000";

describe("CORS", () => {
  it("answers a preflight for a listed origin: credentials, the headers a client sends, Vary: Origin", async () => {
    const res = await call("/api/v1/me/profile", {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "PATCH", "access-control-request-headers": "authorization, content-type, if-match, idempotency-key" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["authorization", "content-type", "if-match", "if-none-match", "idempotency-key", "x-requested-with"]) expect(allowed).toContain(h);
    expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
  });

  it("exposes ETag, Retry-After, X-Request-Id and Idempotent-Replayed to a listed origin's scripts", async () => {
    const { token } = await signedInUser();
    const res = await call("me/profile", { token, headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const h of ["etag", "retry-after", "x-request-id", "idempotent-replayed"]) expect(exposed).toContain(h);
    expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
  });

  it("gives an origin not listed no CORS header at all, on a preflight or a request", async () => {
    const { token } = await signedInUser();
    const pre = await call("/api/v1/me/profile", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "PATCH" } });
    const get = await call("me/profile", { token, headers: { origin: "https://evil.example" } });
    for (const res of [pre, get]) {
      const cors = [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
      expect(cors).toEqual([]);
      expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
    }
    // Without an Origin (a server, curl) nothing changes either.
    const plain = await call("me/profile", { token });
    expect([...plain.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
  });

  it("a front end on a listed origin (app.example.com beside api.example.com) refreshes with the cookie; an unlisted one cannot", async () => {
    const user = await createUser();
    const login = await call("auth/login", { body: { email: user.email, password: user.password, refresh_token_delivery: "cookie" }, ip: user.ip, headers: { origin: APP } });
    expect(login.status).toBe(200);
    expect(login.headers.get("access-control-allow-credentials")).toBe("true");
    const cookie = /__Secure-keel_refresh=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1]!;
    const refresh = (origin: string, value: string) =>
      call("auth/refresh", { body: {}, headers: { Cookie: `__Secure-keel_refresh=${value}`, "X-Requested-With": "app", Origin: origin } });
    await expectProblem(await refresh("https://evil.example", cookie), 403, "forbidden");
    const ok = await refresh(APP, cookie);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("set-cookie")).toContain("__Secure-keel_refresh=");
  });
});
