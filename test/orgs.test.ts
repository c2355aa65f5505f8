import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expireInvitation, grantRole, insertFavorite, insertTender, setEmailVerified } from "./helpers/fixtures";
import { call, callAt, callWithConfig, createUser, expectProblem, json, login, movableClock, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";

interface Org {
  id: string;
  name: string;
  subscription_plan: string;
  max_users: number;
  max_alerts: number;
  max_saved_searches: number;
  role: string | null;
}
interface Member {
  user_id: string;
  email: string;
  full_name: string;
  role: string;
  joined_at: string;
}

type Signed = Awaited<ReturnType<typeof signedInUser>>;

async function newOrg(token: string, name = unique("Org ")): Promise<Org> {
  const res = await call("orgs", { body: { name }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Org>(res);
}

/** Invites `who` with `role` as `inviterToken`, and returns the emailed token. */
async function invite(orgId: string, inviterToken: string, email: string, role = "member") {
  const after = Date.now() - 1000;
  const res = await call(`orgs/${orgId}/invitations`, { body: { email, role }, token: inviterToken });
  expect(res.status, await res.clone().text()).toBe(201);
  const invitation = await json<{ id: string }>(res);
  const mail = await waitForMail(email, "invitation", { after });
  return { invitation, token: tokenFromMail(mail), mail };
}

/** A signed-in user who joined `orgId` with `role` through an invitation. */
async function joinedMember(orgId: string, ownerToken: string, role = "member"): Promise<Signed> {
  const member = await signedInUser();
  const { token } = await invite(orgId, ownerToken, member.user.email, role);
  const res = await call("invitations/accept", { body: { token }, token: member.token });
  expect(res.status, await res.clone().text()).toBe(200);
  return member;
}

const members = async (orgId: string, token: string) => (await json<{ items: Member[] }>(await call(`orgs/${orgId}/members`, { token }))).items;

const auditRows = (action: string, orgId: string) =>
  env.DB.prepare("SELECT user_id, actor_id, details FROM audit_log WHERE action = ? AND json_extract(details, '$.organization_id') = ?").bind(action, orgId).all<{
    user_id: string | null;
    actor_id: string | null;
    details: string;
  }>();

describe("organizations", () => {
  it("the creator becomes owner of a new organization on plan team, listed with its role, in one audited batch", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token, "Acme Builders");
    expect(org).toMatchObject({ name: "Acme Builders", subscription_plan: "team", max_users: 5, max_alerts: 50, max_saved_searches: 25, role: "owner" });
    expect(org.id).toMatch(/^org_/);
    const list = await json<{ items: Org[]; next_cursor: string | null }>(await call("orgs", { token: owner.token }));
    expect(list.items.map((o) => [o.id, o.role])).toEqual([[org.id, "owner"]]);
    expect((await members(org.id, owner.token)).map((m) => [m.user_id, m.role])).toEqual([[owner.user.id, "owner"]]);
    expect((await auditRows("org.created", org.id)).results).toHaveLength(1);
  });

  it("admins update the organization, members may not, and unknown fields are refused", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token, "member");
    const patch = { billing_email: "Billing@Acme.test", billing_address: "1 Road", org_type: "contractor" };
    await expectProblem(await call(`orgs/${org.id}`, { method: "PATCH", body: patch, token: member.token }), 403, "forbidden");
    await expectProblem(await call(`orgs/${org.id}`, { method: "PATCH", body: { plan: "free" }, token: owner.token }), 422, "validation_failed");
    const res = await call(`orgs/${org.id}`, { method: "PATCH", body: patch, token: owner.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ billing_email: "billing@acme.test", billing_address: "1 Road", org_type: "contractor" });
    expect((await auditRows("org.updated", org.id)).results).toHaveLength(1);
    const read = await json<Org>(await call(`orgs/${org.id}`, { token: member.token }));
    expect(read.role).toBe("member");
  });

  it("only the owner deletes; memberships and invitations go, members' favorites and accounts stay", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const admin = await joinedMember(org.id, owner.token, "admin");
    await invite(org.id, owner.token, `${unique("pending")}@example.com`);
    await insertFavorite(admin.user.id, await insertTender({ title: "Road works" }));

    await expectProblem(await call(`orgs/${org.id}`, { method: "DELETE", token: admin.token }), 403, "forbidden");
    expect((await call(`orgs/${org.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${org.id}`, { token: owner.token }), 404, "not_found");
    const left = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM organization_members WHERE organization_id = ?1) AS m, (SELECT count(*) FROM invitations WHERE organization_id = ?1) AS i, (SELECT count(*) FROM favorites WHERE user_id = ?2) AS f, (SELECT count(*) FROM users WHERE id = ?2) AS u",
    )
      .bind(org.id, admin.user.id)
      .first();
    expect(left).toEqual({ m: 0, i: 0, f: 1, u: 1 });
    expect((await json<{ items: Org[] }>(await call("orgs", { token: admin.token }))).items).toEqual([]);
    expect((await auditRows("org.deleted", org.id)).results).toHaveLength(1);
  });

  // Issue 14 changed this contract: a favorite is private unless shared with the organization
  // (organization_id); a member's private favorites are no longer listed.
  it("GET /orgs/{id}/favorites lists the favorites members shared with it, with who added each, and nobody else's", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token, "viewer");
    const outsider = await signedInUser();
    const tender = await insertTender({ title: "Bridge repair", state: "Kerala", value: 1200000 });
    const other = await insertTender({ title: "Private one" });
    for (const [i, [u, t, orgId]] of ([[member.user, tender, org.id], [member.user, other, null], [outsider.user, tender, org.id]] as const).entries()) {
      await insertFavorite(u.id, t, { id: `fav_${i}_${tender}`, priority: "high", organization_id: orgId });
    }
    const res = await call(`orgs/${org.id}/favorites`, { token: member.token });
    expect(res.status).toBe(200);
    const body = await json<{ items: { tender: { id: string; title: string }; added_by: { user_id: string; email: string } }[] }>(res);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ tender: { id: tender, title: "Bridge repair" }, added_by: { user_id: member.user.id, email: member.user.email } });
  });
});

describe("invitations", () => {
  it("an admin invites by email; the invitee with that verified email accepts and becomes a member", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitee = await signedInUser();
    const { token, mail, invitation } = await invite(org.id, owner.token, invitee.user.email, "admin");
    expect(mail.text).toContain(`/accept-invitation?token=${token}`);
    expect(mail.html).toContain("accept-invitation?token=");
    const stored = await env.DB.prepare("SELECT token_hash FROM invitations WHERE id = ?").bind(invitation.id).first<{ token_hash: string }>();
    expect(stored!.token_hash).not.toContain(token);
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);

    const pending = await json<{ items: { id: string; email: string }[] }>(await call(`orgs/${org.id}/invitations`, { token: owner.token }));
    expect(pending.items.map((i) => i.email)).toEqual([invitee.user.email]);

    const res = await call("invitations/accept", { body: { token }, token: invitee.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ organization_id: org.id, user_id: invitee.user.id, role: "admin" });
    expect((await members(org.id, owner.token)).map((m) => m.role).sort()).toEqual(["admin", "owner"]);
    // The new admin acts at once (its access was refreshed).
    expect((await call(`orgs/${org.id}/invitations`, { token: invitee.token })).status).toBe(200);
    expect((await json<{ items: unknown[] }>(await call(`orgs/${org.id}/invitations`, { token: owner.token }))).items).toEqual([]);
    expect((await auditRows("org.invitation_sent", org.id)).results).toHaveLength(1);
    expect((await auditRows("org.invitation_accepted", org.id)).results).toHaveLength(1);
  });

  it("accepts in the same millisecond still write one membership and one audit row", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitee = await signedInUser();
    const { token } = await invite(org.id, owner.token, invitee.user.email);
    const sameInstant = movableClock(); // never advanced: every request sees one `now`
    const results = await Promise.all([1, 2, 3].map(() => callAt(sameInstant, "invitations/accept", { body: { token }, token: invitee.token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await auditRows("org.invitation_accepted", org.id)).results).toHaveLength(1);
  });

  it("a member cannot invite (403), and an admin cannot invite an owner", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token, "member");
    const admin = await joinedMember(org.id, owner.token, "admin");
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: "x@example.com", role: "member" }, token: member.token }), 403, "forbidden");
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: "x@example.com", role: "owner" }, token: admin.token }), 403, "forbidden");
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: "not-an-email", role: "member" }, token: admin.token }), 422, "validation_failed");
  });

  it("an invitation for another email is refused (403), and so is an unverified address", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invited = await createUser({ verified: false });
    const other = await signedInUser();
    const { token } = await invite(org.id, owner.token, invited.email);
    await expectProblem(await call("invitations/accept", { body: { token }, token: other.token }), 403, "forbidden");
    // Same address, not verified: the address is not proven to be the invitee's.
    await setEmailVerified(invited.id, true);
    const session = await login(invited);
    await setEmailVerified(invited.id, false);
    await expectProblem(await call("invitations/accept", { body: { token }, token: session.access_token }), 403, "forbidden");
    expect((await members(org.id, owner.token)).map((m) => m.user_id)).toEqual([owner.user.id]);
  });

  it("accepting twice fails with 409 conflict; a revoked invitation and an unknown token fail with 400", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitee = await signedInUser();
    const { token } = await invite(org.id, owner.token, invitee.user.email);
    expect((await call("invitations/accept", { body: { token }, token: invitee.token })).status).toBe(200);
    await expectProblem(await call("invitations/accept", { body: { token }, token: invitee.token }), 409, "conflict");

    const second = await signedInUser();
    const revoked = await invite(org.id, owner.token, second.user.email);
    expect((await call(`orgs/${org.id}/invitations/${revoked.invitation.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${org.id}/invitations/${revoked.invitation.id}`, { method: "DELETE", token: owner.token }), 404, "not_found");
    await expectProblem(await call("invitations/accept", { body: { token: revoked.token }, token: second.token }), 400, "validation_failed");
    await expectProblem(await call("invitations/accept", { body: { token: "x".repeat(43) }, token: second.token }), 400, "validation_failed");
    expect((await auditRows("org.invitation_revoked", org.id)).results).toHaveLength(1);
  });

  it("concurrent accepts of one invitation succeed once", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitee = await signedInUser();
    const { token } = await invite(org.id, owner.token, invitee.user.email);
    const results = await Promise.all([1, 2, 3].map(() => call("invitations/accept", { body: { token }, token: invitee.token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await auditRows("org.invitation_accepted", org.id)).results).toHaveLength(1);
  });

  it("an expired invitation fails with 400", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitee = await signedInUser();
    const { token, invitation } = await invite(org.id, owner.token, invitee.user.email);
    await expireInvitation(invitation.id);
    await expectProblem(await call("invitations/accept", { body: { token }, token: invitee.token }), 400, "validation_failed");
    expect((await members(org.id, owner.token)).map((m) => m.user_id)).toEqual([owner.user.id]);
  });

  it("the plan limit stops the invitation that would exceed it (members + pending), even under concurrency", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token); // team: 5 users
    await joinedMember(org.id, owner.token);
    await invite(org.id, owner.token, `${unique("p")}@example.com`);
    // 2 members + 1 pending: 2 more fit. Fire 4 at once: exactly 2 pass.
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => call(`orgs/${org.id}/invitations`, { body: { email: `${unique(`c${i}`)}@example.com`, role: "member" }, token: owner.token })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
    const refused = await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: `${unique("z")}@example.com`, role: "member" }, token: owner.token }), 409, "limit_reached");
    expect(refused.detail).toContain("5");
    // 1 accepted (the member) + 1 pending + the 2 that passed; each sent invitation audited once.
    const count = await env.DB.prepare("SELECT count(*) AS n FROM invitations WHERE organization_id = ? AND accepted_at IS NULL").bind(org.id).first<{ n: number }>();
    expect(count!.n).toBe(3);
    expect((await auditRows("org.invitation_sent", org.id)).results).toHaveLength(4);
  });

  it("inviting an existing member or an already invited email is a conflict", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token);
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: member.user.email, role: "member" }, token: owner.token }), 409, "conflict");
    const email = `${unique("dup")}@example.com`;
    await invite(org.id, owner.token, email);
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email, role: "member" }, token: owner.token }), 409, "conflict");
  });
});

describe("member roles and removal", () => {
  it("only an owner makes or unmakes owners; admins change other roles; members change none", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const admin = await joinedMember(org.id, owner.token, "admin");
    const member = await joinedMember(org.id, owner.token, "member");
    const patch = (target: string, role: string, token: string) => call(`orgs/${org.id}/members/${target}`, { method: "PATCH", body: { role }, token });

    await expectProblem(await patch(member.user.id, "viewer", member.token), 403, "forbidden");
    await expectProblem(await patch(member.user.id, "owner", admin.token), 403, "forbidden");
    await expectProblem(await patch(owner.user.id, "member", admin.token), 403, "forbidden");
    const res = await patch(member.user.id, "viewer", admin.token);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ user_id: member.user.id, role: "viewer", email: member.user.email });
    expect((await patch(admin.user.id, "owner", owner.token)).status).toBe(200);
    await expectProblem(await patch(unique("usr_"), "member", owner.token), 404, "not_found");
    const changes = (await auditRows("org.member_role_changed", org.id)).results;
    expect(changes.map((r) => [r.user_id, r.actor_id])).toEqual(
      expect.arrayContaining([
        [member.user.id, admin.user.id],
        [admin.user.id, owner.user.id],
      ]),
    );
    expect(changes).toHaveLength(2);
  });

  it("the last owner cannot be demoted, removed or leave (409); with a second owner it can", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token, "member");
    await expectProblem(await call(`orgs/${org.id}/members/${owner.user.id}`, { method: "PATCH", body: { role: "admin" }, token: owner.token }), 409, "conflict");
    await expectProblem(await call(`orgs/${org.id}/members/${owner.user.id}`, { method: "DELETE", token: owner.token }), 409, "conflict");
    expect((await call(`orgs/${org.id}/members/${member.user.id}`, { method: "PATCH", body: { role: "owner" }, token: owner.token })).status).toBe(200);
    expect((await call(`orgs/${org.id}/members/${owner.user.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect((await members(org.id, member.token)).map((m) => [m.user_id, m.role])).toEqual([[member.user.id, "owner"]]);
    await expectProblem(await call(`orgs/${org.id}`, { token: owner.token }), 404, "not_found");
    expect((await auditRows("org.member_removed", org.id)).results).toHaveLength(1);
  });

  it("two owners demoting themselves at once: exactly one succeeds, one owner remains", async () => {
    for (let round = 0; round < 3; round++) {
      const a = await signedInUser();
      const org = await newOrg(a.token);
      const b = await joinedMember(org.id, a.token, "owner");
      const [ra, rb] = await Promise.all([
        call(`orgs/${org.id}/members/${a.user.id}`, { method: "PATCH", body: { role: "member" }, token: a.token }),
        call(`orgs/${org.id}/members/${b.user.id}`, { method: "PATCH", body: { role: "member" }, token: b.token }),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const owners = (await members(org.id, a.token)).filter((m) => m.role === "owner");
      expect(owners).toHaveLength(1);
      expect((await auditRows("org.member_role_changed", org.id)).results).toHaveLength(1);
    }
  });

  it("two owners leaving at once: exactly one goes", async () => {
    const a = await signedInUser();
    const org = await newOrg(a.token);
    const b = await joinedMember(org.id, a.token, "owner");
    const results = await Promise.all([a, b].map((u) => call(`orgs/${org.id}/members/${u.user.id}`, { method: "DELETE", token: u.token })));
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    const left = await env.DB.prepare("SELECT role FROM organization_members WHERE organization_id = ?").bind(org.id).all();
    expect(left.results).toEqual([{ role: "owner" }]);
  });

  it("a member leaves by removing itself; a viewer cannot remove others; an admin removes a member but not an owner", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const admin = await joinedMember(org.id, owner.token, "admin");
    const viewer = await joinedMember(org.id, owner.token, "viewer");
    const member = await joinedMember(org.id, owner.token, "member");
    const del = (target: string, token: string) => call(`orgs/${org.id}/members/${target}`, { method: "DELETE", token });
    await expectProblem(await del(member.user.id, viewer.token), 403, "forbidden");
    await expectProblem(await del(owner.user.id, admin.token), 403, "forbidden");
    expect((await del(viewer.user.id, viewer.token)).status).toBe(204);
    expect((await del(member.user.id, admin.token)).status).toBe(204);
    await expectProblem(await call(`orgs/${org.id}/members`, { token: member.token }), 404, "not_found");
    expect((await members(org.id, owner.token)).map((m) => m.role).sort()).toEqual(["admin", "owner"]);
  });
});

describe("isolation between organizations and the superuser", () => {
  it("an admin of org A gets 404 on org B, with the same body as for a random id", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await newOrg(a.token);
    const orgB = await newOrg(b.token);
    const strip = async (res: Response) => {
      const { request_id: _r, instance: _i, ...rest } = await json<Record<string, unknown>>(res);
      return { status: res.status, ...rest };
    };
    for (const path of ["", "/members", "/invitations", "/favorites"]) {
      const foreign = await strip(await call(`orgs/${orgB.id}${path}`, { token: a.token }));
      const random = await strip(await call(`orgs/org_${unique()}${path}`, { token: a.token }));
      expect(foreign).toEqual(random);
      expect(foreign.status).toBe(404);
    }
  });

  it("a superuser acts in any organization, and each access is audited with the organization", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const root = await signedInUser();
    await grantRole(root.user.id, "superuser");
    const res = await call(`orgs/${org.id}`, { token: root.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: org.id, role: null });
    expect((await call(`orgs/${org.id}/members`, { token: root.token })).status).toBe(200);
    const invited = await call(`orgs/${org.id}/invitations`, { body: { email: `${unique("su")}@example.com`, role: "member" }, token: root.token });
    expect(invited.status).toBe(201);
    await expectProblem(await call(`orgs/org_${unique()}`, { token: root.token }), 404, "not_found");
    // The access audit is written after the response (waitUntil): poll briefly.
    let rows: { user_id: string | null }[] = [];
    for (let i = 0; i < 40 && rows.length < 3; i++) {
      rows = (await auditRows("org.superuser_access", org.id)).results;
      if (rows.length < 3) await new Promise((r) => setTimeout(r, 25));
    }
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.user_id === root.user.id)).toBe(true);
    // Not a member: its own list stays empty.
    expect((await json<{ items: unknown[] }>(await call("orgs", { token: root.token }))).items).toEqual([]);
  });
});

describe("administrators and plans", () => {
  it("PATCH /admin/orgs/{id} changes the plan and the limits follow; audited with the admin; non-admins get 403", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const admin = await signedInUser();
    await grantRole(admin.user.id, "admin");
    await expectProblem(await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_plan: "free" }, token: owner.token }), 403, "forbidden");
    await expectProblem(await call(`admin/orgs/org_${unique()}`, { method: "PATCH", body: { subscription_plan: "free" }, token: admin.token }), 404, "not_found");
    const res = await call(`admin/orgs/${org.id}`, {
      method: "PATCH",
      body: { subscription_plan: "business", subscription_status: "active", subscription_ends_at: "2030-01-01T00:00:00Z" },
      token: admin.token,
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ subscription_plan: "business", max_users: 25, max_alerts: 200, max_saved_searches: 100, subscription_ends_at: "2030-01-01T00:00:00.000Z" });
    const audit = (await auditRows("admin.org_updated", org.id)).results;
    expect(audit.map((r) => r.actor_id)).toEqual([admin.user.id]);

    const list = await json<{ items: { id: string; member_count: number }[] }>(await call(`admin/orgs?subscription_plan=business&limit=100`, { token: admin.token }));
    expect(list.items.find((o) => o.id === org.id)).toMatchObject({ member_count: 1 });

    // Down to free (1 user): the owner alone fills it, so the next invitation is refused.
    await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_plan: "free" }, token: admin.token });
    await expectProblem(await call(`orgs/${org.id}/invitations`, { body: { email: `${unique("f")}@example.com`, role: "member" }, token: owner.token }), 409, "limit_reached");
  });

  it("accepting checks the plan limit again: an organization that filled up meanwhile answers 409 limit_reached and the invitation stays pending", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token); // team: 5 users
    const [first, second] = [await signedInUser(), await signedInUser()];
    const firstInvite = await invite(org.id, owner.token, first.user.email);
    const secondInvite = await invite(org.id, owner.token, second.user.email);
    // The plan shrinks to 2 users after both were sent: 1 member, so the org is at limit − 1.
    const admin = await signedInUser();
    await grantRole(admin.user.id, "admin");
    const smallPlan = JSON.stringify({ business: { max_users: 2, max_alerts: 200, max_saved_searches: 100 } });
    const patched = await callWithConfig({ PLAN_LIMITS: smallPlan }, `admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_plan: "business" }, token: admin.token });
    expect(await json(patched)).toMatchObject({ max_users: 2 });

    expect((await call("invitations/accept", { body: { token: firstInvite.token }, token: first.token })).status).toBe(200);
    const refused = await expectProblem(await call("invitations/accept", { body: { token: secondInvite.token }, token: second.token }), 409, "limit_reached");
    expect(refused.detail).toContain("2");
    expect((await members(org.id, owner.token)).map((m) => m.user_id).sort()).toEqual([owner.user.id, first.user.id].sort());
    expect((await auditRows("org.invitation_accepted", org.id)).results).toHaveLength(1);
    // Not spent: still pending, and it works once the plan has room again.
    const pending = await json<{ items: { id: string }[] }>(await call(`orgs/${org.id}/invitations`, { token: owner.token }));
    expect(pending.items.map((i) => i.id)).toEqual([secondInvite.invitation.id]);
    await call(`admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_plan: "team" }, token: admin.token });
    expect((await call("invitations/accept", { body: { token: secondInvite.token }, token: second.token })).status).toBe(200);
    expect(await members(org.id, owner.token)).toHaveLength(3);
  });

  it("two invitees accepting at once for the last seat: exactly one joins", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const invitees = [await signedInUser(), await signedInUser()];
    const tokens: string[] = [];
    for (const i of invitees) tokens.push((await invite(org.id, owner.token, i.user.email)).token);
    const admin = await signedInUser();
    await grantRole(admin.user.id, "admin");
    const smallPlan = JSON.stringify({ business: { max_users: 2, max_alerts: 200, max_saved_searches: 100 } });
    expect((await callWithConfig({ PLAN_LIMITS: smallPlan }, `admin/orgs/${org.id}`, { method: "PATCH", body: { subscription_plan: "business" }, token: admin.token })).status).toBe(200);
    const results = await Promise.all(invitees.map((i, n) => call("invitations/accept", { body: { token: tokens[n] }, token: i.token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await members(org.id, owner.token)).toHaveLength(2);
  });

  it("GET /admin/orgs/{id} and /admin/orgs/{id}/members show any organization to an administrator who is not a member", async () => {
    const owner = await signedInUser();
    const org = await newOrg(owner.token);
    const member = await joinedMember(org.id, owner.token);
    const admin = await signedInUser();
    await grantRole(admin.user.id, "admin");

    expect(await json(await call(`admin/orgs/${org.id}`, { token: admin.token }))).toMatchObject({ id: org.id, name: org.name, member_count: 2, subscription_plan: "team" });
    const first = await json<{ items: { user_id: string; email: string; role: string }[]; next_cursor: string | null }>(await call(`admin/orgs/${org.id}/members?limit=1`, { token: admin.token }));
    expect(first.items).toHaveLength(1);
    const rest = await json<{ items: { user_id: string; email: string; role: string }[]; next_cursor: string | null }>(
      await call(`admin/orgs/${org.id}/members?limit=1&cursor=${first.next_cursor}`, { token: admin.token }),
    );
    const all = [...first.items, ...rest.items].sort((a, b) => a.email.localeCompare(b.email));
    expect(all.map((m) => [m.email, m.role])).toEqual(
      [
        [owner.user.email, "owner"],
        [member.user.email, "member"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );

    // Not for members or owners (they use /orgs/{id}/members), and an unknown id is 404.
    await expectProblem(await call(`admin/orgs/${org.id}`, { token: owner.token }), 403, "forbidden");
    await expectProblem(await call(`admin/orgs/${org.id}/members`, { token: owner.token }), 403, "forbidden");
    await expectProblem(await call(`admin/orgs/org_${unique()}`, { token: admin.token }), 404, "not_found");
    await expectProblem(await call(`admin/orgs/org_${unique()}/members`, { token: admin.token }), 404, "not_found");
  });
});
