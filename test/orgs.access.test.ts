import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Actor } from "../src/platform/actor";
import type { RequestContext } from "../src/platform/context";
import { getConfig } from "../src/platform/config";
import { createDb } from "../src/platform/db";
import { canShare, limitsFor, sharedWith } from "../src/features/orgs/orgs.access";
import { call, signedInUser } from "./helpers/harness";

// The module the personalization features call: limitsFor and sharedWith, against real D1.
const ctx = () => ({ db: createDb(env.DB), config: getConfig(env), now: new Date() }) as unknown as RequestContext;
const actorOf = (userId: string, memberships: [string, "owner" | "admin" | "member" | "viewer"][] = []): Actor => ({
  kind: "user",
  userId,
  sessionId: "s",
  passwordExpired: false,
  access: { roles: ["user"], permissions: new Set(), memberships: new Map(memberships), consents: { terms: null, privacy: null } },
});

async function orgOf(token: string) {
  return ((await (await call("orgs", { body: { name: "Org" }, token })).json()) as { id: string }).id;
}
async function addMember(orgId: string, userId: string, role: string) {
  await env.DB.prepare("INSERT INTO organization_members (id, organization_id, user_id, role) VALUES (?, ?, ?, ?)").bind(`mem_${orgId}_${userId}`, orgId, userId, role).run();
}

describe("orgs.access", () => {
  it("limitsFor: free limits outside any organization, the most generous plan across organizations", async () => {
    const a = await signedInUser();
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 10, max_saved_searches: 5 });
    await orgOf(a.token); // plan team
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 50, max_saved_searches: 25 });
    const b = await signedInUser();
    const business = await orgOf(b.token);
    await env.DB.prepare("UPDATE organizations SET subscription_plan = 'business', max_alerts = 200, max_saved_searches = 100 WHERE id = ?").bind(business).run();
    await addMember(business, a.user.id, "viewer");
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 200, max_saved_searches: 100 });
  });

  it("sharedWith: the fellow members of every organization of the actor, not the actor nor outsiders", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const c = await signedInUser();
    const outsider = await signedInUser();
    const org1 = await orgOf(a.token);
    const org2 = await orgOf(c.token);
    await addMember(org1, b.user.id, "member");
    await addMember(org2, a.user.id, "viewer");
    await orgOf(outsider.token);
    expect((await sharedWith(ctx(), actorOf(a.user.id))).sort()).toEqual([b.user.id, c.user.id].sort());
    expect(await sharedWith(ctx(), actorOf(b.user.id))).toEqual([a.user.id]);
    expect(await sharedWith(ctx(), actorOf(outsider.user.id))).toEqual([]);
  });

  it("canShare: a viewer reads shared data but does not create it", () => {
    expect(canShare(actorOf("u", [["o", "viewer"]]))).toBe(false);
    expect(canShare(actorOf("u", [["o", "viewer"], ["p", "member"]]))).toBe(true);
    expect(canShare(actorOf("u"))).toBe(false);
  });
});
