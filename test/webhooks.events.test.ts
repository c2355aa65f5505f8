import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { signedInWithRole } from "./helpers/admin";
import { orgWithMembers } from "./helpers/fixtures";
import { ingest, tenderAdmin, tenderId } from "./helpers/tenders";
import { call, eventually, json, signedInUser, unique } from "./helpers/harness";

// Events emitted by the features (notes, favorites, users, admin, GDPR), each through the real
// queue to the globalSetup receiver (test/helpers/webhook-receiver.global.ts), which verifies the
// signature with the standardwebhooks package. Small helpers copied from test/webhooks.test.ts.

const receiver = () => inject("webhookReceiverUrl");
const hookUrl = (name: string) => `${receiver()}/hooks/${name}`;
async function configure(name: string, cfg: { status?: number; secrets?: string[] }) {
  const res = await fetch(`${receiver()}/config`, { method: "POST", body: JSON.stringify({ name, ...cfg }) });
  expect(res.status).toBe(200);
}
interface Received { id: string; body: string; verified: Record<string, boolean> }
async function received(name: string) {
  return json<{ deliveries: Received[] }>(await fetch(`${receiver()}/received/${name}`));
}
interface Event { id: string; type: string; timestamp: string; data: Record<string, any> }
async function bodies(name: string): Promise<Event[]> {
  return (await received(name)).deliveries.map((d) => JSON.parse(d.body) as Event);
}
/** A verified endpoint named `name` listening to `events` under `base`. */
async function hook(token: string, base: string, events: string[]) {
  const name = unique("ev");
  const res = await call(base, { body: { url: hookUrl(name), events }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  const { secret } = await json<{ secret: string }>(res);
  await configure(name, { secrets: [secret] });
  return { name, secret };
}
/** Waits until the receiver got `n` deliveries for `name`, all verified; a short extra wait then checks nothing more came. */
async function exactly(name: string, secret: string, n: number): Promise<Event[]> {
  await eventually(async () => expect((await received(name)).deliveries.length).toBeGreaterThanOrEqual(n), 15_000);
  await new Promise((r) => setTimeout(r, 1500));
  const got = await received(name);
  for (const d of got.deliveries) expect(d.verified[secret]).toBe(true);
  expect(got.deliveries).toHaveLength(n);
  return got.deliveries.map((d) => JSON.parse(d.body) as Event);
}
async function aTender() {
  const { key } = await tenderAdmin();
  const ext = unique("evt-tender");
  await ingest(key, [{ external_id: ext, title: "Tender for events" }]);
  return tenderId(ext);
}

describe("note.shared", () => {
  it("reaches the organization's endpoint when a note is created shared or PATCHed into it, as GET /orgs/{id}/notes shows it; private notes and other organizations get nothing", async () => {
    const owner = await signedInUser();
    const member = await signedInUser();
    const orgId = await orgWithMembers([
      [owner.user.id, "owner"],
      [member.user.id, "member"],
    ]);
    const otherOrg = await orgWithMembers([
      [owner.user.id, "owner"],
      [member.user.id, "member"],
    ]);
    const mine = await hook(owner.token, `orgs/${orgId}/webhooks`, ["note.shared"]);
    const theirs = await hook(owner.token, `orgs/${otherOrg}/webhooks`, ["note.shared"]);
    const tender = await aTender();

    // A private note, and an edit of it that stays private: nothing.
    const priv = await json<{ id: string }>(await call("me/notes", { body: { tender_id: tender, note_text: "secret plan" }, token: member.token }));
    expect((await call(`me/notes/${priv.id}`, { method: "PATCH", body: { note_text: "still secret" }, token: member.token })).status).toBe(200);
    // Created shared with the organization.
    const created = await call("me/notes", { body: { tender_id: tender, note_text: "shared at once", organization_id: orgId }, token: member.token });
    expect(created.status).toBe(201);
    const a = await json<{ id: string }>(created);
    // Editing a note already shared there is not a new share.
    expect((await call(`me/notes/${a.id}`, { method: "PATCH", body: { note_text: "shared, edited" }, token: member.token })).status).toBe(200);
    // A private note PATCHed into the organization.
    const b = await json<{ id: string }>(await call("me/notes", { body: { tender_id: tender, note_text: "later shared" }, token: member.token }));
    expect((await call(`me/notes/${b.id}`, { method: "PATCH", body: { organization_id: orgId, note_type: "risk" }, token: member.token })).status).toBe(200);

    const events = await exactly(mine.name, mine.secret, 2);
    expect(events.map((e) => e.type)).toEqual(["note.shared", "note.shared"]);
    const orgView = await json<{ items: Record<string, unknown>[] }>(await call(`orgs/${orgId}/notes`, { token: owner.token }));
    for (const e of events) {
      expect(e.data.organization_id).toBe(orgId);
      const shown = orgView.items.find((n) => n.id === e.data.note.id)!;
      const { own: _own, ...expected } = shown;
      expect(e.data.note).toEqual(e.data.note.id === a.id ? { ...expected, note_text: "shared at once", updated_at: e.data.note.updated_at } : expected);
    }
    expect(events.find((e) => e.data.note.id === b.id)!.data.note).toMatchObject({ note_text: "later shared", note_type: "risk", author: { id: member.user.id } });
    for (const e of events) expect(JSON.stringify(e)).not.toContain("secret");
    expect((await received(theirs.name)).deliveries).toHaveLength(0);
  });

  it("a share the caller may not make (viewer) emits nothing", async () => {
    const owner = await signedInUser();
    const viewer = await signedInUser();
    const orgId = await orgWithMembers([
      [owner.user.id, "owner"],
      [viewer.user.id, "viewer"],
    ]);
    const h = await hook(owner.token, `orgs/${orgId}/webhooks`, ["note.shared"]);
    const tender = await aTender();
    expect((await call("me/notes", { body: { tender_id: tender, note_text: "x", organization_id: orgId }, token: viewer.token })).status).toBe(403);
    const n = await json<{ id: string }>(await call("me/notes", { body: { tender_id: tender, note_text: "y" }, token: viewer.token }));
    expect((await call(`me/notes/${n.id}`, { method: "PATCH", body: { organization_id: orgId }, token: viewer.token })).status).toBe(403);
    await exactly(h.name, h.secret, 0);
  });
});

describe("platform user events", () => {
  const ofUser = (events: Event[], id: string) => events.filter((e) => e.data.id === id);

  it("PATCH /me sends user.updated with the fields sent (the phone's value stays out); admin suspend → user.suspended once; activate → user.updated; bulk delete → user.deleted with {id} only", async () => {
    const root = await signedInWithRole("superuser");
    const platform = await hook(root.token, "admin/webhooks", ["user.updated", "user.suspended", "user.deleted"]);
    const other = await hook(root.token, "admin/webhooks", ["user.created"]);
    const u = await signedInUser();
    const v = await signedInUser();

    expect((await call("me", { method: "PATCH", body: { full_name: "New Name", phone: "+919876543210" }, token: u.token })).status).toBe(200);
    expect((await call(`admin/users/${u.user.id}/suspend`, { method: "POST", token: root.token })).status).toBe(200);
    // Already suspended: no second event.
    expect((await call(`admin/users/${u.user.id}/suspend`, { method: "POST", token: root.token })).status).toBe(200);
    expect((await call(`admin/users/${u.user.id}/activate`, { method: "POST", token: root.token })).status).toBe(200);
    // Refused (the administrator itself): nothing.
    expect((await call(`admin/users/${root.user.id}/suspend`, { method: "POST", token: root.token })).status).toBe(403);
    const bulk = await call("admin/users/bulk", { body: { action: "delete", user_ids: [v.user.id] }, token: root.token });
    expect(bulk.status).toBe(200);
    expect((await json<{ succeeded: string[] }>(bulk)).succeeded).toEqual([v.user.id]);

    await eventually(async () => {
      const all = await bodies(platform.name);
      expect(ofUser(all, u.user.id)).toHaveLength(3);
      expect(ofUser(all, v.user.id)).toHaveLength(1);
    }, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const all = await bodies(platform.name);
    for (const d of (await received(platform.name)).deliveries) expect(d.verified[platform.secret]).toBe(true);
    const mine = ofUser(all, u.user.id).sort((a, b) => a.id.localeCompare(b.id));
    expect(mine.map((e) => e.type)).toEqual(["user.updated", "user.suspended", "user.updated"]);
    expect(mine[0]!.data).toEqual({ id: u.user.id, fields: ["full_name", "phone"], full_name: "New Name" });
    expect(JSON.stringify(mine[0])).not.toContain("9876543210");
    expect(mine[1]!.data).toEqual({ id: u.user.id, status: "suspended" });
    expect(mine[2]!.data).toEqual({ id: u.user.id, fields: ["status"], status: "active" });
    expect(ofUser(all, v.user.id).map((e) => [e.type, e.data])).toEqual([["user.deleted", { id: v.user.id }]]);
    expect(ofUser(all, root.user.id)).toEqual([]);
    // An endpoint not listening to these types gets none of them.
    expect((await bodies(other.name)).filter((e) => e.type !== "user.created")).toEqual([]);
  });

  it("DELETE /me sends user.deleted carrying the id only", async () => {
    const root = await signedInWithRole("superuser");
    const platform = await hook(root.token, "admin/webhooks", ["user.deleted"]);
    const u = await signedInUser();
    expect((await call("me", { method: "DELETE", token: u.token, body: { password: u.user.password } })).status).toBe(202);
    await eventually(async () => expect(ofUser(await bodies(platform.name), u.user.id)).toHaveLength(1), 15_000);
    const [e] = ofUser(await bodies(platform.name), u.user.id);
    expect(e).toMatchObject({ type: "user.deleted", data: { id: u.user.id } });
    expect(Object.keys(e!.data)).toEqual(["id"]);
    expect(JSON.stringify(e)).not.toContain(u.user.email);
  });
});

describe("favorite.shared", () => {
  it("reaches the organization's endpoint when a favorite is saved shared or PATCHed into it, as GET /orgs/{id}/favorites shows it; private saves, re-saves and other organizations get nothing", async () => {
    const owner = await signedInUser();
    const member = await signedInUser();
    const orgId = await orgWithMembers([
      [owner.user.id, "owner"],
      [member.user.id, "member"],
    ]);
    const otherOrg = await orgWithMembers([[owner.user.id, "owner"]]);
    const mine = await hook(owner.token, `orgs/${orgId}/webhooks`, ["favorite.shared"]);
    const theirs = await hook(owner.token, `orgs/${otherOrg}/webhooks`, ["favorite.shared"]);
    const [t1, t2] = [await aTender(), await aTender()];

    // Saved shared at once, then saved again (already shared there): one event.
    expect((await call("me/favorites", { body: { tender_id: t1, organization_id: orgId, folder: "bids", tags: ["x"] }, token: member.token })).status).toBe(201);
    expect((await call("me/favorites", { body: { tender_id: t1, organization_id: orgId, priority: "high" }, token: member.token })).status).toBe(200);
    // Saved private, edited private, then PATCHed into the organization.
    const priv = await json<{ id: string }>(await call("me/favorites", { body: { tender_id: t2 }, token: member.token }));
    expect((await call(`me/favorites/${priv.id}`, { method: "PATCH", body: { folder: "private" }, token: member.token })).status).toBe(200);
    expect((await call(`me/favorites/${priv.id}`, { method: "PATCH", body: { organization_id: orgId, priority: "low" }, token: member.token })).status).toBe(200);

    const events = await exactly(mine.name, mine.secret, 2);
    expect(events.map((e) => e.type)).toEqual(["favorite.shared", "favorite.shared"]);
    const orgView = await json<{ items: Record<string, any>[] }>(await call(`orgs/${orgId}/favorites`, { token: owner.token }));
    const first = events.find((e) => e.data.favorite.tender.id === t1)!;
    const second = events.find((e) => e.data.favorite.tender.id === t2)!;
    for (const e of events) expect(e.data.organization_id).toBe(orgId);
    // As it was when shared (the later re-save set the priority).
    expect(first.data.favorite).toEqual({ ...orgView.items.find((f) => f.tender.id === t1), priority: null });
    expect(second.data.favorite).toEqual(orgView.items.find((f) => f.tender.id === t2));
    expect(second.data.favorite).toMatchObject({ id: priv.id, folder: "private", priority: "low", added_by: { user_id: member.user.id } });
    expect((await received(theirs.name)).deliveries).toHaveLength(0);
  });
});

describe("user.imported", () => {
  it("an admin import that creates users sends one user.imported with counts and ids, no hash and no personal field", async () => {
    const root = await signedInWithRole("superuser");
    const platform = await hook(root.token, "admin/webhooks", ["user.imported"]);
    const email = `${unique("imp")}@example.com`;
    const res = await call("admin/users/import", { body: { mode: "skip", users: [{ email, full_name: "Imported Person", phone: "+91 98765 43210" }] }, token: root.token });
    expect(res.status, await res.clone().text()).toBe(200);
    const again = await call("admin/users/import", { body: { mode: "skip", users: [{ email, full_name: "Imported Person" }] }, token: root.token });
    expect((await json<{ skipped: number }>(again)).skipped).toBe(1);
    const [e] = await exactly(platform.name, platform.secret, 1);
    const id = (await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first<{ id: string }>())!.id;
    expect(e).toMatchObject({ type: "user.imported", data: { mode: "skip", created: 1, updated: 0, skipped: 0, failed: 0, created_ids: [id], updated_ids: [] } });
    for (const secretish of [email, "Imported Person", "98765"]) expect(JSON.stringify(e)).not.toContain(secretish);
  });
});
