import { beforeAll, describe, expect, inject, it } from "vitest";
import { addMember, closingIn, insertNotification, insertTender } from "./helpers/fixtures";
import { call, json, signedInUser, unique } from "./helpers/harness";
import { addPasskey, SoftAuthenticator } from "./helpers/webauthn";
import { linkIdentity } from "./helpers/oidc";

/**
 * The isolation matrix (issue 6, "Isolation"), driven by the served OpenAPI document: every
 * operation whose path has a `{…}` parameter is called by user B — the owner of another
 * organization — with ids that belong to user A and A's organization. It must answer 404 with a
 * body identical (ignoring request_id and instance) to the answer for random ids.
 *
 * A new route with a path id joins by ONE line in MATRIX below: `"METHOD /path": prepare`, where
 * `prepare` creates the resource as A and returns the path params (and a valid body, if any).
 * A documented route missing from MATRIX fails the test.
 *
 * Excluded by rule: /api/v1/admin/* — permission-guarded routes where a non-administrator gets
 * 403 by design (and an administrator may act on every tenant); test/security.test.ts and the
 * admin tests cover them.
 */

type Signed = Awaited<ReturnType<typeof signedInUser>>;

interface World {
  /** User A (owner of orgA) and a second member of orgA. */
  a: Signed;
  aMember: Signed;
  orgA: string;
  /** User B: owner of another organization. */
  b: Signed;
  orgB: string;
}

interface Prepared {
  params: Record<string, string>;
  body?: unknown;
}

type Prepare = (w: World) => Promise<Prepared>;

async function created<T>(res: Response): Promise<T> {
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return json<T>(res);
}

const orgOnly: Prepare = async (w) => ({ params: { id: w.orgA } });

/** A tender row, straight into D1 (tenders are platform data; the ingest route has its own tests). */
async function aTender(): Promise<string> {
  return insertTender({ id: `tnd_${unique("iso")}`, title: "Isolation bridge works", closing_date: closingIn(30) });
}
const favoriteOfA: Prepare = async (w) =>
  ({ params: { id: (await created<{ id: string }>(await call("me/favorites", { body: { tender_id: await aTender() }, token: w.a.token }))).id }, body: { folder: "B was here" } });
const savedSearchOfA: Prepare = async (w) =>
  ({ params: { id: (await created<{ id: string }>(await call("me/saved-searches", { body: { name: "s", query: { keywords: ["bridge"] } }, token: w.a.token }))).id } });
const noteOfA: Prepare = async (w) =>
  ({ params: { id: (await created<{ id: string }>(await call("me/notes", { body: { tender_id: await aTender(), note_text: "A's note" }, token: w.a.token }))).id }, body: { note_text: "B was here" } });

const alertOfA: Prepare = async (w) =>
  ({ params: { id: (await created<{ id: string }>(await call("me/alerts", { body: { name: "a", criteria: { keywords: ["bridge"] }, notification_frequency: "daily_digest" }, token: w.a.token }))).id }, body: { name: "B was here" } });

/** A's organization with SSO configured. */
const ssoOfA: Prepare = async (w) => {
  await created(await call(`orgs/${w.orgA}/sso`, { method: "PUT", body: { issuer: "https://idp.a.example", client_id: "a", client_secret: "a-secret" }, token: w.a.token }));
  return { params: { id: w.orgA } };
};
/** A domain claimed by A's organization. */
const domainOfA: Prepare = async (w) =>
  ({ params: { id: w.orgA, domain: (await created<{ domain: string }>(await call(`orgs/${w.orgA}/domains`, { body: { domain: `${unique("isoa")}.test` }, token: w.a.token }))).domain } });

/** A webhook endpoint of A (or of A's organization), with one delivery of a test event. */
const webhookOfA = (scope: "me" | "org"): Prepare => async (w) => {
  const base = scope === "me" ? "me/webhooks" : `orgs/${w.orgA}/webhooks`;
  const events = scope === "me" ? ["alert.matched"] : ["organization.updated"];
  const hook = await created<{ id: string }>(await call(base, { body: { url: `${inject("webhookReceiverUrl")}/hooks/iso`, events }, token: w.a.token }));
  await created(await call(`${base}/${hook.id}/test`, { method: "POST", token: w.a.token }));
  const deliveries = await json<{ items: { id: string }[] }>(await call(`${base}/${hook.id}/deliveries`, { token: w.a.token }));
  const ids: Record<string, string> = scope === "me" ? { id: hook.id } : { id: w.orgA, webhook_id: hook.id };
  return { params: { ...ids, delivery_id: deliveries.items[0]!.id }, body: { description: "B was here" } };
};
const orgWebhookCreate: Prepare = async (w) => ({ params: { id: w.orgA }, body: { url: "https://hooks.example.com/b", events: ["organization.updated"] } });

/** One line per operation with a path id. */
const MATRIX: Record<string, Prepare> = {
  "DELETE /api/v1/me/sessions/{id}": async (w) => ({ params: { id: w.a.tokens.session_id } }),
  "DELETE /api/v1/me/api-keys/{id}": async (w) =>
    ({ params: { id: (await created<{ id: string }>(await call("me/api-keys", { body: { name: "k", scopes: ["read:profile"] }, token: w.a.token }))).id } }),
  "PATCH /api/v1/me/passkeys/{id}": async (w) => ({ params: { id: (await addPasskey(w.a.token, new SoftAuthenticator())).id }, body: { name: "B was here" } }),
  "DELETE /api/v1/me/passkeys/{id}": async (w) => ({ params: { id: (await addPasskey(w.a.token, new SoftAuthenticator())).id } }),
  "GET /api/v1/orgs/{id}": orgOnly,
  "PATCH /api/v1/orgs/{id}": async (w) => ({ params: { id: w.orgA }, body: { name: "Renamed by B" } }),
  "DELETE /api/v1/orgs/{id}": orgOnly,
  "GET /api/v1/orgs/{id}/members": orgOnly,
  "PATCH /api/v1/orgs/{id}/members/{user_id}": async (w) => ({ params: { id: w.orgA, user_id: w.aMember.user.id }, body: { role: "viewer" } }),
  "DELETE /api/v1/orgs/{id}/members/{user_id}": async (w) => ({ params: { id: w.orgA, user_id: w.aMember.user.id } }),
  "POST /api/v1/orgs/{id}/invitations": async (w) => ({ params: { id: w.orgA }, body: { email: `${unique("iso")}@example.com`, role: "member" } }),
  "GET /api/v1/orgs/{id}/invitations": orgOnly,
  "DELETE /api/v1/orgs/{id}/invitations/{invitation_id}": async (w) => {
    const inv = await created<{ id: string }>(
      await call(`orgs/${w.orgA}/invitations`, { body: { email: `${unique("iso")}@example.com`, role: "member" }, token: w.a.token }),
    );
    return { params: { id: w.orgA, invitation_id: inv.id } };
  },
  "GET /api/v1/orgs/{id}/favorites": orgOnly,
  "GET /api/v1/orgs/{id}/notes": orgOnly,
  "POST /api/v1/orgs/{id}/api-keys": async (w) => ({ params: { id: w.orgA }, body: { name: "B's key", scopes: ["read:org"] } }),
  "GET /api/v1/orgs/{id}/api-keys": orgOnly,
  "DELETE /api/v1/orgs/{id}/api-keys/{key_id}": async (w) =>
    ({ params: { id: w.orgA, key_id: (await created<{ id: string }>(await call(`orgs/${w.orgA}/api-keys`, { body: { name: "A's key", scopes: ["read:org"] }, token: w.a.token }))).id } }),
  "GET /api/v1/orgs/{id}/sso": ssoOfA,
  "PUT /api/v1/orgs/{id}/sso": async (w) => ({ ...(await ssoOfA(w)), body: { issuer: "https://idp.b.example", client_id: "b", client_secret: "b-secret" } }),
  "DELETE /api/v1/orgs/{id}/sso": ssoOfA,
  "GET /api/v1/orgs/{id}/domains": orgOnly,
  "POST /api/v1/orgs/{id}/domains": async (w) => ({ params: { id: w.orgA }, body: { domain: `${unique("isob")}.test` } }),
  "DELETE /api/v1/orgs/{id}/domains/{domain}": domainOfA,
  "POST /api/v1/orgs/{id}/domains/{domain}/verify": domainOfA,
  "PATCH /api/v1/me/favorites/{id}": favoriteOfA,
  "DELETE /api/v1/me/favorites/{id}": favoriteOfA,
  "DELETE /api/v1/me/saved-searches/{id}": savedSearchOfA,
  "POST /api/v1/me/saved-searches/{id}/run": savedSearchOfA,
  "PATCH /api/v1/me/notes/{id}": noteOfA,
  "DELETE /api/v1/me/notes/{id}": noteOfA,
  "GET /api/v1/me/alerts/{id}": alertOfA,
  "PATCH /api/v1/me/alerts/{id}": alertOfA,
  "DELETE /api/v1/me/alerts/{id}": alertOfA,
  "GET /api/v1/me/alerts/{id}/matches": alertOfA,
  "DELETE /api/v1/me/identities/{id}": async (w) => {
    await linkIdentity(w.a.token, unique("iso"));
    const res = await call("me/identities", { token: w.a.token });
    return { params: { id: (await json<{ items: { id: string }[] }>(res)).items[0]!.id } };
  },
  "GET /api/v1/me/webhooks/{id}": webhookOfA("me"),
  "PATCH /api/v1/me/webhooks/{id}": webhookOfA("me"),
  "DELETE /api/v1/me/webhooks/{id}": webhookOfA("me"),
  "GET /api/v1/me/webhooks/{id}/deliveries": webhookOfA("me"),
  "POST /api/v1/me/webhooks/{id}/test": webhookOfA("me"),
  "POST /api/v1/me/webhooks/{id}/rotate-secret": webhookOfA("me"),
  "POST /api/v1/me/webhooks/{id}/deliveries/{delivery_id}/replay": webhookOfA("me"),
  "GET /api/v1/orgs/{id}/webhooks/{webhook_id}": webhookOfA("org"),
  "PATCH /api/v1/orgs/{id}/webhooks/{webhook_id}": webhookOfA("org"),
  "DELETE /api/v1/orgs/{id}/webhooks/{webhook_id}": webhookOfA("org"),
  "GET /api/v1/orgs/{id}/webhooks/{webhook_id}/deliveries": webhookOfA("org"),
  "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/test": webhookOfA("org"),
  "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/rotate-secret": webhookOfA("org"),
  "POST /api/v1/orgs/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay": webhookOfA("org"),
  "GET /api/v1/orgs/{id}/webhooks": orgOnly,
  "POST /api/v1/orgs/{id}/webhooks": orgWebhookCreate,
  "POST /api/v1/me/notifications/{id}/read": async (w) => {
    return { params: { id: await insertNotification(w.a.user.id, { id: `ntf_${unique("iso")}` }) } };
  },
};

const BODY_METHODS = new Set(["POST", "PATCH", "PUT"]);

interface Operation {
  key: string;
  method: string;
  path: string;
  params: string[];
}

async function documentedOperationsWithPathIds(): Promise<Operation[]> {
  const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call("/openapi.json"));
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .map((m) => m.toUpperCase())
      .filter(() => path.includes("{"))
      .map((method) => ({ key: `${method} ${path}`, method, path, params: [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]!) })),
  );
}

/**
 * Excluded by rule: admin routes (permission-guarded; a non-admin gets 403 there by design), and
 * platform-wide data that every signed-in user may read (a tender is no tenant's resource).
 */
// The {provider} of sign-in and linking is a configured provider's id (OIDC_PROVIDERS), no tenant's
// resource; test/federation.test.ts covers who may link what.
const PLATFORM_WIDE = new Set([
  "GET /api/v1/tenders/{id}",
  "GET /api/v1/auth/oidc/{provider}/start",
  "GET /api/v1/me/identities/{provider}/link",
  "POST /api/v1/me/identities/{provider}/link",
  // A signed email link, public: its {signed} is no id to guess (a forged one is a 400 page; test/tender-links.test.ts).
  "GET /l/{signed}",
]);
const isAdminRoute = (op: Operation) => op.path.startsWith("/api/v1/admin/") || PLATFORM_WIDE.has(op.key);

const fill = (path: string, params: Record<string, string>) =>
  path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`prepare returned no value for {${name}} of ${path}`);
    return encodeURIComponent(value);
  });

/** A random id shaped like `like` (same prefix), which exists nowhere. */
const randomLike = (like: string) => `${like.includes("_") ? like.slice(0, like.indexOf("_")) : "x"}_${unique("r")}`;

/** The status and the body, without the fields that differ per request. */
async function comparable(res: Response) {
  const text = await res.text();
  let body: unknown = text;
  try {
    const { request_id: _r, instance: _i, ...rest } = JSON.parse(text) as Record<string, unknown>;
    body = rest;
  } catch {
    // Not JSON: compared as text.
  }
  return { status: res.status, contentType: res.headers.get("content-type"), body };
}

async function asB(w: World, op: Operation, params: Record<string, string>, body: unknown) {
  return comparable(await call(fill(op.path, params), { method: op.method, token: w.b.token, ...(BODY_METHODS.has(op.method) ? { body: body ?? {} } : {}) }));
}

describe("isolation matrix over every documented route with a path id", () => {
  let world: World;
  let operations: Operation[];

  beforeAll(async () => {
    operations = await documentedOperationsWithPathIds();
    const [a, aMember, b] = await Promise.all([signedInUser(), signedInUser(), signedInUser()]);
    const orgOf = async (s: Signed) => (await created<{ id: string }>(await call("orgs", { body: { name: unique("Iso ") }, token: s.token }))).id;
    const [orgA, orgB] = await Promise.all([orgOf(a), orgOf(b)]);
    await addMember(orgA, aMember.user.id, "member");
    world = { a, aMember, orgA, b, orgB };
  });

  it("every documented route with a path id is in the matrix (admin routes excluded by rule), and the matrix names no stale route", () => {
    const documented = operations.filter((op) => !isAdminRoute(op)).map((op) => op.key);
    const missing = documented.filter((key) => !(key in MATRIX)).map((key) => `add one line for ${key}`);
    expect(missing).toEqual([]);
    const stale = Object.keys(MATRIX).filter((key) => !documented.includes(key));
    expect(stale).toEqual([]);
    expect(documented.length).toBeGreaterThanOrEqual(12);
  });

  it("user B of another organization gets 404 on A's ids, identical to random ids", async () => {
    const failures: string[] = [];
    for (const op of operations.filter((o) => !isAdminRoute(o) && o.key in MATRIX)) {
      const { params, body } = await MATRIX[op.key]!(world);
      const foreign = await asB(world, op, params, body);
      const random = await asB(world, op, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, randomLike(v)])), body);
      if (foreign.status !== 404) failures.push(`${op.key} with A's ids → ${foreign.status} ${JSON.stringify(foreign.body)}`);
      else if (JSON.stringify(foreign) !== JSON.stringify(random)) failures.push(`${op.key}: A's ids ${JSON.stringify(foreign)} ≠ random ${JSON.stringify(random)}`);

      // Nested ids: B's own organization (where B is owner) with A's child id must not reach A's row either.
      if (op.path.startsWith("/api/v1/orgs/{id}/") && op.params.length > 1) {
        const mixed = { ...params, id: world.orgB };
        const mixedRandom = Object.fromEntries(Object.entries(mixed).map(([k, v]) => [k, k === "id" ? v : randomLike(v)]));
        const foreignChild = await asB(world, op, mixed, body);
        const randomChild = await asB(world, op, mixedRandom, body);
        if (foreignChild.status !== 404) failures.push(`${op.key} in B's org with A's child id → ${foreignChild.status} ${JSON.stringify(foreignChild.body)}`);
        else if (JSON.stringify(foreignChild) !== JSON.stringify(randomChild)) failures.push(`${op.key} in B's org: A's child id ≠ random`);
      }
    }
    expect(failures).toEqual([]);

    // Nothing of A's changed: its session works, its organization, members and invitations are intact.
    expect((await call("me", { token: world.a.token })).status).toBe(200);
    const org = await json<{ name: string }>(await call(`orgs/${world.orgA}`, { token: world.a.token }));
    expect(org.name).not.toBe("Renamed by B");
    const members = await json<{ items: { user_id: string; role: string }[] }>(await call(`orgs/${world.orgA}/members`, { token: world.a.token }));
    expect(members.items.map((m) => `${m.user_id}:${m.role}`).sort()).toEqual([`${world.a.user.id}:owner`, `${world.aMember.user.id}:member`].sort());
    const pending = await json<{ items: unknown[] }>(await call(`orgs/${world.orgA}/invitations`, { token: world.a.token }));
    expect(pending.items).toHaveLength(1);
  });
});

/**
 * The organization-scoped reads (issue 14): notes and favorites shared with organization A are
 * read through GET /tenders/{id}, GET /me/notes?tender_id= and GET /orgs/{id}/favorites, none of
 * which has A's id in its path. User B (owner of another organization, which A's author has
 * joined, the throwaway-organization attack) must see none of them, and naming A's organization in
 * a body must answer exactly like a random organization id.
 */
describe("isolation of the organization-scoped reads", () => {
  it("B sees nothing shared with A's organization, even after A's author joins B's organization; naming A's organization is a random id's 404", async () => {
    const [a, author, b] = await Promise.all([signedInUser(), signedInUser(), signedInUser()]);
    const orgOf = async (s: Signed) => (await created<{ id: string }>(await call("orgs", { body: { name: unique("Iso ") }, token: s.token }))).id;
    const [orgA, orgB] = await Promise.all([orgOf(a), orgOf(b)]);
    await addMember(orgA, author.user.id, "member");
    const tender = await aTender();
    await created(await call("me/notes", { body: { tender_id: tender, note_text: "A's shared note", organization_id: orgA }, token: author.token }));
    await created(await call("me/favorites", { body: { tender_id: tender, organization_id: orgA }, token: author.token }));
    // Positive control: A's owner sees both.
    expect((await json<{ notes: unknown[] }>(await call(`tenders/${tender}`, { token: a.token }))).notes).toHaveLength(1);
    expect((await json<{ items: unknown[] }>(await call(`orgs/${orgA}/favorites`, { token: a.token }))).items).toHaveLength(1);

    await addMember(orgB, author.user.id, "member");
    const detail = await json<{ notes: unknown[]; notes_total: number }>(await call(`tenders/${tender}`, { token: b.token }));
    expect([detail.notes, detail.notes_total]).toEqual([[], 0]);
    expect((await json<{ items: unknown[] }>(await call(`me/notes?tender_id=${tender}`, { token: b.token }))).items).toEqual([]);
    expect((await json<{ items: unknown[] }>(await call(`orgs/${orgB}/favorites`, { token: b.token }))).items).toEqual([]);

    const bFavorite = await created<{ id: string }>(await call("me/favorites", { body: { tender_id: tender }, token: b.token }));
    const bodies: [string, string, (org: string) => unknown][] = [
      ["POST", "me/notes", (org) => ({ tender_id: tender, note_text: "B", organization_id: org })],
      ["POST", "me/favorites", (org) => ({ tender_id: tender, organization_id: org })],
      ["PATCH", `me/favorites/${bFavorite.id}`, (org) => ({ organization_id: org })],
    ];
    for (const [method, path, body] of bodies) {
      const foreign = await comparable(await call(path, { method, body: body(orgA), token: b.token }));
      const random = await comparable(await call(path, { method, body: body(randomLike(orgA)), token: b.token }));
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign, `${method} ${path}`).toEqual(random);
    }
  });
});
