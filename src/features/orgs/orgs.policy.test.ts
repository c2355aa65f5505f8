import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ORG_ROLES, type OrgRole } from "../../identity/actor";
import { ConfigSchema, DEFAULT_PLAN_LIMITS } from "../../platform/config";
import { decideInvite, decideRemoval, decideRoleChange, limitsOfPlan, mostGenerous, type OrgActor } from "./orgs.policy";

const role = fc.constantFrom(...ORG_ROLES);
const actor: fc.Arbitrary<OrgActor> = fc.oneof(
  role.map((r) => ({ role: r as OrgRole | null, viaSuperuser: false })),
  fc.constant({ role: null, viaSuperuser: true }),
);
const code = (d: ReturnType<typeof decideRoleChange>) => (d.ok ? "ok" : d.code);

describe("role changes (decideRoleChange)", () => {
  it("examples from API.md", () => {
    const owner = { role: "owner" as const, viaSuperuser: false };
    const admin = { role: "admin" as const, viaSuperuser: false };
    const member = { role: "member" as const, viaSuperuser: false };
    expect(code(decideRoleChange({ actor: admin, targetRole: "member", newRole: "viewer", otherOwners: 1 }))).toBe("ok");
    expect(code(decideRoleChange({ actor: admin, targetRole: "member", newRole: "owner", otherOwners: 1 }))).toBe("forbidden");
    expect(code(decideRoleChange({ actor: admin, targetRole: "owner", newRole: "admin", otherOwners: 1 }))).toBe("forbidden");
    expect(code(decideRoleChange({ actor: member, targetRole: "viewer", newRole: "member", otherOwners: 1 }))).toBe("forbidden");
    expect(code(decideRoleChange({ actor: owner, targetRole: "owner", newRole: "admin", otherOwners: 0 }))).toBe("conflict");
    expect(code(decideRoleChange({ actor: owner, targetRole: "owner", newRole: "admin", otherOwners: 1 }))).toBe("ok");
    expect(code(decideRoleChange({ actor: owner, targetRole: null, newRole: "admin", otherOwners: 1 }))).toBe("not_found");
  });

  it("never leaves an organization without an owner, and only owners (or a superuser) touch owners", () => {
    fc.assert(
      fc.property(actor, role, role, fc.nat(3), (a, target, next, otherOwners) => {
        const d = decideRoleChange({ actor: a, targetRole: target, newRole: next, otherOwners });
        if (!d.ok) return;
        const ownersBefore = otherOwners + (target === "owner" ? 1 : 0);
        const ownersAfter = otherOwners + (next === "owner" ? 1 : 0);
        if (ownersBefore > 0) expect(ownersAfter).toBeGreaterThan(0);
        if (target === "owner" || next === "owner") expect(a.viaSuperuser || a.role === "owner").toBe(true);
        expect(a.viaSuperuser || a.role === "owner" || a.role === "admin").toBe(true);
      }),
    );
  });
});

describe("removal (decideRemoval)", () => {
  it("anyone may leave unless it is the last owner; others need admin+, owners need an owner", () => {
    fc.assert(
      fc.property(actor, fc.boolean(), role, fc.nat(3), (a, self, target, otherOwners) => {
        const d = decideRemoval({ actor: a, self, targetRole: target, otherOwners });
        if (target === "owner" && otherOwners === 0) expect(d).toMatchObject({ ok: false });
        if (!d.ok) return;
        if (target === "owner") expect(otherOwners).toBeGreaterThan(0);
        if (!self) expect(a.viaSuperuser || a.role === "owner" || (a.role === "admin" && target !== "owner")).toBe(true);
      }),
    );
    expect(decideRemoval({ actor: { role: "viewer", viaSuperuser: false }, self: true, targetRole: "viewer", otherOwners: 1 })).toEqual({ ok: true });
  });
});

describe("invitations (decideInvite)", () => {
  it("admin+ invites; only an owner invites an owner", () => {
    const as = (r: OrgRole) => ({ role: r, viaSuperuser: false });
    expect(decideInvite({ actor: as("member"), role: "viewer" }).ok).toBe(false);
    expect(decideInvite({ actor: as("admin"), role: "admin" }).ok).toBe(true);
    expect(decideInvite({ actor: as("admin"), role: "owner" }).ok).toBe(false);
    expect(decideInvite({ actor: as("owner"), role: "owner" }).ok).toBe(true);
    expect(decideInvite({ actor: { role: null, viaSuperuser: true }, role: "owner" }).ok).toBe(true);
  });
});

describe("plan limits", () => {
  it("a user outside any organization gets the free plan; otherwise the most generous of each limit", () => {
    expect(mostGenerous([], DEFAULT_PLAN_LIMITS.free)).toEqual({ max_alerts: 10, max_saved_searches: 5 });
    expect(
      mostGenerous(
        [
          { max_alerts: 50, max_saved_searches: 300 },
          { max_alerts: 200, max_saved_searches: 100 },
        ],
        DEFAULT_PLAN_LIMITS.free,
      ),
    ).toEqual({ max_alerts: 200, max_saved_searches: 300 });
    fc.assert(
      fc.property(fc.array(fc.record({ max_alerts: fc.nat(5000), max_saved_searches: fc.nat(5000) }), { minLength: 1, maxLength: 8 }), (orgs) => {
        const l = mostGenerous(orgs, DEFAULT_PLAN_LIMITS.free);
        expect(orgs.some((o) => o.max_alerts === l.max_alerts)).toBe(true);
        expect(orgs.every((o) => o.max_alerts <= l.max_alerts && o.max_saved_searches <= l.max_saved_searches)).toBe(true);
      }),
    );
  });

  it("PLAN_LIMITS: JSON, a plan left out keeps its default, anything malformed is refused", () => {
    const parsed = ConfigSchema.parse({ PLAN_LIMITS: '{"team":{"max_users":8,"max_alerts":60,"max_saved_searches":30}}' });
    expect(parsed.PLAN_LIMITS.team).toEqual({ max_users: 8, max_alerts: 60, max_saved_searches: 30 });
    expect(parsed.PLAN_LIMITS.free).toEqual(DEFAULT_PLAN_LIMITS.free);
    expect(ConfigSchema.parse({}).PLAN_LIMITS).toEqual(DEFAULT_PLAN_LIMITS);
    expect(limitsOfPlan(parsed.PLAN_LIMITS, "team")).toEqual({ maxUsers: 8, maxAlerts: 60, maxSavedSearches: 30 });
    for (const bad of ["not json", '{"gold":{"max_users":1,"max_alerts":1,"max_saved_searches":1}}', '{"team":{"max_users":0,"max_alerts":1,"max_saved_searches":1}}', '{"team":{"max_users":2}}']) {
      expect(ConfigSchema.safeParse({ PLAN_LIMITS: bad }).success, bad).toBe(false);
    }
  });
});
