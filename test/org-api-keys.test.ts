import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/platform/crypto";
import { addMember, insertTender, closingIn } from "./helpers/fixtures";
import { call, expectProblem, json, randomIp, signedInUser, unique } from "./helpers/harness";

/** Organization API keys (issue 18.6): keys that belong to an organization, not to a person. */

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  scopes: string[];
  allowed_ips: string[] | null;
  rate_limit_per_hour: number;
  created_by: string | null;
}

type Signed = Awaited<ReturnType<typeof signedInUser>>;

async function orgOf(owner: Signed): Promise<string> {
  const res = await call("orgs", { body: { name: `Org ${unique("o")}` }, token: owner.token });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json<{ id: string }>(res)).id;
}

async function createOrgKey(orgId: string, token: string, body: Record<string, unknown> = {}) {
  const res = await call(`orgs/${orgId}/api-keys`, { body: { name: "sync", scopes: ["read:org", "read:members", "read:shared"], ...body }, token });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<CreatedKey>(res);
}

const ALL_SCOPES = ["read:members", "read:org", "read:shared", "write:webhooks"];

describe("POST / GET / DELETE /orgs/{id}/api-keys", () => {
  it("an admin creates a key shown once (only its hash stored), lists it without secrets, and both are audited", async () => {
    const owner = await signedInUser();
    const org = await orgOf(owner);
    const admin = await signedInUser();
    await addMember(org, admin.user.id, "admin");
    const created = await createOrgKey(org, admin.token, { name: "CRM sync" });
    expect(created.key).toMatch(/^keelorg_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ name: "CRM sync", scopes: ["read:members", "read:org", "read:shared"], created_by: admin.user.id, allowed_ips: null });
    const row = await env.DB.prepare("SELECT key_hash, organization_id FROM org_api_keys WHERE id = ?").bind(created.id).first<{ key_hash: string; organization_id: string }>();
    expect(row).toEqual({ key_hash: sha256Hex(created.key), organization_id: org });

    // Any admin lists it (the owner here), never the secret nor its hash.
    const list = await call(`orgs/${org}/api-keys`, { token: owner.token });
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(row!.key_hash);
    expect(JSON.parse(text).items.map((k: { id: string }) => k.id)).toEqual([created.id]);

    // Any admin revokes it; the key stops at once.
    expect((await call(`orgs/${org}/api-keys/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${org}`, { apiKey: created.key }), 401, "unauthenticated");
    await expectProblem(await call(`orgs/${org}/api-keys/${created.id}`, { method: "DELETE", token: owner.token }), 404, "not_found");
    expect((await json<{ items: unknown[] }>(await call(`orgs/${org}/api-keys`, { token: owner.token }))).items).toEqual([]);

    const audit = await env.DB.prepare(
      "SELECT action, user_id, json_extract(details, '$.key_id') AS key_id FROM audit_log WHERE action LIKE 'org.api_key_%' AND json_extract(details, '$.organization_id') = ? ORDER BY id",
    )
      .bind(org)
      .all<{ action: string; user_id: string; key_id: string }>();
    expect(audit.results).toEqual([
      { action: "org.api_key_created", user_id: admin.user.id, key_id: created.id },
      { action: "org.api_key_revoked", user_id: owner.user.id, key_id: created.id },
    ]);
  });

  it("members below admin and other organizations' admins cannot create, list or revoke (403 / 404 as for the organization)", async () => {
    const owner = await signedInUser();
    const org = await orgOf(owner);
    const key = await createOrgKey(org, owner.token);
    const member = await signedInUser();
    await addMember(org, member.user.id, "member");
    await expectProblem(await call(`orgs/${org}/api-keys`, { token: member.token }), 403, "forbidden");
    await expectProblem(await call(`orgs/${org}/api-keys`, { body: { name: "x", scopes: ["read:org"] }, token: member.token }), 403, "forbidden");
    await expectProblem(await call(`orgs/${org}/api-keys/${key.id}`, { method: "DELETE", token: member.token }), 403, "forbidden");

    const stranger = await signedInUser();
    const otherOrg = await orgOf(stranger);
    await expectProblem(await call(`orgs/${org}/api-keys`, { token: stranger.token }), 404, "not_found");
    // Their own organization's route with this organization's key id: not found, and the key lives on.
    await expectProblem(await call(`orgs/${otherOrg}/api-keys/${key.id}`, { method: "DELETE", token: stranger.token }), 404, "not_found");
    expect((await call(`orgs/${org}`, { apiKey: key.key })).status).toBe(200);
  });

  it("validates scopes: a user-key scope or an unknown one is refused", async () => {
    const owner = await signedInUser();
    const org = await orgOf(owner);
    for (const scopes of [["read:profile"], ["root:everything"], []]) {
      await expectProblem(await call(`orgs/${org}/api-keys`, { body: { name: "x", scopes }, token: owner.token }), 422, "validation_failed");
    }
  });

  it("caps unrevoked keys per organization (409 limit_reached)", async () => {
    const owner = await signedInUser();
    const org = await orgOf(owner);
    // Fill up to the default cap straight in D1, then one more through the API is refused.
    const stmts = Array.from({ length: 25 }, (_, i) =>
      env.DB.prepare("INSERT INTO org_api_keys (id, organization_id, name, prefix, key_hash, scopes) VALUES (?, ?, 'k', 'keelorg_x', ?, '[\"read:org\"]')").bind(`okey_${unique("c")}${i}`, org, unique("h")),
    );
    await env.DB.batch(stmts);
    await expectProblem(await call(`orgs/${org}/api-keys`, { body: { name: "x", scopes: ["read:org"] }, token: owner.token }), 409, "limit_reached");
  });
});

describe("an organization key acting", () => {
  let owner: Signed;
  let org: string;
  let key: CreatedKey;
  beforeAll(async () => {
    owner = await signedInUser();
    org = await orgOf(owner);
    key = await createOrgKey(org, owner.token);
  });

  it("reads its organization, members and shared favorites with the matching scopes", async () => {
    const org1 = await call(`orgs/${org}`, { apiKey: key.key });
    expect(org1.status, await org1.clone().text()).toBe(200);
    expect(await json(org1)).toMatchObject({ id: org, role: null });
    const members = await json<{ items: { user_id: string }[] }>(await call(`orgs/${org}/members`, { apiKey: key.key }));
    expect(members.items.map((m) => m.user_id)).toEqual([owner.user.id]);
    // A favorite an owner shared with the organization is visible to the key.
    const tender = await insertTender({ id: `tnd_${unique("ok")}`, title: "Shared bridge", closing_date: closingIn(30) });
    const fav = await call("me/favorites", { body: { tender_id: tender, organization_id: org }, token: owner.token });
    expect(fav.status, await fav.clone().text()).toBe(201);
    const shared = await json<{ items: { tender: { id: string } }[] }>(await call(`orgs/${org}/favorites`, { apiKey: key.key }));
    expect(shared.items.map((f) => f.tender.id)).toEqual([tender]);
    // And a note shared with the organization; a private note is not.
    for (const [text, organization_id] of [["Shared note", org], ["Private note", undefined]] as const) {
      const note = await call("me/notes", { body: { tender_id: tender, note_text: text, ...(organization_id ? { organization_id } : {}) }, token: owner.token });
      expect(note.status, await note.clone().text()).toBe(201);
    }
    const notes = await json<{ items: { note_text: string; own: boolean; author: { id: string } }[] }>(await call(`orgs/${org}/notes`, { apiKey: key.key }));
    expect(notes.items.map((n) => [n.note_text, n.own, n.author.id])).toEqual([["Shared note", false, owner.user.id]]);
    // Also as Authorization: Bearer.
    expect((await call(`orgs/${org}`, { token: key.key })).status).toBe(200);
  });

  it("needs the route's scope", async () => {
    const narrow = await createOrgKey(org, owner.token, { scopes: ["read:org"] });
    expect((await call(`orgs/${org}`, { apiKey: narrow.key })).status).toBe(200);
    await expectProblem(await call(`orgs/${org}/members`, { apiKey: narrow.key }), 403, "insufficient_scope");
    await expectProblem(await call(`orgs/${org}/favorites`, { apiKey: narrow.key }), 403, "insufficient_scope");
    await expectProblem(await call(`orgs/${org}/notes`, { apiKey: narrow.key }), 403, "insufficient_scope");
  });

  it("acts only in its organization: another organization's id answers 404 like a missing one", async () => {
    const other = await signedInUser();
    const otherOrg = await orgOf(other);
    const foreign = await call(`orgs/${otherOrg}`, { apiKey: key.key });
    const missing = await call(`orgs/org_${unique("nope")}`, { apiKey: key.key });
    await expectProblem(foreign, 404, "not_found");
    await expectProblem(missing, 404, "not_found");
  });

  it("cannot write in its organization, nor manage keys, nor act as anyone", async () => {
    await expectProblem(await call(`orgs/${org}`, { method: "PATCH", body: { name: "Renamed by a key" }, apiKey: key.key }), 403, "insufficient_scope");
    await expectProblem(await call(`orgs/${org}/api-keys`, { apiKey: key.key }), 403, "insufficient_scope");
    await expectProblem(await call(`orgs/${org}/api-keys`, { body: { name: "x", scopes: ALL_SCOPES }, apiKey: key.key }), 403, "insufficient_scope");
    await expectProblem(await call("me", { apiKey: key.key }), 403, "insufficient_scope");
    await expectProblem(await call("me/favorites", { apiKey: key.key }), 403, "insufficient_scope");
  });

  it("keeps working when the admin who made it leaves the organization, and when that account is deleted", async () => {
    const owner2 = await signedInUser();
    const org2 = await orgOf(owner2);
    const admin = await signedInUser();
    await addMember(org2, admin.user.id, "admin");
    const k = await createOrgKey(org2, admin.token);
    expect((await call(`orgs/${org2}/members/${admin.user.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await call(`orgs/${org2}/members`, { apiKey: k.key })).status).toBe(200);
    // The account row goes (as the erasure purge does): the key stays, created_by is forgotten.
    await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(admin.user.id).run();
    expect((await call(`orgs/${org2}/members`, { apiKey: k.key })).status).toBe(200);
    const listed = await json<{ items: CreatedKey[] }>(await call(`orgs/${org2}/api-keys`, { token: owner2.token }));
    expect(listed.items.map((i) => [i.id, i.created_by])).toEqual([[k.id, null]]);
  });

  it("dies with its organization", async () => {
    const owner3 = await signedInUser();
    const org3 = await orgOf(owner3);
    const k = await createOrgKey(org3, owner3.token);
    expect((await call(`orgs/${org3}`, { apiKey: k.key })).status).toBe(200);
    expect((await call(`orgs/${org3}`, { method: "DELETE", token: owner3.token })).status).toBe(204);
    await expectProblem(await call(`orgs/${org3}`, { apiKey: k.key }), 401, "unauthenticated");
  });

  it("honours its IP allow-list and its hourly limit", async () => {
    const ip = randomIp();
    const k = await createOrgKey(org, owner.token, { allowed_ips: [ip], rate_limit_per_hour: 2 });
    await expectProblem(await call(`orgs/${org}`, { apiKey: k.key, ip: randomIp() }), 403, "forbidden");
    const first = await call(`orgs/${org}`, { apiKey: k.key, ip });
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Limit")).toBe("2");
    expect((await call(`orgs/${org}`, { apiKey: k.key, ip })).status).toBe(200);
    await expectProblem(await call(`orgs/${org}`, { apiKey: k.key, ip }), 429, "rate_limited");
  });
});

describe("an organization key with write:webhooks", () => {
  it("manages its organization's webhook endpoints, and outlives its creator there; a key without the scope cannot", async () => {
    const owner = await signedInUser();
    const org = await orgOf(owner);
    const hooks = await createOrgKey(org, owner.token, { name: "hooks", scopes: ["write:webhooks"] });
    const reader = await createOrgKey(org, owner.token, { name: "reader", scopes: ["read:org"] });

    const created = await call(`orgs/${org}/webhooks`, { apiKey: hooks.key, body: { url: "https://hooks.example.com/keel", events: ["organization.updated"] } });
    expect(created.status, await created.clone().text()).toBe(201);
    const endpoint = await json<{ id: string; secret: string }>(created);
    expect(endpoint.secret).toMatch(/^whsec_/);
    const row = await env.DB.prepare("SELECT org_id, created_by FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first();
    expect(row).toEqual({ org_id: org, created_by: null });

    const list = await json<{ items: { id: string }[] }>(await call(`orgs/${org}/webhooks`, { apiKey: hooks.key }));
    expect(list.items.map((e) => e.id)).toEqual([endpoint.id]);
    await expectProblem(await call(`orgs/${org}/webhooks`, { apiKey: reader.key }), 403, "insufficient_scope");
    await expectProblem(
      await call(`orgs/${org}/webhooks`, { apiKey: reader.key, body: { url: "https://hooks.example.com/x", events: ["organization.updated"] } }),
      403,
      "insufficient_scope",
    );

    // Another organization's endpoints are not found through this key.
    const other = await signedInUser();
    const otherOrg = await orgOf(other);
    await expectProblem(await call(`orgs/${otherOrg}/webhooks`, { apiKey: hooks.key }), 404, "not_found");
    expect((await call(`orgs/${org}/webhooks/${endpoint.id}`, { method: "DELETE", apiKey: hooks.key })).status).toBe(204);
  });
});
