import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Actor } from "../src/identity/actor";
import type { RequestContext } from "../src/platform/context";
import { getConfig } from "../src/platform/config";
import { createDb } from "../src/platform/db";
import { limitsFor, shareRefusal } from "../src/features/orgs/orgs.access";
import { addMember, setOrgPlan } from "./helpers/fixtures";
import { call, signedInUser } from "./helpers/harness";

// The module the personalization features call: limitsFor and shareRefusal, against real D1.
const ctx = () => ({ db: createDb(env.DB), config: getConfig(env), now: new Date() }) as unknown as RequestContext;
const actorOf = (userId: string, memberships: [string, "owner" | "admin" | "member" | "viewer"][] = []): Actor => ({
  kind: "user",
  userId,
  sessionId: "s",
  passwordExpired: false,
  authTime: 0,
  access: { roles: ["user"], permissions: new Set(), memberships: new Map(memberships), consents: { terms: null, privacy: null } },
});

async function orgOf(token: string) {
  return ((await (await call("orgs", { body: { name: "Org" }, token })).json()) as { id: string }).id;
}

describe("orgs.access", () => {
  it("limitsFor: free limits outside any organization, the most generous plan across organizations", async () => {
    const a = await signedInUser();
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 10, max_saved_searches: 5 });
    await orgOf(a.token); // plan team
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 50, max_saved_searches: 25 });
    const b = await signedInUser();
    const business = await orgOf(b.token);
    await setOrgPlan(business, { subscription_plan: "business", max_alerts: 200, max_saved_searches: 100 });
    await addMember(business, a.user.id, "viewer");
    expect(await limitsFor(ctx(), actorOf(a.user.id))).toEqual({ max_alerts: 200, max_saved_searches: 100 });
  });

  // Issue 14: `sharedWith` / `canShare` (every fellow member of every organization) are gone: sharing
  // is with one organization. `shareRefusal` explains a refused share from D1.
  it("shareRefusal: 404 outside the organization, 403 for a viewer, none for owner/admin/member", async () => {
    const a = await signedInUser();
    const v = await signedInUser();
    const outsider = await signedInUser();
    const org = await orgOf(a.token);
    await addMember(org, v.user.id, "viewer");
    expect(await shareRefusal(ctx(), actorOf(a.user.id), org)).toBeNull();
    expect((await shareRefusal(ctx(), actorOf(v.user.id), org))?.code).toBe("forbidden");
    expect((await shareRefusal(ctx(), actorOf(outsider.user.id), org))?.code).toBe("not_found");
    expect((await shareRefusal(ctx(), actorOf(a.user.id), "org_nope"))?.code).toBe("not_found");
  });
});
