import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AttemptRequest, AttemptResult, SignInGuard } from "../src/durable-objects/sign-in-guard";
import { loginGuardKey } from "../src/features/auth/login.service";
import { call, callAt, callWithConfig, createUser, eventually, movableClock, randomIp, unique } from "./helpers/harness";

// Issue 20, point 2: a password sign-in that opens a session tells the email's guard of its
// success through D1 (the reservation's `seq` on the user, read back by the next sign-in's
// lookup) instead of a `succeed()` call of its own after the response.

const stubFor = (key: string) => env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(key));
const request = (settled?: number): AttemptRequest => ({ now: Date.now(), threshold: 5, lockMs: 60_000, ...(settled !== undefined ? { settled } : {}) });
const reserved = (r: AttemptResult) => {
  if (r.kind !== "reserved") throw new Error(`expected a reservation, got ${r.kind}`);
  return r;
};
const guardOf = (email: string) =>
  runInDurableObject(stubFor(loginGuardKey(email)), async (instance: SignInGuard) => {
    const s = (instance as unknown as { state: { failures: number; lockedUntil: number; pending?: number[] } }).state;
    return { failures: s.failures, lockedUntil: s.lockedUntil, pending: s.pending ?? [] };
  });
const settledOf = async (userId: string) => (await env.DB.prepare("SELECT sign_in_settled AS s FROM users WHERE id = ?").bind(userId).first<{ s: number | null }>())?.s ?? null;

describe("SignInGuard: `settled` forgives a reservation that succeeded, and every one before it", () => {
  it("forgives up to the settled reservation; the attempts after it still count", async () => {
    const stub = stubFor(unique("settle"));
    const r1 = reserved(await stub.attempt(request()));
    const r2 = reserved(await stub.attempt(request()));
    reserved(await stub.attempt(request()));
    expect(r2.seq).toBeGreaterThan(r1.seq);
    // r2 succeeded: r1 and r2 are forgiven, r3 still counts, and this attempt is the second.
    expect(reserved(await stub.attempt(request(r2.seq))).failures).toBe(2);
    // Told again (every later lookup reads the same value): nothing more is forgiven.
    expect(reserved(await stub.attempt(request(r2.seq))).failures).toBe(3);
  });

  it("ignores a number that is not one of its counted reservations (another guard's, or one already forgiven)", async () => {
    const other = reserved(await stubFor(unique("settle")).attempt(request()));
    const stub = stubFor(unique("settle"));
    reserved(await stub.attempt(request()));
    expect(reserved(await stub.attempt(request(other.seq))).failures).toBe(2);
    expect(reserved(await stub.attempt(request(other.seq + 1))).failures).toBe(3);
  });

  it("lifts the lock the successful attempt set; the attempts after a success count on from it", async () => {
    const stub = stubFor(unique("settle"));
    for (let i = 0; i < 4; i++) reserved(await stub.attempt(request()));
    const fifth = reserved(await stub.attempt(request()));
    expect(fifth.locking).toBe(true);
    expect((await stub.attempt(request())).kind).toBe("locked");
    // The fifth was the right password: told so, the lock is gone and the count is this attempt.
    expect(reserved(await stub.attempt(request(fifth.seq)))).toMatchObject({ failures: 1, locking: false });

    // A success, then 4 attempts before it is told (they lock: 5 counted). Told, the lock goes,
    // and the next attempt is the 5th failure since that success: it locks again.
    const stub2 = stubFor(unique("settle"));
    const ok = reserved(await stub2.attempt(request()));
    for (let i = 0; i < 4; i++) reserved(await stub2.attempt(request()));
    expect((await stub2.attempt(request())).kind).toBe("locked");
    expect(reserved(await stub2.attempt(request(ok.seq)))).toMatchObject({ failures: 5, locking: true });
  });
});

describe("POST /auth/login tells the email's guard of a success through D1, not by a call of its own", () => {
  it("records the reservation with the session; the guard still counts it until the next sign-in's lookup tells it", async () => {
    const user = await createUser();
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    const seq = await settledOf(user.id);
    expect(seq).not.toBeNull();
    // No succeed() call follows the response: the guard still counts the attempt (as it would
    // until such a call landed), and only that one.
    await new Promise((r) => setTimeout(r, 50));
    expect(await guardOf(user.email)).toMatchObject({ failures: 1, pending: [seq] });
    // The next attempt (a wrong password here) brings the success along: it alone counts.
    expect((await call("auth/login", { body: { email: user.email, password: "not-the-password-at-all" }, ip: randomIp() })).status).toBe(401);
    expect((await guardOf(user.email)).failures).toBe(1);
  });

  it("successes never add up: after 8 sign-ins (some at once), 4 wrong passwords answer 401 and the 5th locks", async () => {
    const user = await createUser();
    const roomy = { RATE_LOGIN_PER_EMAIL: "100/900" };
    const right = () => callWithConfig(roomy, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() });
    const wrong = () => callWithConfig(roomy, "auth/login", { body: { email: user.email, password: "definitely-not-it-1" }, ip: randomIp() });
    for (let i = 0; i < 5; i++) expect((await right()).status).toBe(200);
    expect((await Promise.all([right(), right(), right()])).map((r) => r.status)).toEqual([200, 200, 200]);
    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(423);
  });

  it("the right password as the 5th attempt (the one that set the lock) lifts it for the next sign-in", async () => {
    const user = await createUser();
    for (let i = 0; i < 4; i++) expect((await call("auth/login", { body: { email: user.email, password: `wrong-${i}-password` }, ip: randomIp() })).status).toBe(401);
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    expect((await call("auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    // And the count started again: 4 wrong answers later, still 401.
    for (let i = 0; i < 4; i++) expect((await call("auth/login", { body: { email: user.email, password: `wrong-${i}-again` }, ip: randomIp() })).status).toBe(401);
    await eventually(async () => expect((await guardOf(user.email)).lockedUntil).toBe(0));
  });
});

// Issue 20, point 2: a sign-in from a device seen in the last day writes no device row; the
// device's last_seen_at is kept to the day (it is read by nothing but the data export).
describe("POST /auth/login: the device row", () => {
  const lastSeen = async (userId: string) =>
    (await env.DB.prepare("SELECT first_seen_at AS first, last_seen_at AS last FROM user_devices WHERE user_id = ?").bind(userId).all<{ first: number; last: number }>()).results;

  it("is written on the first sign-in from a device, left alone within a day, and moved after a day", async () => {
    const user = await createUser();
    const clock = movableClock();
    const signIn = async () => expect((await callAt(clock, "auth/login", { body: { email: user.email, password: user.password }, ip: randomIp() })).status).toBe(200);
    await signIn();
    const [first] = await lastSeen(user.id);
    expect(first).toBeDefined();
    clock.advance(23 * 3_600_000);
    await signIn();
    expect(await lastSeen(user.id)).toEqual([first]);
    clock.advance(2 * 3_600_000);
    await signIn();
    expect(await lastSeen(user.id)).toEqual([{ first: first!.first, last: clock.now().getTime() }]);
  });
});
