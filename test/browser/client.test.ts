import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeelClient, type Tokens } from "../../clients/typescript/src/index";
import { startKeel, type KeelServer } from "./server";

// The typed client (clients/typescript, issue 18.8) against a real `wrangler dev` (no browser
// needed: it runs in this project because that is where keel is started for real). The webhook
// verifier and the stream's reconnects are covered in test/node/client.test.ts.

/** The pair from a login answer (a union: a second factor, or cookie mode, has no refresh token). */
function pairOf(data: unknown): Tokens {
  if (!data || typeof data !== "object" || !("refresh_token" in data) || !("access_token" in data)) throw new Error(`no token pair in ${JSON.stringify(data)}`);
  return { access_token: String(data.access_token), refresh_token: String(data.refresh_token) };
}

describe("the typed client against wrangler dev", () => {
  let keel: KeelServer;
  let tokens: Tokens;

  beforeAll(async () => {
    keel = await startKeel();
  }, 240_000);

  afterAll(async () => {
    await keel?.stop();
  }, 60_000);

  it("signs in and calls typed routes", async () => {
    const client = createKeelClient({ baseUrl: keel.base });
    const login = await client.POST("/api/v1/auth/login", { body: { email: "demo@keel.test", password: "keel-local-member-passphrase" } });
    expect(login.response.status, JSON.stringify(login.error)).toBe(200);
    tokens = pairOf(login.data);
    client.auth.setTokens(tokens);
    const me = await client.GET("/api/v1/me");
    expect(me.response.status).toBe(200);
    expect(me.data?.email).toBe("demo@keel.test");
    // A validation failure comes back typed as the problem body.
    const bad = await client.POST("/api/v1/me/favorites", { body: { tender_id: "" } });
    expect(bad.response.status).toBe(422);
    expect(bad.error).toMatchObject({ code: "validation_failed" });
  });

  it("concurrent 401s trigger ONE refresh (a second would spend a spent refresh token and revoke the session)", async () => {
    const seenTokens: Tokens[] = [];
    // An access token keel refuses, beside a live refresh token: as after the access token expired.
    const client = createKeelClient({ baseUrl: keel.base, tokens: { access_token: "expired.access.token", refresh_token: tokens.refresh_token }, onTokens: (t) => seenTokens.push(t) });
    const results = await Promise.all(Array.from({ length: 6 }, () => client.GET("/api/v1/me")));
    expect(results.map((r) => r.response.status)).toEqual(Array(6).fill(200));
    expect(client.auth.refreshCount).toBe(1);
    expect(seenTokens).toHaveLength(1);
    // The session is intact: the new refresh token still works (a reuse would have revoked it).
    const again = createKeelClient({ baseUrl: keel.base, tokens: { access_token: "expired.access.token", refresh_token: seenTokens[0]!.refresh_token } });
    expect((await again.GET("/api/v1/me")).response.status).toBe(200);
    expect(again.auth.refreshCount).toBe(1);
  });

  it("uses an organization API key through X-API-Key", async () => {
    const admin = createKeelClient({ baseUrl: keel.base });
    const login = await admin.POST("/api/v1/auth/login", { body: { email: "demo@keel.test", password: "keel-local-member-passphrase" } });
    admin.auth.setTokens(pairOf(login.data));
    const org = await admin.POST("/api/v1/orgs", { body: { name: "Typed client org" } });
    expect(org.response.status, JSON.stringify(org.error)).toBe(201);
    const created = await admin.POST("/api/v1/orgs/{id}/api-keys", { params: { path: { id: org.data!.id } }, body: { name: "typed", scopes: ["read:org", "read:members"] } });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    const integrator = createKeelClient({ baseUrl: keel.base, apiKey: created.data!.key });
    const read = await integrator.GET("/api/v1/orgs/{id}", { params: { path: { id: org.data!.id } } });
    expect(read.data?.name).toBe("Typed client org");
    const refused = await integrator.GET("/api/v1/me");
    expect(refused.response.status).toBe(403);
    expect(refused.error).toMatchObject({ code: "insufficient_scope" });
  });
});
