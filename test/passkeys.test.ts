import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditRows } from "./helpers/admin";
import { agePassword, setPasswordHash, setUserStatus } from "./helpers/fixtures";
import { oidcSignIn } from "./helpers/oidc";
import { call, callAt, callWithConfig, codeAt, enablingCode, eventually, expectProblem, json, movableClock, randomIp, signedInUser, waitForMail, type Tokens } from "./helpers/harness";
import { addPasskey, SoftAuthenticator, type PasskeyOut } from "./helpers/webauthn";

// Issue 16, point 1: passkeys. The authenticator is test/helpers/webauthn.ts (WebCrypto + CBOR by hand).

type Options = { challenge_id: string; challenge: string; rpId?: string; allowCredentials?: { id: string; transports?: string[] }[] };

async function loginOptions(body: { email?: string } = {}, extra: { token?: string; ip?: string } = {}): Promise<Options> {
  const res = await call("auth/passkeys/login/options", { body, ...extra });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<Options>(res);
}

const loginVerify = (body: Record<string, unknown>, ip = randomIp()) => call("auth/passkeys/login/verify", { body, ip });

/** A signed-in user with one passkey on a fresh authenticator. */
async function userWithPasskey(o: { name?: string } = {}) {
  const signed = await signedInUser();
  const authenticator = new SoftAuthenticator();
  const passkey = await addPasskey(signed.token, authenticator, o);
  return { ...signed, authenticator, passkey };
}

const now = () => Math.floor(Date.now() / 1000);

describe("registering and managing passkeys", () => {
  it("registers, lists, renames and removes a passkey; the user is emailed and every step is audited", async () => {
    const { user, token, authenticator, passkey } = await userWithPasskey({ name: "Laptop" });
    expect(passkey).toMatchObject({ name: "Laptop", last_used_at: null, backed_up: false, device_type: "singleDevice", transports: ["internal"] });
    expect(passkey.id).toMatch(/^pky_/);
    const mail = await waitForMail(user.email, "passkey_added");
    expect(mail.text).toContain("Laptop");

    const second = await addPasskey(token, authenticator, { backedUp: true });
    expect(second).toMatchObject({ name: "Synced passkey", backed_up: true, device_type: "multiDevice" });

    const list = await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token }));
    expect(list.items.map((p) => p.id)).toEqual([passkey.id, second.id]);
    expect(Object.keys(list.items[0]!).sort()).toEqual(["backed_up", "created_at", "device_type", "id", "last_used_at", "name", "transports"]);

    const renamed = await call(`me/passkeys/${passkey.id}`, { method: "PATCH", body: { name: "Work laptop" }, token });
    expect(renamed.status).toBe(200);
    expect((await json<PasskeyOut>(renamed)).name).toBe("Work laptop");

    expect((await call(`me/passkeys/${passkey.id}`, { method: "DELETE", token })).status).toBe(204);
    expect((await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token }))).items.map((p) => p.id)).toEqual([second.id]);
    expect((await auditRows(user.id, "auth.passkey_added")).length).toBe(2);
    expect((await auditRows(user.id, "auth.passkey_renamed")).length).toBe(1);
    expect((await auditRows(user.id, "auth.passkey_removed")).length).toBe(1);
  });

  it("the same credential cannot be registered twice, by anyone; the options exclude the user's passkeys; at most MAX_PASSKEYS_PER_USER", async () => {
    const { token, passkey, authenticator } = await userWithPasskey();
    const credential = authenticator.credentials[0]!;
    const other = await signedInUser();
    for (const who of [token, other.token]) {
      const again = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(await call("auth/passkeys/register/options", { method: "POST", token: who }));
      const response = await authenticator.create(again, { again: credential });
      await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: again.challenge_id, response }, token: who }), 409, "conflict");
    }
    expect((await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token: other.token }))).items).toEqual([]);

    const limited = { MAX_PASSKEYS_PER_USER: "1" };
    const third = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(await callWithConfig(limited, "auth/passkeys/register/options", { method: "POST", token }));
    const response = await new SoftAuthenticator().create(third);
    await expectProblem(await callWithConfig(limited, "auth/passkeys/register/verify", { body: { challenge_id: third.challenge_id, response }, token }), 409, "limit_reached");

    const res = await call("auth/passkeys/register/options", { method: "POST", token });
    const opts = await json<{ excludeCredentials: { id: string }[]; authenticatorSelection: Record<string, string>; rp: { id: string } }>(res);
    expect(opts.rp.id).toBe("localhost");
    expect(opts.authenticatorSelection).toMatchObject({ residentKey: "preferred", userVerification: "preferred" });
    const list = await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token }));
    expect(opts.excludeCredentials).toHaveLength(1);
    expect(list.items[0]!.id).toBe(passkey.id);
  });

  it("a registration challenge answers once, only for its user, and not with a wrong origin", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const authenticator = new SoftAuthenticator();
    const opts = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(await call("auth/passkeys/register/options", { method: "POST", token: a.token }));
    const response = await authenticator.create(opts);
    // B cannot spend A's challenge (and does not burn it).
    await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: opts.challenge_id, response }, token: b.token }), 422, "validation_failed");
    expect((await call("auth/passkeys/register/verify", { body: { challenge_id: opts.challenge_id, response }, token: a.token })).status).toBe(201);
    await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: opts.challenge_id, response }, token: a.token }), 422, "validation_failed");

    const again = await json<typeof opts>(await call("auth/passkeys/register/options", { method: "POST", token: a.token }));
    const foreign = await authenticator.create(again, { origin: "https://evil.example" });
    await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: again.challenge_id, response: foreign }, token: a.token }), 422, "validation_failed");
  });

  it("removing the last way to sign in is refused: no password and one passkey", async () => {
    const { user, token, authenticator, passkey } = await userWithPasskey();
    const second = await addPasskey(token, authenticator);
    await setPasswordHash(user.id, "!no-password");
    expect((await call(`me/passkeys/${second.id}`, { method: "DELETE", token })).status).toBe(204);
    await expectProblem(await call(`me/passkeys/${passkey.id}`, { method: "DELETE", token }), 409, "conflict");
    expect((await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token }))).items.map((p) => p.id)).toEqual([passkey.id]);
    expect((await auditRows(user.id, "auth.passkey_removed")).length).toBe(1);
  });

  it("adding or removing a passkey needs a recent authentication (401 reauthentication_required), then works after a step-up", async () => {
    const clock = movableClock();
    const { user, token, authenticator, passkey } = await userWithPasskey();
    await addPasskey(token, authenticator);
    const signIn = await callAt(clock, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    const stale = (await json<Tokens>(signIn)).access_token;
    clock.advance(11 * 60_000);
    await expectProblem(await callAt(clock, "auth/passkeys/register/options", { method: "POST", token: stale }), 401, "reauthentication_required");
    await expectProblem(await callAt(clock, `me/passkeys/${passkey.id}`, { method: "DELETE", token: stale }), 401, "reauthentication_required");
    // Listing and renaming are not sensitive.
    expect((await callAt(clock, "me/passkeys", { token: stale })).status).toBe(200);
    expect((await callAt(clock, `me/passkeys/${passkey.id}`, { method: "PATCH", body: { name: "Laptop" }, token: stale })).status).toBe(200);
    const stepped = await callAt(clock, "auth/reauthenticate", { body: { password: user.password }, token: stale, ip: randomIp() });
    expect(stepped.status, await stepped.clone().text()).toBe(200);
    const fresh = (await json<Tokens>(stepped)).access_token;
    expect((await callAt(clock, "auth/passkeys/register/options", { method: "POST", token: fresh })).status).toBe(200);
    expect((await callAt(clock, `me/passkeys/${passkey.id}`, { method: "DELETE", token: fresh })).status).toBe(204);
  });

  it("one rule for the last way to sign in (password, passkeys, linked identities): a passwordless user with a passkey and an identity may remove either, not both", async () => {
    for (const first of ["passkey", "identity"] as const) {
      const social = await oidcSignIn();
      const authenticator = new SoftAuthenticator();
      const passkey = await addPasskey(social.access_token, authenticator);
      const [identity] = (await json<{ items: { id: string }[] }>(await call("me/identities", { token: social.access_token }))).items;
      const removePasskey = () => call(`me/passkeys/${passkey.id}`, { method: "DELETE", token: social.access_token });
      const unlink = () => call(`me/identities/${identity!.id}`, { method: "DELETE", token: social.access_token });
      if (first === "passkey") {
        expect((await removePasskey()).status).toBe(204);
        await expectProblem(await unlink(), 409, "conflict");
      } else {
        expect((await unlink()).status).toBe(204);
        await expectProblem(await removePasskey(), 409, "conflict");
      }
    }
  });

  it("a passwordless user never gets password_expired (PASSWORD_MAX_AGE_DAYS), with a session or an API key", async () => {
    const policy = { PASSWORD_MAX_AGE_DAYS: "90" };
    const { user, token, authenticator } = await userWithPasskey();
    const key = await json<{ key: string }>(await call("me/api-keys", { body: { name: "ro", scopes: ["read:alerts"] }, token }));
    await setPasswordHash(user.id, "!no-password");
    await agePassword(user.id, 400);
    const opts = await json<Options>(await callWithConfig(policy, "auth/passkeys/login/options", { body: {}, ip: randomIp() }));
    const res = await callWithConfig(policy, "auth/passkeys/login/verify", { body: { challenge_id: opts.challenge_id, response: await authenticator.get(opts) }, ip: randomIp() });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = await json<Tokens>(res);
    expect(tokens.password_expired).toBe(false);
    expect((await callWithConfig(policy, "me", { token: tokens.access_token })).status).toBe(200);
    const viaKey = await callWithConfig(policy, "me/alerts", { apiKey: key.key });
    expect(viaKey.status, await viaKey.clone().text()).toBe(200);
  });

  it("another user's passkey id answers 404, like a missing one", async () => {
    const { passkey } = await userWithPasskey();
    const other = await signedInUser();
    for (const id of [passkey.id, "pky_missing"]) {
      await expectProblem(await call(`me/passkeys/${id}`, { method: "PATCH", body: { name: "mine" }, token: other.token }), 404, "not_found");
      await expectProblem(await call(`me/passkeys/${id}`, { method: "DELETE", token: other.token }), 404, "not_found");
    }
  });
});

describe("signing in with a passkey", () => {
  it("usernameless: options without an email allow any discoverable credential, and the assertion signs in", async () => {
    const { user, authenticator, passkey } = await userWithPasskey();
    const opts = await loginOptions();
    expect(opts.allowCredentials ?? []).toEqual([]);
    expect(opts.rpId).toBe("localhost");
    const res = await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts), device_name: "Phone" });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = await json<Tokens & { device_token: string }>(res);
    expect(tokens.user.id).toBe(user.id);
    expect(tokens.device_token).toMatch(/^dv2\./);
    expect((await call("me", { token: tokens.access_token })).status).toBe(200);
    const logins = await auditRows(user.id, "auth.login_succeeded");
    expect(JSON.parse(logins.at(-1)!.details as string)).toMatchObject({ method: "passkey" });
    const [listed] = (await json<{ items: PasskeyOut[] }>(await call("me/passkeys", { token: tokens.access_token }))).items;
    expect(listed!.id).toBe(passkey.id);
    expect(listed!.last_used_at).not.toBeNull();
  });

  it("by email: the account's passkeys are offered; an unknown email gets the same shape, stable per email", async () => {
    const { user, authenticator, passkey } = await userWithPasskey();
    const opts = await loginOptions({ email: user.email });
    expect(opts.allowCredentials).toHaveLength(1);
    const stranger = `nobody-${Date.now()}@example.com`;
    const unknown1 = await loginOptions({ email: stranger });
    const unknown2 = await loginOptions({ email: stranger });
    expect(Object.keys(unknown1).sort()).toEqual(Object.keys(opts).sort());
    expect(unknown1.allowCredentials).toHaveLength(1);
    expect(unknown1.allowCredentials![0]!.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(unknown2.allowCredentials).toEqual(unknown1.allowCredentials);
    expect(opts.allowCredentials![0]!.id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const res = await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts) });
    expect(res.status).toBe(200);
    expect((await json<Tokens>(res)).user.id).toBe(user.id);
    void passkey;
  });

  it("with user verification the passkey counts as two factors (no TOTP step); without it, TOTP is asked", async () => {
    const { token, authenticator } = await userWithPasskey();
    const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    expect((await call("auth/mfa/totp/enable", { body: { code: await enablingCode(secret) }, token })).status).toBe(200);

    const uv = await loginOptions();
    const signedIn = await loginVerify({ challenge_id: uv.challenge_id, response: await authenticator.get(uv) });
    expect(signedIn.status).toBe(200);
    expect(await json(signedIn)).toHaveProperty("access_token");

    const noUv = await loginOptions();
    const stepped = await loginVerify({ challenge_id: noUv.challenge_id, response: await authenticator.get(noUv, { uv: false }) });
    expect(stepped.status).toBe(200);
    const body = await json<{ mfa_required: boolean; mfa_token: string }>(stepped);
    expect(body.mfa_required).toBe(true);
    const verified = await call("auth/mfa/verify", { body: { mfa_token: body.mfa_token, code: await codeAt(secret, now()) } });
    expect(verified.status).toBe(200);
  });

  it("a challenge answers once: the replayed assertion is refused", async () => {
    const { authenticator } = await userWithPasskey();
    const opts = await loginOptions();
    const response = await authenticator.get(opts);
    expect((await loginVerify({ challenge_id: opts.challenge_id, response })).status).toBe(200);
    await expectProblem(await loginVerify({ challenge_id: opts.challenge_id, response }), 401, "invalid_credentials");
  });

  it("a challenge expires after 5 minutes", async () => {
    const { authenticator } = await userWithPasskey();
    const clock = movableClock();
    const ip = randomIp();
    const opts = await json<Options>(await callAt(clock, "auth/passkeys/login/options", { body: {}, ip }));
    const response = await authenticator.get(opts);
    clock.advance(5 * 60_000 + 1000);
    await expectProblem(await callAt(clock, "auth/passkeys/login/verify", { body: { challenge_id: opts.challenge_id, response }, ip }), 401, "invalid_credentials");

    const fresh = await json<Options>(await callAt(clock, "auth/passkeys/login/options", { body: {}, ip }));
    const ok = await authenticator.get(fresh);
    clock.advance(4 * 60_000);
    expect((await callAt(clock, "auth/passkeys/login/verify", { body: { challenge_id: fresh.challenge_id, response: ok }, ip })).status).toBe(200);
  });

  it("a challenge of the other ceremony is refused both ways", async () => {
    const { token, authenticator } = await userWithPasskey();
    const reg = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(await call("auth/passkeys/register/options", { method: "POST", token }));
    await expectProblem(await loginVerify({ challenge_id: reg.challenge_id, response: await authenticator.get({ challenge: reg.challenge }) }), 401, "invalid_credentials");

    const login = await loginOptions();
    const response = await new SoftAuthenticator().create({ challenge: login.challenge, rp: { id: "localhost" }, user: { id: "dXNy" } });
    await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: login.challenge_id, response }, token }), 422, "validation_failed");
  });

  it("a wrong origin, a wrong RP ID or a forged signature is refused, and audited", async () => {
    const { user, authenticator } = await userWithPasskey();
    const other = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    for (const o of [{ origin: "https://evil.example" }, { rpId: "evil.example" }, { signWith: other.privateKey }]) {
      const opts = await loginOptions();
      await expectProblem(await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts, o) }), 401, "invalid_credentials");
    }
    await eventually(async () => expect(await auditRows(user.id, "auth.passkey_login_failed")).toHaveLength(3));
    // The real thing still works afterwards.
    const opts = await loginOptions();
    expect((await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts) })).status).toBe(200);
  });

  it("the account's state is told only after a valid assertion: a suspended account gets 403", async () => {
    const { user, authenticator } = await userWithPasskey();
    await setUserStatus(user.id, "suspended");
    const opts = await loginOptions();
    await expectProblem(await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts) }), 403, "account_inactive");
    const other = await loginOptions();
    await expectProblem(await loginVerify({ challenge_id: other.challenge_id, response: await authenticator.get(other, { origin: "https://evil.example" }) }), 401, "invalid_credentials");
  });

  it("a signature counter that went backwards is refused and audited", async () => {
    const { user, authenticator } = await userWithPasskey();
    const first = await loginOptions();
    expect((await loginVerify({ challenge_id: first.challenge_id, response: await authenticator.get(first, { counter: 7 }) })).status).toBe(200);
    for (const counter of [3, 7]) {
      const opts = await loginOptions();
      await expectProblem(await loginVerify({ challenge_id: opts.challenge_id, response: await authenticator.get(opts, { counter }) }), 401, "invalid_credentials");
    }
    const rows = await auditRows(user.id, "auth.passkey_counter_regressed");
    expect(rows).toHaveLength(2);
    expect(JSON.parse(rows[0]!.details as string)).toMatchObject({ stored: 7, received: 3 });
    const stored = await env.DB.prepare("SELECT counter FROM passkeys WHERE user_id = ?").bind(user.id).first<{ counter: number }>();
    expect(stored!.counter).toBe(7);
    const next = await loginOptions();
    expect((await loginVerify({ challenge_id: next.challenge_id, response: await authenticator.get(next, { counter: 8 }) })).status).toBe(200);
  });

  it("options asked with a bearer token are bound to that user: another user's passkey cannot answer them", async () => {
    const a = await userWithPasskey();
    const b = await userWithPasskey();
    const bound = await loginOptions({}, { token: a.token });
    expect(bound.allowCredentials).toHaveLength(1);
    await expectProblem(await loginVerify({ challenge_id: bound.challenge_id, response: await b.authenticator.get({ challenge: bound.challenge }) }), 401, "invalid_credentials");
    const again = await loginOptions({}, { token: a.token });
    expect((await loginVerify({ challenge_id: again.challenge_id, response: await a.authenticator.get(again) })).status).toBe(200);
  });

  it("an unknown credential and malformed input are refused without a 500", async () => {
    const opts = await loginOptions();
    const stranger = new SoftAuthenticator();
    await stranger.create({ challenge: "x", rp: { id: "localhost" }, user: { id: "dXNy" } });
    await expectProblem(await loginVerify({ challenge_id: opts.challenge_id, response: await stranger.get(opts) }), 401, "invalid_credentials");
    await expectProblem(await loginVerify({ challenge_id: "x".repeat(43), response: { id: "a", rawId: "a", type: "public-key", response: {} } }), 401, "invalid_credentials");
    await expectProblem(await loginVerify({ challenge_id: "short", response: {} }), 422, "validation_failed");
  });

  it("the public ceremony routes are limited per IP before any work (429)", async () => {
    const ip = randomIp();
    const limited = { RATE_PASSKEY_PER_IP: "2/600" };
    expect((await callWithConfig(limited, "auth/passkeys/login/options", { body: {}, ip })).status).toBe(200);
    const opts = await json<Options>(await callWithConfig(limited, "auth/passkeys/login/options", { body: {}, ip }));
    await expectProblem(await callWithConfig(limited, "auth/passkeys/login/options", { body: {}, ip }), 429, "rate_limited");
    await expectProblem(await callWithConfig(limited, "auth/passkeys/login/verify", { body: { challenge_id: opts.challenge_id, response: { id: "a", rawId: "a", type: "public-key", response: {} } }, ip }), 429, "rate_limited");
    expect((await callWithConfig(limited, "auth/passkeys/login/options", { body: {}, ip: randomIp() })).status).toBe(200);
  });
});
