import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addMember, closingIn, deleteMembership, insertNote, insertOrg, insertTender, setOrgPlan } from "./helpers/fixtures";
import { call, callWithConfig, expectProblem, json, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";
import { apiKeyFor } from "./helpers/admin";

/**
 * The tenant boundary (issue 14, points 1–3): shared notes and favorites belong to one
 * organization; audit rows show IP and user agent only on the user's own acts; pending
 * invitations die with the inviter's power.
 */

type Signed = Awaited<ReturnType<typeof signedInUser>>;

interface Note {
  id: string;
  tender_id: string;
  note_text: string;
  is_shared: boolean;
  organization_id: string | null;
  own: boolean;
  author: { id: string; full_name: string };
}
interface TenderNote {
  id: string;
  note_text: string;
  own: boolean;
  organization_id: string | null;
  author: { id: string };
}
interface OrgFavorite {
  id: string;
  tender: { id: string };
  added_by: { user_id: string };
}

async function aTender(): Promise<string> {
  return insertTender({ id: `tnd_${unique("ten")}`, title: "Tenancy bridge works", closing_date: closingIn(30) });
}

async function newOrg(token: string): Promise<string> {
  const res = await call("orgs", { body: { name: unique("Org ") }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json<{ id: string }>(res)).id;
}

/** `inviterToken` invites `who` into `orgId` with `role`; `who` accepts through the emailed link. */
async function joinByInvitation(orgId: string, inviterToken: string, who: Signed, role = "member") {
  const after = Date.now() - 1000;
  const res = await call(`orgs/${orgId}/invitations`, { body: { email: who.user.email, role }, token: inviterToken });
  expect(res.status, await res.clone().text()).toBe(201);
  const token = tokenFromMail(await waitForMail(who.user.email, "invitation", { after }));
  const accepted = await call("invitations/accept", { body: { token }, token: who.token });
  expect(accepted.status, await accepted.clone().text()).toBe(200);
}

const writeNote = (token: string, body: Record<string, unknown>) => call("me/notes", { body, token });
const tenderNotes = async (token: string, tender: string) => {
  const res = await call(`tenders/${tender}`, { token });
  expect(res.status).toBe(200);
  return json<{ notes: TenderNote[]; notes_total: number }>(res);
};
const myNotesOn = async (token: string, tender: string) => {
  const res = await call(`me/notes?tender_id=${tender}`, { token });
  expect(res.status).toBe(200);
  return (await json<{ items: Note[] }>(res)).items;
};
const orgFavorites = async (orgId: string, token: string) => {
  const res = await call(`orgs/${orgId}/favorites`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ items: OrgFavorite[] }>(res)).items;
};

/** Company A: an owner, the victim (member) and a colleague (viewer); the victim shares a note and a favorite with A. */
async function companyA() {
  const [owner, victim, colleague] = await Promise.all([signedInUser(), signedInUser(), signedInUser()]);
  const orgA = await newOrg(owner.token);
  await joinByInvitation(orgA, owner.token, victim, "member");
  await joinByInvitation(orgA, owner.token, colleague, "viewer");
  const tender = await aTender();
  const note = await writeNote(victim.token, { tender_id: tender, note_text: "Our bid is 4.2 crore", is_shared: true, organization_id: orgA });
  expect(note.status, await note.clone().text()).toBe(201);
  const noteOut = await json<Note>(note);
  expect(noteOut).toMatchObject({ is_shared: true, organization_id: orgA });
  const fav = await call("me/favorites", { body: { tender_id: tender, folder: "Bids 2026", organization_id: orgA }, token: victim.token });
  expect(fav.status, await fav.clone().text()).toBe(201);
  const favOut = await json<{ id: string; organization_id: string | null }>(fav);
  expect(favOut.organization_id).toBe(orgA);
  return { owner, victim, colleague, orgA, tender, noteId: noteOut.id, favoriteId: favOut.id };
}

describe("shared notes and favorites belong to one organization", () => {
  it("the throwaway-organization attack: the attacker who brings the victim into org B sees nothing of org A", async () => {
    const a = await companyA();
    // The colleague in A sees the victim's shared items (positive control).
    expect((await tenderNotes(a.colleague.token, a.tender)).notes.map((n) => [n.note_text, n.organization_id])).toEqual([["Our bid is 4.2 crore", a.orgA]]);
    expect((await myNotesOn(a.colleague.token, a.tender)).map((n) => [n.note_text, n.own, n.author.id, n.organization_id])).toEqual([
      ["Our bid is 4.2 crore", false, a.victim.user.id, a.orgA],
    ]);
    expect((await orgFavorites(a.orgA, a.colleague.token)).map((f) => f.added_by.user_id)).toEqual([a.victim.user.id]);

    const attacker = await signedInUser();
    const orgB = await newOrg(attacker.token);
    await joinByInvitation(orgB, attacker.token, a.victim, "member");

    expect((await tenderNotes(attacker.token, a.tender)).notes).toEqual([]);
    expect((await tenderNotes(attacker.token, a.tender)).notes_total).toBe(0);
    expect(await myNotesOn(attacker.token, a.tender)).toEqual([]);
    expect(await orgFavorites(orgB, attacker.token)).toEqual([]);
    // And the victim's private favorite and private note are seen by nobody.
    const other = await aTender();
    expect((await call("me/favorites", { body: { tender_id: other }, token: a.victim.token })).status).toBe(201);
    expect((await writeNote(a.victim.token, { tender_id: other, note_text: "private" })).status).toBe(201);
    expect(await orgFavorites(orgB, attacker.token)).toEqual([]);
    expect((await orgFavorites(a.orgA, a.owner.token)).map((f) => f.tender.id)).toEqual([a.tender]);
    expect((await tenderNotes(a.owner.token, other)).notes).toEqual([]);
  });

  it("a member who leaves stops seeing at once; a removed member's shared items stop being shown and are unshared", async () => {
    const a = await companyA();
    expect((await call(`orgs/${a.orgA}/members/${a.colleague.user.id}`, { method: "DELETE", token: a.colleague.token })).status).toBe(204);
    expect((await tenderNotes(a.colleague.token, a.tender)).notes).toEqual([]);
    expect(await myNotesOn(a.colleague.token, a.tender)).toEqual([]);
    await expectProblem(await call(`orgs/${a.orgA}/favorites`, { token: a.colleague.token }), 404, "not_found");

    expect((await tenderNotes(a.owner.token, a.tender)).notes).toHaveLength(1);
    expect((await call(`orgs/${a.orgA}/members/${a.victim.user.id}`, { method: "DELETE", token: a.owner.token })).status).toBe(204);
    expect((await tenderNotes(a.owner.token, a.tender)).notes).toEqual([]);
    expect(await myNotesOn(a.owner.token, a.tender)).toEqual([]);
    expect(await orgFavorites(a.orgA, a.owner.token)).toEqual([]);
    // The author keeps the items, now private (rejoining later does not re-share them).
    expect((await myNotesOn(a.victim.token, a.tender)).map((n) => [n.id, n.is_shared, n.organization_id])).toEqual([[a.noteId, false, null]]);
    const favs = await json<{ items: { id: string; organization_id: string | null }[] }>(await call("me/favorites", { token: a.victim.token }));
    expect(favs.items.map((f) => [f.id, f.organization_id])).toEqual([[a.favoriteId, null]]);
  });

  it("deleting an organization leaves its shared notes and favorites with their authors, private", async () => {
    const a = await companyA();
    expect((await call(`orgs/${a.orgA}`, { method: "DELETE", token: a.owner.token })).status).toBe(204);
    expect((await myNotesOn(a.victim.token, a.tender)).map((n) => [n.id, n.is_shared, n.organization_id])).toEqual([[a.noteId, false, null]]);
    const favs = await json<{ items: { id: string; organization_id: string | null }[] }>(await call("me/favorites", { token: a.victim.token }));
    expect(favs.items.map((f) => [f.id, f.organization_id])).toEqual([[a.favoriteId, null]]);
  });

  it("reads join the author's and the reader's current membership: a membership deleted by any path counts at once", async () => {
    const a = await companyA();
    // The reader: the colleague's grants are cached by this isolate (ACCESS_CACHE_SECONDS), as
    // another isolate would still hold them after a removal; the reads check D1 themselves.
    expect(await orgFavorites(a.orgA, a.colleague.token)).toHaveLength(1);
    await deleteMembership(a.orgA, a.colleague.user.id);
    expect((await tenderNotes(a.colleague.token, a.tender)).notes).toEqual([]);
    expect(await myNotesOn(a.colleague.token, a.tender)).toEqual([]);
    expect(await orgFavorites(a.orgA, a.colleague.token)).toEqual([]);
    // The author.
    await deleteMembership(a.orgA, a.victim.user.id);
    expect((await tenderNotes(a.owner.token, a.tender)).notes).toEqual([]);
    expect(await myNotesOn(a.owner.token, a.tender)).toEqual([]);
    expect(await orgFavorites(a.orgA, a.owner.token)).toEqual([]);
  });

  it("a viewer cannot share notes or favorites; a foreign organization is 404; several organizations and none named is 422", async () => {
    const owner = await signedInUser();
    const orgA = await newOrg(owner.token);
    const viewer = await signedInUser();
    await joinByInvitation(orgA, owner.token, viewer, "viewer");
    const tender = await aTender();
    await expectProblem(await writeNote(viewer.token, { tender_id: tender, note_text: "x", is_shared: true }), 403, "forbidden");
    await expectProblem(await writeNote(viewer.token, { tender_id: tender, note_text: "x", organization_id: orgA }), 403, "forbidden");
    await expectProblem(await call("me/favorites", { body: { tender_id: tender, organization_id: orgA }, token: viewer.token }), 403, "forbidden");
    const fav = await json<{ id: string }>(await call("me/favorites", { body: { tender_id: tender }, token: viewer.token }));
    await expectProblem(await call(`me/favorites/${fav.id}`, { method: "PATCH", body: { organization_id: orgA }, token: viewer.token }), 403, "forbidden");
    // Nothing was written by the refused calls.
    expect((await myNotesOn(viewer.token, tender))).toEqual([]);
    expect(await orgFavorites(orgA, owner.token)).toEqual([]);

    const foreign = await newOrg((await signedInUser()).token);
    await expectProblem(await writeNote(owner.token, { tender_id: tender, note_text: "x", organization_id: foreign }), 404, "not_found");
    await expectProblem(await call("me/favorites", { body: { tender_id: tender, organization_id: foreign }, token: owner.token }), 404, "not_found");
    await expectProblem(await writeNote(owner.token, { tender_id: tender, note_text: "x", is_shared: false, organization_id: orgA }), 422, "validation_failed");

    // One organization: the default. Two: name one.
    const only = await json<Note>(await writeNote(owner.token, { tender_id: tender, note_text: "default org", is_shared: true }));
    expect(only.organization_id).toBe(orgA);
    const orgC = await newOrg(owner.token);
    const ambiguous = await expectProblem(await writeNote(owner.token, { tender_id: tender, note_text: "which?", is_shared: true }), 422, "validation_failed");
    expect(ambiguous.errors?.[0]?.path).toBe("organization_id");
    const named = await json<Note>(await writeNote(owner.token, { tender_id: tender, note_text: "to C", is_shared: true, organization_id: orgC }));
    expect(named.organization_id).toBe(orgC);
    // The viewer of A sees A's note only, not C's.
    expect((await tenderNotes(viewer.token, tender)).notes.map((n) => n.note_text)).toEqual(["default org"]);

    // PATCH: move a note to another organization, unshare it; a favorite shared then unshared with null.
    const moved = await call(`me/notes/${only.id}`, { method: "PATCH", body: { organization_id: orgC }, token: owner.token });
    expect(await json(moved)).toMatchObject({ organization_id: orgC, is_shared: true });
    expect((await tenderNotes(viewer.token, tender)).notes).toEqual([]);
    const unshared = await call(`me/notes/${only.id}`, { method: "PATCH", body: { is_shared: false }, token: owner.token });
    expect(await json(unshared)).toMatchObject({ organization_id: null, is_shared: false });
    const ownerFav = await json<{ id: string }>(await call("me/favorites", { body: { tender_id: tender }, token: owner.token }));
    const shared = await call(`me/favorites/${ownerFav.id}`, { method: "PATCH", body: { organization_id: orgA }, token: owner.token });
    expect(await json(shared)).toMatchObject({ organization_id: orgA });
    expect((await orgFavorites(orgA, viewer.token)).map((f) => f.id)).toEqual([ownerFav.id]);
    const back = await call(`me/favorites/${ownerFav.id}`, { method: "PATCH", body: { organization_id: null }, token: owner.token });
    expect(await json(back)).toMatchObject({ organization_id: null });
    expect(await orgFavorites(orgA, viewer.token)).toEqual([]);
  });

  it("read:tenders alone returns no notes; read:notes adds them", async () => {
    const a = await companyA();
    const tendersOnly = await apiKeyFor(a.colleague.token, ["read:tenders"]);
    const withNotes = await apiKeyFor(a.colleague.token, ["read:tenders", "read:notes"]);
    const bare = await json<Record<string, unknown>>(await call(`tenders/${a.tender}`, { apiKey: tendersOnly }));
    expect(bare.id).toBe(a.tender);
    expect(bare).not.toHaveProperty("notes");
    expect(bare).not.toHaveProperty("notes_total");
    const full = await json<{ notes: TenderNote[]; notes_total: number }>(await call(`tenders/${a.tender}`, { apiKey: withNotes }));
    expect(full.notes.map((n) => n.note_text)).toEqual(["Our bid is 4.2 crore"]);
    expect(full.notes_total).toBe(1);
  });

  it("a tender page embeds the newest 50 notes with notes_total", async () => {
    const { user, token } = await signedInUser();
    const tender = await aTender();
    const base = Date.now() - 100_000;
    for (let i = 0; i < 55; i++) {
      await insertNote(user.id, tender, { id: `note_cap_${String(i).padStart(3, "0")}_${user.id}`, note_text: `n${i}`, created_at: base + i, updated_at: base + i });
    }
    const page = await tenderNotes(token, tender);
    expect(page.notes_total).toBe(55);
    expect(page.notes).toHaveLength(50);
    expect(page.notes[0]!.note_text).toBe("n54");
    expect(page.notes[49]!.note_text).toBe("n5");
  });

  it("notes per user are capped (MAX_NOTES_PER_USER) inside the guarded insert: over it → 409 limit_reached", async () => {
    const { token } = await signedInUser();
    const tender = await aTender();
    const cap = { MAX_NOTES_PER_USER: "3" };
    for (let i = 0; i < 3; i++) {
      const res = await callWithConfig(cap, "me/notes", { body: { tender_id: tender, note_text: `n${i}` }, token });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    await expectProblem(await callWithConfig(cap, "me/notes", { body: { tender_id: tender, note_text: "one too many" }, token }), 409, "limit_reached");
    // Concurrent writes cannot pass the cap either.
    const other = await signedInUser();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => callWithConfig(cap, "me/notes", { body: { tender_id: tender, note_text: `p${i}` }, token: other.token })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409)).toHaveLength(3);
    expect((await myNotesOn(other.token, tender))).toHaveLength(3);
  });
});

describe("the migration of notes shared before organization_id", () => {
  it("maps a shared note to the author's only organization where they may share, else makes it private", async () => {
    const migrations = (env as unknown as { TEST_MIGRATIONS: { name: string; queries: string[] }[] }).TEST_MIGRATIONS;
    const backfill = migrations.flatMap((m) => m.queries).filter((q) => /^UPDATE `notes`/.test(q.replace(/^(\s*--[^\n]*\n)*\s*/, "")));
    expect(backfill.length).toBeGreaterThan(0);
    const [one, several, viewerOnly, none] = await Promise.all([signedInUser(), signedInUser(), signedInUser(), signedInUser()]);
    const orgs = Array.from({ length: 4 }, () => `org_${unique("mig")}`);
    const tender = await aTender();
    for (const id of orgs) await insertOrg({ id, name: "Legacy" });
    for (const [org, user, role] of [
      [orgs[0]!, one.user.id, "member"],
      [orgs[1]!, one.user.id, "viewer"],
      [orgs[1]!, several.user.id, "admin"],
      [orgs[2]!, several.user.id, "owner"],
      [orgs[3]!, viewerOnly.user.id, "viewer"],
    ] as const) {
      await addMember(org, user, role);
    }
    await env.DB.batch([
      // Rows as the old code wrote them: is_shared = 1, no organization (raw: no fixture writes the old shape).
      ...[one, several, viewerOnly, none].map((u) =>
        env.DB.prepare("INSERT INTO notes (id, user_id, tender_id, note_text, is_shared) VALUES (?, ?, ?, 'legacy', 1)").bind(`note_legacy_${u.user.id}`, u.user.id, tender),
      ),
    ]);
    await env.DB.batch(backfill.map((q) => env.DB.prepare(q)));
    const rows = await env.DB.prepare("SELECT user_id, is_shared, organization_id FROM notes WHERE id LIKE 'note_legacy_%' AND tender_id = ?").bind(tender).all<{ user_id: string; is_shared: number; organization_id: string | null }>();
    const byUser = Object.fromEntries(rows.results.map((r) => [r.user_id, [r.is_shared, r.organization_id]]));
    expect(byUser).toEqual({
      [one.user.id]: [1, orgs[0]],
      [several.user.id]: [0, null],
      [viewerOnly.user.id]: [0, null],
      [none.user.id]: [0, null],
    });
  });
});

describe("audit rows do not leak other people", () => {
  it("/me/activity and /me/export show ip_address and user_agent only on the user's own acts", async () => {
    const owner = await signedInUser();
    const orgA = await newOrg(owner.token);
    const member = await signedInUser();
    await joinByInvitation(orgA, owner.token, member, "member");
    const ownerIp = "203.0.113.77";
    const ownerUa = "owner-browser/9.9";
    const changed = await call(`orgs/${orgA}/members/${member.user.id}`, { method: "PATCH", body: { role: "viewer" }, token: owner.token, ip: ownerIp, headers: { "User-Agent": ownerUa } });
    expect(changed.status).toBe(200);

    const activity = await json<{ items: { action: string; ip_address: string | null; user_agent: string | null }[] }>(await call("me/activity?limit=100", { token: member.token }));
    const done = activity.items.find((e) => e.action === "org.member_role_changed");
    expect(done).toMatchObject({ ip_address: null, user_agent: null });
    const own = activity.items.find((e) => e.action === "auth.login_succeeded");
    expect(own?.ip_address).toBe(member.user.ip);
    expect(own?.user_agent).toBe("keel-tests/1.0");
    expect(JSON.stringify(activity)).not.toContain(ownerIp);
    expect(JSON.stringify(activity)).not.toContain(ownerUa);

    const res = await call("me/export", { token: member.token });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(ownerIp);
    expect(text).not.toContain(ownerUa);
    const doc = JSON.parse(text) as { sections: Record<string, Record<string, unknown>[]> };
    const exported = doc.sections.audit_events!.find((e) => e.action === "org.member_role_changed");
    expect(exported).toMatchObject({ ip_address: null, user_agent: null, actor_id: owner.user.id });
    expect(doc.sections.audit_events!.find((e) => e.action === "auth.login_succeeded")).toMatchObject({ ip_address: member.user.ip });
  });
});

describe("pending invitations die with the inviter's power", () => {
  const pendingIds = async (orgId: string, token: string) =>
    (await json<{ items: { id: string }[] }>(await call(`orgs/${orgId}/invitations`, { token }))).items.map((i) => i.id);

  it("demoting an admin below admin, or removing one, revokes the invitations they sent that are still pending", async () => {
    const owner = await signedInUser();
    const orgA = await newOrg(owner.token);
    await setOrgPlan(orgA, { max_users: 25 });
    const [admin1, admin2] = await Promise.all([signedInUser(), signedInUser()]);
    await joinByInvitation(orgA, owner.token, admin1, "admin");
    await joinByInvitation(orgA, owner.token, admin2, "admin");
    const inviteAs = async (token: string) => {
      const res = await call(`orgs/${orgA}/invitations`, { body: { email: `${unique("inv")}@example.com`, role: "member" }, token });
      expect(res.status).toBe(201);
      return (await json<{ id: string }>(res)).id;
    };
    const byAdmin1 = await inviteAs(admin1.token);
    const byAdmin2 = await inviteAs(admin2.token);
    const byOwner = await inviteAs(owner.token);

    // A change that keeps admin power revokes nothing.
    expect((await call(`orgs/${orgA}/members/${admin1.user.id}`, { method: "PATCH", body: { role: "admin" }, token: owner.token })).status).toBe(200);
    expect((await pendingIds(orgA, owner.token)).sort()).toEqual([byAdmin1, byAdmin2, byOwner].sort());

    expect((await call(`orgs/${orgA}/members/${admin1.user.id}`, { method: "PATCH", body: { role: "member" }, token: owner.token })).status).toBe(200);
    expect((await pendingIds(orgA, owner.token)).sort()).toEqual([byAdmin2, byOwner].sort());
    expect((await call(`orgs/${orgA}/members/${admin2.user.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect(await pendingIds(orgA, owner.token)).toEqual([byOwner]);
    const revoked = await env.DB.prepare("SELECT id FROM invitations WHERE id IN (?, ?) AND revoked_at IS NOT NULL").bind(byAdmin1, byAdmin2).all();
    expect(revoked.results).toHaveLength(2);
  });
});
