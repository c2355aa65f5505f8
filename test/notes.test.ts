import { describe, expect, it } from "vitest";
import { type OrgRole, orgWithMembers, setMemberRole } from "./helpers/fixtures";
import { call, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";

interface Note {
  id: string;
  tender_id: string;
  note_text: string;
  note_type: string;
  is_shared: boolean;
}

async function aTender() {
  const { key } = await tenderAdmin();
  const ext = unique("note");
  await ingest(key, [{ external_id: ext, title: "Tender with notes" }]);
  return tenderId(ext);
}

const org = (members: [userId: string, role: OrgRole][]) => orgWithMembers(members);

const write = (token: string, body: Record<string, unknown>) => call("me/notes", { body, token });
const notesOn = async (token: string, tender: string) =>
  (await json<{ notes: { note_text: string; own: boolean; author: { id: string } }[] }>(await call(`tenders/${tender}`, { token }))).notes;

describe("notes", () => {
  it("creates typed notes, lists own notes by tender, edits and deletes them", async () => {
    const tender = await aTender();
    const { token } = await signedInUser();
    const res = await write(token, { tender_id: tender, note_text: "EMD is 2%", note_type: "financial" });
    expect(res.status).toBe(201);
    const note = await json<Note>(res);
    expect(note).toMatchObject({ tender_id: tender, note_type: "financial", is_shared: false });
    await write(token, { tender_id: tender, note_text: "Site visit" });
    const list = await json<{ items: Note[] }>(await call(`me/notes?tender_id=${tender}`, { token }));
    expect(list.items.map((n) => n.note_text)).toEqual(["Site visit", "EMD is 2%"]);
    const edited = await call(`me/notes/${note.id}`, { method: "PATCH", body: { note_type: "risk", note_text: "EMD 3%" }, token });
    expect(await json(edited)).toMatchObject({ note_type: "risk", note_text: "EMD 3%" });
    await expectProblem(await write(token, { tender_id: "tnd_nope", note_text: "x" }), 404, "not_found");
    await expectProblem(await write(token, { tender_id: tender, note_text: "x", note_type: "gossip" }), 422, "validation_failed");
    const other = await signedInUser();
    await expectProblem(await call(`me/notes/${note.id}`, { method: "PATCH", body: { note_text: "mine" }, token: other.token }), 404, "not_found");
    await expectProblem(await call(`me/notes/${note.id}`, { method: "DELETE", token: other.token }), 404, "not_found");
    expect((await call(`me/notes/${note.id}`, { method: "DELETE", token })).status).toBe(204);
  });

  it("a shared note is seen by fellow organization members on GET /tenders/{id}, not by outsiders; private notes stay private", async () => {
    const tender = await aTender();
    const author = await signedInUser();
    const colleague = await signedInUser();
    const viewer = await signedInUser();
    const outsider = await signedInUser();
    await org([[author.user.id, "member"], [colleague.user.id, "admin"], [viewer.user.id, "viewer"]]);
    await org([[outsider.user.id, "owner"]]);
    expect((await write(author.token, { tender_id: tender, note_text: "Shared insight", is_shared: true })).status).toBe(201);
    expect((await write(author.token, { tender_id: tender, note_text: "Private thought" })).status).toBe(201);

    expect((await notesOn(author.token, tender)).map((n) => [n.note_text, n.own])).toEqual([["Private thought", true], ["Shared insight", true]]);
    const seen = await notesOn(colleague.token, tender);
    expect(seen.map((n) => [n.note_text, n.own, n.author.id])).toEqual([["Shared insight", false, author.user.id]]);
    expect((await notesOn(viewer.token, tender)).map((n) => n.note_text)).toEqual(["Shared insight"]);
    expect(await notesOn(outsider.token, tender)).toEqual([]);
  });

  it("a viewer (or a user in no organization) cannot share; a member can, and a demotion counts at once", async () => {
    const tender = await aTender();
    const viewer = await signedInUser();
    const loner = await signedInUser();
    const member = await signedInUser();
    await org([[viewer.user.id, "viewer"]]);
    const memberOrg = await org([[member.user.id, "member"]]);
    await expectProblem(await write(viewer.token, { tender_id: tender, note_text: "x", is_shared: true }), 403, "forbidden");
    await expectProblem(await write(loner.token, { tender_id: tender, note_text: "x", is_shared: true }), 403, "forbidden");
    const own = await json<Note>(await write(viewer.token, { tender_id: tender, note_text: "private is fine" }));
    await expectProblem(await call(`me/notes/${own.id}`, { method: "PATCH", body: { is_shared: true }, token: viewer.token }), 403, "forbidden");
    expect((await json<{ items: Note[] }>(await call(`me/notes?tender_id=${tender}`, { token: viewer.token }))).items[0]?.is_shared).toBe(false);

    const shared = await json<Note>(await write(member.token, { tender_id: tender, note_text: "ok", is_shared: true }));
    expect(shared.is_shared).toBe(true);
    await setMemberRole(memberOrg, member.user.id, "viewer");
    await expectProblem(await write(member.token, { tender_id: tender, note_text: "again", is_shared: true }), 403, "forbidden");
  });
});
