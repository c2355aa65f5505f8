import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { leastRoleFor, ORG_ACTIONS, ORG_ROLES, orgRoleAtLeast, orgRolesSql, type OrgRole } from "../../src/db/org-roles";
import { actorMay, decideInvite, decideRemoval, decideRoleChange } from "../../src/features/orgs/orgs.policy";

// Issue 15, item 7: one table of organization rules (db/org-roles.ts, ORG_RULES). The route's
// membership check, the pure policy and the guarded statements' role lists all derive from it.

const SRC = path.join(import.meta.dirname, "..", "..", "src");
const TABLE = path.join("db", "org-roles.ts");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.tsx?$/.test(full) && !/\.test\.tsx?$/.test(full) ? [full] : [];
  });
}
const sources = files(SRC)
  .map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, "utf8") }))
  .filter(({ file }) => file !== TABLE);

/** The role literals an SQL fragment compares with, in order. */
const dialect = new SQLiteSyncDialect();
const sqlRoles = (fragment: ReturnType<typeof orgRolesSql>) => dialect.sqlToQuery(sql`${fragment}`).params;

const role = fc.constantFrom(...ORG_ROLES);
const action = fc.constantFrom(...ORG_ACTIONS);

describe("the table of organization rules", () => {
  it("every action is taken by a route (orgAction) or checked by a statement or the policy", () => {
    const uses = (a: string) =>
      sources.filter(({ text }) =>
        new RegExp(`orgAction:\\s*"${a}"|(?:actorMay|isMemberSql|orgRolesSql|orgRolesFor|orgRoleMay|leastRoleFor)\\([^)]*"${a.replace(".", "\\.")}"`).test(text),
      );
    expect(ORG_ACTIONS.filter((a) => uses(a).length === 0)).toEqual([]);
  });

  it("routes name an action of the table, never a role", () => {
    const named = sources.flatMap(({ text }) => [...text.matchAll(/orgAction:\s*"([^"]+)"/g)].map((m) => m[1]!));
    expect(named.filter((a) => !(ORG_ACTIONS as string[]).includes(a))).toEqual([]);
    expect(sources.filter(({ text }) => /\borgRole:\s*"/.test(text)).map((s) => s.file)).toEqual([]);
  });

  it("no hand-written role list outside the table", () => {
    const list = /IN \(\s*'(owner|admin|member|viewer)'\s*,|\[\s*"(owner|admin|member|viewer)"\s*,\s*"(owner|admin|member|viewer)"/;
    expect(sources.filter(({ text }) => list.test(text)).map((s) => s.file)).toEqual([]);
  });

  it("the SQL role list of an action holds exactly the roles the policy lets take it", () => {
    fc.assert(
      fc.property(action, fc.boolean(), role, (a, ownersInvolved, r) => {
        const inSql = sqlRoles(orgRolesSql(a, { ownersInvolved })).includes(r);
        expect(inSql).toBe(actorMay({ role: r, viaSuperuser: false }, a, { ownersInvolved }));
      }),
    );
  });

  it("the route's least role lets in exactly the roles of the action's SQL list (owners not involved)", () => {
    fc.assert(
      fc.property(action, role, (a, r) => {
        expect(orgRoleAtLeast(r, leastRoleFor(a))).toBe(sqlRoles(orgRolesSql(a)).includes(r));
      }),
    );
  });

  it("a superuser acting across organizations may take every action", () => {
    fc.assert(
      fc.property(action, fc.boolean(), (a, ownersInvolved) => {
        expect(actorMay({ role: null, viaSuperuser: true }, a, { ownersInvolved })).toBe(true);
      }),
    );
  });

  // The decisions refuse with 403 exactly when the guarded statement's role check would refuse.
  const sqlAllows = (a: Parameters<typeof orgRolesSql>[0], r: OrgRole, ownersInvolved: boolean) => sqlRoles(orgRolesSql(a, { ownersInvolved })).includes(r);

  it("decideRoleChange forbids exactly the roles the change_role statement refuses", () => {
    fc.assert(
      fc.property(role, role, role, fc.nat(3), (actor, target, next, otherOwners) => {
        const d = decideRoleChange({ actor: { role: actor, viaSuperuser: false }, targetRole: target, newRole: next, otherOwners });
        const ownersInvolved = target === "owner" || next === "owner";
        expect(!d.ok && d.code === "forbidden").toBe(!sqlAllows("member.change_role", actor, ownersInvolved));
      }),
    );
  });

  it("decideRemoval forbids exactly the roles the remove statement refuses (removing another member)", () => {
    fc.assert(
      fc.property(role, role, fc.nat(3), (actor, target, otherOwners) => {
        const d = decideRemoval({ actor: { role: actor, viaSuperuser: false }, self: false, targetRole: target, otherOwners });
        expect(!d.ok && d.code === "forbidden").toBe(!sqlAllows("member.remove", actor, target === "owner"));
      }),
    );
  });

  it("decideInvite forbids exactly the roles the invitation statement refuses", () => {
    fc.assert(
      fc.property(role, role, (actor, invited) => {
        const d = decideInvite({ actor: { role: actor, viaSuperuser: false }, role: invited });
        expect(!d.ok && d.code === "forbidden").toBe(!sqlAllows("invitation.create", actor, invited === "owner"));
      }),
    );
  });
});
