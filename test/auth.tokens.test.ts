import { env } from "cloudflare:workers";
import { importJWK, SignJWT, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { publishUserBlocked } from "../src/platform/revocation";
import { expireRefreshTokens, setSessionCreatedAt, setUserStatus } from "./helpers/fixtures";
import { call, createUser, expectProblem, json, login, signedInUser, type Tokens } from "./helpers/harness";

const refresh = (refresh_token: string) => call("auth/refresh", { body: { refresh_token } });

async function signWithTestKey(claims: Record<string, unknown>, opts: { exp: number; kid?: string }) {
  const jwk = (JSON.parse(env.JWT_SIGNING_KEYS as string) as Record<string, string>[])[0]!;
  const key = await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: opts.kid ?? jwk.kid!, typ: "at+jwt" })
    .setIssuer("keel")
    .setAudience("keel")
    .setIssuedAt(opts.exp - 900)
    .setExpirationTime(opts.exp)
    .sign(key);
}

describe("refresh tokens", () => {
  it("rotate on every use: a new pair, and the old refresh token is spent", async () => {
    const { tokens } = await signedInUser();
    const res = await refresh(tokens.refresh_token);
    expect(res.status).toBe(200);
    const next = await json<Tokens>(res);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.session_id).toBe(tokens.session_id);
    expect((await call("me", { token: next.access_token })).status).toBe(200);
    // Stored as hashes only.
    const rows = await env.DB.prepare("SELECT token_hash FROM refresh_tokens WHERE session_id = ?").bind(tokens.session_id).all<{ token_hash: string }>();
    expect(rows.results.map((r) => r.token_hash)).not.toContain(tokens.refresh_token);
    expect(rows.results).toHaveLength(2);
  });

  it("presenting a spent token → 401 token_reused and the whole session is revoked", async () => {
    const { user, tokens } = await signedInUser();
    const next = await json<Tokens>(await refresh(tokens.refresh_token));
    await expectProblem(await refresh(tokens.refresh_token), 401, "token_reused");
    // The thief's (or the client's) newer tokens die with the session.
    await expectProblem(await refresh(next.refresh_token), 401, "unauthenticated");
    await expectProblem(await call("me", { token: next.access_token }), 401, "unauthenticated");
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'auth.refresh_reused'").bind(user.id).first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("two concurrent refreshes with the same token: exactly one wins", async () => {
    const { tokens } = await signedInUser();
    const results = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token), refresh(tokens.refresh_token)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401]);
  });

  // Issue 10, point 9: an absolute session lifetime (SESSION_MAX_DAYS, 90) that refreshing cannot extend.
  it("a session older than SESSION_MAX_DAYS cannot be refreshed, however recently it was used; refreshes never push expiry past it", async () => {
    const { tokens } = await signedInUser();
    const day = 86_400_000;
    // Started 89 days ago: a refresh works, but the session now ends at day 90, not 30 days from now.
    const createdAt = Date.now() - 89 * day;
    await setSessionCreatedAt(tokens.session_id, createdAt);
    const res = await refresh(tokens.refresh_token);
    expect(res.status).toBe(200);
    const next = await json<Tokens>(res);
    const row = await env.DB.prepare("SELECT expires_at FROM sessions WHERE id = ?").bind(tokens.session_id).first<{ expires_at: number }>();
    expect(row!.expires_at).toBe(createdAt + 90 * day);
    const rt = await env.DB.prepare("SELECT expires_at AS e FROM refresh_tokens WHERE session_id = ? AND used_at IS NULL").bind(tokens.session_id).first<{ e: number }>();
    expect(rt!.e).toBe(createdAt + 90 * day);

    // A day later it is past its lifetime: even a fresh refresh token is refused.
    await setSessionCreatedAt(tokens.session_id, Date.now() - 91 * day);
    await expectProblem(await refresh(next.refresh_token), 401, "unauthenticated");
  });

  it("an expired refresh token → 401 token_expired; an unknown one → 401 unauthenticated", async () => {
    const { tokens } = await signedInUser();
    await expireRefreshTokens(tokens.session_id);
    await expectProblem(await refresh(tokens.refresh_token), 401, "token_expired");
    await expectProblem(await refresh("A".repeat(43)), 401, "unauthenticated");
  });
});

describe("access tokens", () => {
  it("an expired access token → 401 token_expired", async () => {
    const { tokens } = await signedInUser();
    const expired = await signWithTestKey({ sub: tokens.user.id, sid: tokens.session_id }, { exp: Math.floor(Date.now() / 1000) - 10 });
    await expectProblem(await call("me", { token: expired }), 401, "token_expired");
  });

  it("a token signed by another key, or with an unknown kid, → 401 unauthenticated", async () => {
    const { tokens } = await signedInUser();
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ sid: tokens.session_id })
      .setProtectedHeader({ alg: "EdDSA", kid: "test-key", typ: "at+jwt" })
      .setSubject(tokens.user.id).setIssuer("keel").setAudience("keel").setIssuedAt().setExpirationTime("5m")
      .sign(privateKey);
    await expectProblem(await call("me", { token: forged }), 401, "unauthenticated");
    const unknownKid = await signWithTestKey({ sub: tokens.user.id, sid: tokens.session_id }, { exp: Math.floor(Date.now() / 1000) + 60, kid: "other" });
    await expectProblem(await call("me", { token: unknownKid }), 401, "unauthenticated");
  });

  it("a deactivated user's tokens are refused at once (403 account_inactive)", async () => {
    const { user, token } = await signedInUser();
    await setUserStatus(user.id, "inactive");
    await publishUserBlocked(env, user.id, "inactive");
    await expectProblem(await call("me", { token }), 403, "account_inactive");
    expect(await env.CACHE.get(`ub:${user.id}`)).toBe("inactive");
    await publishUserBlocked(env, user.id, null);
  });
});

describe("logout and sessions", () => {
  it("logout ends the current session: its access and refresh tokens stop working at once", async () => {
    const { tokens, token } = await signedInUser();
    const res = await call("auth/logout", { method: "POST", token });
    expect(res.status).toBe(204);
    await expectProblem(await call("me", { token }), 401, "unauthenticated");
    await expectProblem(await refresh(tokens.refresh_token), 401, "unauthenticated");
    // Published to KV for the other locations, with a TTL covering the access token's life.
    expect(await env.CACHE.get(`rs:${tokens.session_id}`)).toBe("1");
  });

  it("logout-all ends every session of the user", async () => {
    const user = await createUser();
    const a = await login(user);
    const b = await login(user);
    expect((await call("auth/logout-all", { method: "POST", token: a.access_token })).status).toBe(204);
    await expectProblem(await call("me", { token: a.access_token }), 401, "unauthenticated");
    await expectProblem(await call("me", { token: b.access_token }), 401, "unauthenticated");
    await expectProblem(await refresh(b.refresh_token), 401, "unauthenticated");
  });

  it("GET /me/sessions lists live sessions with device details and marks the current one", async () => {
    const user = await createUser();
    const a = await login(user, { device_name: "Work laptop" });
    const b = await login(user, { device_name: "Phone", headers: { "User-Agent": "Phone/1.0" } });
    const res = await call("me/sessions", { token: a.access_token });
    expect(res.status).toBe(200);
    const { items } = await json<{ items: Record<string, unknown>[] }>(res);
    expect(items.map((s) => s.id).sort()).toEqual([a.session_id, b.session_id].sort());
    const current = items.find((s) => s.current)!;
    expect(current).toMatchObject({ id: a.session_id, device_name: "Work laptop", ip_address: user.ip, user_agent: "keel-tests/1.0" });
    expect(items.find((s) => s.id === b.session_id)).toMatchObject({ device_name: "Phone", user_agent: "Phone/1.0", current: false });
    for (const s of items) for (const k of ["created_at", "last_used_at", "expires_at"]) expect(Date.parse(s[k] as string)).not.toBeNaN();
  });

  it("DELETE /me/sessions/{id} ends that session; another user's session id is 404 like a missing one", async () => {
    const user = await createUser();
    const a = await login(user);
    const b = await login(user);
    const other = await signedInUser();
    const foreign = await call(`me/sessions/${other.tokens.session_id}`, { method: "DELETE", token: a.access_token });
    const missing = await call("me/sessions/ses_doesnotexist", { method: "DELETE", token: a.access_token });
    const f = await expectProblem(foreign, 404, "not_found");
    const m = await expectProblem(missing, 404, "not_found");
    expect({ ...f, request_id: 0, instance: 0 }).toEqual({ ...m, request_id: 0, instance: 0 });
    expect((await call("me", { token: other.token })).status).toBe(200);

    expect((await call(`me/sessions/${b.session_id}`, { method: "DELETE", token: a.access_token })).status).toBe(204);
    await expectProblem(await call("me", { token: b.access_token }), 401, "unauthenticated");
    expect((await call("me", { token: a.access_token })).status).toBe(200);
  });
});
