import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/platform/crypto";
import { call, callWithConfig, expectProblem, json, randomIp, signedInUser, unique } from "./helpers/harness";
import { tenderAdmin } from "./helpers/tenders";

// Issue 14, points 10 and 15: nothing cheap forces expensive work (unknown API keys, key rate
// limits, /health), and tender links that reach a mailbox are https.

const unknownKey = () => `keel_${unique("unknown").padEnd(43, "x")}`;

describe("unknown API keys", () => {
  it("an unknown key is remembered as unknown (KV), and D1 lookups of unknown keys are limited per IP", async () => {
    const ip = randomIp();
    const limits = { RATE_API_KEY_LOOKUP_PER_IP: "2/600" };
    const a = unknownKey();
    await expectProblem(await callWithConfig(limits, "me", { apiKey: a, ip }), 401, "unauthenticated");
    // Remembered as unknown, in KV, for every isolate.
    expect(await env.CACHE.get(`akn:${sha256Hex(a)}`)).not.toBeNull();
    // The same key again is answered from that memory: it does not spend the IP's lookups.
    await expectProblem(await callWithConfig(limits, "me", { apiKey: a, ip }), 401, "unauthenticated");
    await expectProblem(await callWithConfig(limits, "me", { apiKey: a, ip }), 401, "unauthenticated");
    await expectProblem(await callWithConfig(limits, "me", { apiKey: unknownKey(), ip }), 401, "unauthenticated");
    // The third distinct unknown key from this IP is refused before D1 is read.
    const limited = await callWithConfig(limits, "me", { apiKey: unknownKey(), ip });
    await expectProblem(limited.clone(), 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another IP still gets through.
    await expectProblem(await callWithConfig(limits, "me", { apiKey: unknownKey(), ip: randomIp() }), 401, "unauthenticated");
  });

  it("a known key still works from an IP whose unknown-key lookups are spent", async () => {
    const ip = randomIp();
    const limits = { RATE_API_KEY_LOOKUP_PER_IP: "1/600" };
    const { token } = await signedInUser();
    const created = await json<{ key: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["read:profile"] }, token }));
    expect((await callWithConfig(limits, "me", { apiKey: created.key, ip })).status).toBe(200);
    await expectProblem(await callWithConfig(limits, "me", { apiKey: unknownKey(), ip }), 429, "rate_limited");
    // Cached (isolate and KV): no lookup needed.
    expect((await callWithConfig(limits, "me", { apiKey: created.key, ip })).status).toBe(200);
  });
});

describe("API key rate limit cap", () => {
  it("rate_limit_per_hour above API_KEY_MAX_RATE_PER_HOUR → 422; at the cap → 201", async () => {
    const { token } = await signedInUser();
    const over = await call("me/api-keys", { body: { name: "k", scopes: ["read:profile"], rate_limit_per_hour: 100_001 }, token });
    const body = await expectProblem(over, 422, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("rate_limit_per_hour");
    expect((await call("me/api-keys", { body: { name: "k", scopes: ["read:profile"], rate_limit_per_hour: 100_000 }, token })).status).toBe(201);
    await expectProblem(
      await callWithConfig({ API_KEY_MAX_RATE_PER_HOUR: "500" }, "me/api-keys", { body: { name: "k", scopes: ["read:profile"], rate_limit_per_hour: 501 }, token }),
      422,
      "validation_failed",
    );
  });
});

describe("/health", () => {
  it("does not call the global Durable Object on every request", async () => {
    let calls = 0;
    const RATE_LIMITER = {
      idFromName: (name: string) => name,
      get: () => ({
        limit: async () => {
          calls++;
          return { allowed: true, remaining: 1, resetSeconds: 1, retryAfterSeconds: 0 };
        },
      }),
    };
    for (let i = 0; i < 3; i++) {
      const res = await callWithConfig({ RATE_LIMITER }, "/health");
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ status: "ok", checks: { d1: "ok", kv: "ok", durable_objects: "ok" } });
    }
    expect(calls).toBeLessThanOrEqual(1);
  });
});

describe("tender urls on ingest", () => {
  it("accepts https only (http only in development); javascript: and data: → 422", async () => {
    const admin = await tenderAdmin();
    const tender = (url: string) => ({ tenders: [{ external_id: unique("URL-"), title: "Bridge", url }] });
    for (const url of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://files.example/t.pdf"]) {
      const body = await expectProblem(await call("tenders", { body: tender(url), apiKey: admin.key }), 422, "validation_failed");
      expect(body.errors?.[0]?.path).toBe("tenders.0.url");
    }
    expect((await call("tenders", { body: tender("https://portal.example/t/1"), apiKey: admin.key })).status).toBe(200);
    // The suite runs as development: http is allowed there...
    expect((await call("tenders", { body: tender("http://portal.example/t/2"), apiKey: admin.key })).status).toBe(200);
    // ...and refused anywhere else.
    const prod = await callWithConfig({ ENVIRONMENT: "production" }, "tenders", { body: tender("http://portal.example/t/3"), apiKey: admin.key });
    const body = await expectProblem(prod, 422, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("tenders.0.url");
    expect((await callWithConfig({ ENVIRONMENT: "production" }, "tenders", { body: tender("https://portal.example/t/4"), apiKey: admin.key })).status).toBe(200);
  });
});
