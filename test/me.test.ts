import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json, login, signedInUser } from "./helpers/harness";

describe("GET/PATCH /me", () => {
  it("reads and updates the signed-in user", async () => {
    const { user, token } = await signedInUser();
    const me = await json<{ email: string; full_name: string }>(await call("me", { token }));
    expect(me).toMatchObject({ email: user.email, full_name: "Test Person" });
    const res = await call("me", { method: "PATCH", body: { full_name: "Grace Hopper", phone: "+1 555 0100" }, token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ full_name: "Grace Hopper", phone: "+1 555 0100" });
    expect(await json(await call("me", { method: "PATCH", body: { phone: null }, token }))).toMatchObject({ phone: null, full_name: "Grace Hopper" });
  });

  it("rejects unknown or invalid fields with 422, changing nothing", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("me", { method: "PATCH", body: { full_name: "X", email: "x@evil.example" }, token }), 422, "validation_failed");
    await expectProblem(await call("me", { method: "PATCH", body: { full_name: "" }, token }), 422, "validation_failed");
    expect((await json<{ full_name: string }>(await call("me", { token }))).full_name).toBe("Test Person");
  });
});

describe("GET /me/activity", () => {
  it("is the user's own audit trail, newest first, paginated with a cursor", async () => {
    const user = await createUser();
    const { access_token: token } = await login(user);
    await login(user);
    const first = await json<{ items: { action: string; created_at: string; ip_address: string }[]; next_cursor: string | null }>(
      await call("me/activity?limit=2", { token }),
    );
    expect(first.items).toHaveLength(2);
    expect(first.items[0]!.action).toBe("auth.login_succeeded");
    expect(first.items[0]!.ip_address).toBe(user.ip);
    expect(first.next_cursor).not.toBeNull();
    const rest = await json<{ items: { action: string }[]; next_cursor: string | null }>(
      await call(`me/activity?limit=100&cursor=${first.next_cursor}`, { token }),
    );
    const all = [...first.items, ...rest.items].map((e) => e.action);
    expect(all.slice(-2)).toEqual(["user.email_verified", "user.registered"]);
    expect(rest.next_cursor).toBeNull();

    const stranger = await signedInUser();
    const theirs = await json<{ items: { action: string }[] }>(await call("me/activity", { token: stranger.token }));
    // Only the stranger's own three events: registered, verified, one sign-in.
    expect(theirs.items.map((e) => e.action)).toEqual(["auth.login_succeeded", "user.email_verified", "user.registered"]);
  });

  it("validates the limit", async () => {
    const { token } = await signedInUser();
    await expectProblem(await call("me/activity?limit=1000", { token }), 422, "validation_failed");
  });
});
