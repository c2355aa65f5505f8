import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AttemptRequest, SignInGuard } from "../src/durable-objects/sign-in-guard";
import { AppError } from "../src/platform/errors";
import { reserveAttemptAfter } from "../src/platform/sign-in-guard-client";
import { unique } from "./helpers/harness";

const stubFor = (key: string) => env.SIGN_IN_GUARD.get(env.SIGN_IN_GUARD.idFromName(key));
const request = (now = Date.now()): AttemptRequest => ({ now, threshold: 5, lockMs: 60_000, rate: { limit: 10, windowSeconds: 900 } });

interface GuardState {
  tat?: number;
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}
const stateOf = (key: string) =>
  runInDurableObject(stubFor(key), async (instance: SignInGuard, s) => ({
    memory: (instance as unknown as { state: GuardState }).state,
    stored: await s.storage.get<GuardState>("state"),
    alarm: await s.storage.getAlarm(),
  }));

describe("reserveAttemptAfter (login: the per-IP limit beside the user lookup, then the email's guard)", () => {
  it("reserves the attempt once admitted, and hands back the lookup's result", async () => {
    const key = unique("guard");
    const [reservation, looked] = await reserveAttemptAfter(env, key, Promise.resolve(), request(), Promise.resolve("the user"), () => undefined);
    expect(reservation).toMatchObject({ kind: "reserved", failures: 1, locking: false });
    expect(looked).toBe("the user");
    expect((await stateOf(key)).stored?.failures).toBe(1);
  });

  it("a caller refused before the guard spends nothing of its budget: the guard is never asked", async () => {
    const key = unique("guard");
    const refused = new AppError("rate_limited", "per IP");
    const err = await reserveAttemptAfter(env, key, Promise.reject(refused), request(), Promise.resolve("the user"), () => undefined).catch((e: unknown) => e);
    expect(err).toBe(refused);
    const { memory, stored } = await stateOf(key);
    expect(stored).toBeUndefined();
    expect(memory.failures).toBe(0);
    expect(memory.tat).toBeUndefined();
  });

  it("when the lookup fails, no attempt is reserved (it was never judged)", async () => {
    const key = unique("guard");
    // One judged failure first, so "nothing reserved" is visible as 1, not a fresh 0.
    await reserveAttemptAfter(env, key, Promise.resolve(), request(), Promise.resolve(null), () => undefined);
    const lookupFailed = new Error("D1 unavailable");
    const err = await reserveAttemptAfter(env, key, Promise.resolve(), request(), Promise.reject(lookupFailed), () => undefined).catch((e: unknown) => e);
    expect(err).toBe(lookupFailed);
    expect((await stateOf(key)).stored?.failures).toBe(1);
  });
});

describe("SignInGuard storage cleanup", () => {
  it("schedules one cleanup alarm and does not move it on every attempt; the alarm keeps what is still needed", async () => {
    const key = unique("guard");
    const stub = stubFor(key);
    const at = Date.now();
    await stub.attempt(request(at));
    const first = await stateOf(key);
    expect(first.alarm).toBeGreaterThan(Date.now());
    // Later attempts: the guard's time is the request's `now`, so time passes without waiting.
    await stub.attempt(request(at + 20));
    await stub.attempt(request(at + 20));
    const later = await stateOf(key);
    expect(later.alarm).toBe(first.alarm);
    expect(later.stored?.failures).toBe(3);

    // Fired early (as an older alarm would be), while the failures still count: nothing is
    // deleted and the alarm moves to when they are forgotten.
    await runDurableObjectAlarm(stub);
    const kept = await stateOf(key);
    expect(kept.stored?.failures).toBe(3);
    expect(kept.alarm).toBeGreaterThan(Date.now());
  });

  it("deletes the storage once nothing is left to remember", async () => {
    const key = unique("guard");
    const stub = stubFor(key);
    await stub.attempt({ ...request(), rate: undefined });
    await stub.succeed();
    // The count was reset; make the last failure old enough to be forgotten.
    await runInDurableObject(stub, (instance: SignInGuard) => {
      (instance as unknown as { state: GuardState }).state.lastFailureAt = Date.now() - 86_400_001;
    });
    await runDurableObjectAlarm(stub);
    const { stored, alarm } = await stateOf(key);
    expect(stored).toBeUndefined();
    expect(alarm).toBeNull();
  });
});

// Issue 14, points 13 and 7.
describe("SignInGuard growing locks and waits", () => {
  it("wait() tells how long an attempt would be refused (lock and rate), spending nothing", async () => {
    const key = unique("guard");
    const stub = stubFor(key);
    const rate = { limit: 2, windowSeconds: 600 };
    const now = Date.now();
    expect(await stub.wait({ now, rate })).toBe(0);
    await stub.attempt({ now, threshold: 2, lockMs: 60_000, rate });
    expect(await stub.wait({ now, rate })).toBe(0);
    await stub.attempt({ now, threshold: 2, lockMs: 60_000, rate });
    // Locked for 60 s, but the bucket (2 per 600 s) has its next token only in 300 s.
    expect(await stub.wait({ now, rate })).toBe(300);
    expect(await stub.wait({ now, rate })).toBe(300);
    expect(await stub.wait({ now })).toBe(60);
  });

  it("a lock given back by release() takes its step of growth with it; the level outlives the failures' day until a success", async () => {
    const key = unique("guard");
    const stub = stubFor(key);
    const grow = (now: number) => ({ now, threshold: 1, lockMs: 60_000, maxLockMs: 600_000 });
    const t0 = Date.now();
    expect(await stub.attempt(grow(t0))).toMatchObject({ kind: "reserved", lockedUntil: t0 + 60_000 });
    await stub.release(1);
    expect(await stub.attempt(grow(t0))).toMatchObject({ kind: "reserved", lockedUntil: t0 + 60_000 });
    const t1 = t0 + 60_001;
    expect(await stub.attempt(grow(t1))).toMatchObject({ kind: "reserved", lockedUntil: t1 + 120_000 });
    // Two days later: the failures are forgotten, the growth is not.
    const t2 = t1 + 2 * 86_400_000;
    expect(await stub.attempt(grow(t2))).toMatchObject({ kind: "reserved", lockedUntil: t2 + 240_000 });
    await runDurableObjectAlarm(stub);
    expect((await stateOf(key)).stored).toBeDefined();
    await stub.succeed();
    const t3 = t2 + 240_001;
    expect(await stub.attempt(grow(t3))).toMatchObject({ kind: "reserved", lockedUntil: t3 + 60_000 });
  });
});
