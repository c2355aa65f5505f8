import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { EXPORTERS, NOT_EXPORTED } from "../src/features/gdpr/exporters.repo";
import { auditRowsToAnonymise, eraseAccountStatements } from "../src/features/gdpr/gdpr.repo";
import { createDb } from "../src/platform/db";
import { serviceContext } from "../src/platform/context";
import { recordSsoSignIn } from "../src/features/sso/sso.service";
import { systemOwner } from "../src/identity/owner";
import { insertAuditRow, insertFavorite, insertInvitation, insertTender, orgWithMembers, setMemberRole, type OrgRole } from "./helpers/fixtures";
import { call, eventually, expectProblem, json, login, signedInUser, tokenFromMail, unique, waitForMail } from "./helpers/harness";

const DAY = 86_400_000;
const d1 = () => env.DB;

/** An organization with members, written straight to D1 (the orgs routes are another feature). */
function orgWith(members: [userId: string, role: OrgRole][], extra: { billingEmail?: string } = {}) {
  const id = unique("org_");
  return orgWithMembers(members, { id, name: `Org ${id}`, billing_email: extra.billingEmail ?? null });
}

async function tablesWithColumn(column: string): Promise<string[]> {
  const { results } = await d1()
    .prepare(
      `SELECT m.name AS name FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_cf_%'
         AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = ?) ORDER BY m.name`,
    )
    .bind(column)
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

/** Every (table, column) whose text contains `needle`, case-insensitively, across all of D1. */
async function whereInD1(needle: string): Promise<string[]> {
  const { results: tables } = await d1()
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
    .all<{ name: string }>();
  const columns = await d1().batch(tables.map((t) => d1().prepare("SELECT name FROM pragma_table_info(?)").bind(t.name)));
  // One statement per table, one count per column, all in one round trip.
  const counts = await d1().batch(
    tables.map((t, i) =>
      d1()
        .prepare(
          `SELECT ${(columns[i]!.results as { name: string }[]).map((c) => `coalesce(sum(instr(lower(CAST("${c.name}" AS TEXT)), ?1) > 0), 0) AS "${c.name}"`).join(", ")} FROM "${t.name}"`,
        )
        .bind(needle.toLowerCase()),
    ),
  );
  return tables.flatMap((t, i) =>
    Object.entries((counts[i]!.results[0] ?? {}) as Record<string, number>)
      .filter(([, n]) => n > 0)
      .map(([column]) => `${t.name}.${column}`),
  );
}

async function exportOf(token: string) {
  const res = await call("me/export", { token });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  const text = await res.text();
  return { text, doc: JSON.parse(text) as { format: string; user_id: string; sections: Record<string, Record<string, unknown>[]> } };
}

describe("GET /me/export", () => {
  it("holds the user, profile, preferences, membership, keys and sessions, and no secret", async () => {
    const { user, token } = await signedInUser();
    await call("me/profile", { method: "PATCH", token, body: { company_name: "Export Works", pan_number: "ABCDE1234F" } });
    const orgId = await orgWith([[user.id, "admin"]]);
    const { key } = await json<{ key: string }>(await call("me/api-keys", { token, body: { name: "ci", scopes: ["read:profile"] } }));
    const { secret } = await json<{ secret: string }>(await call("auth/mfa/totp/setup", { method: "POST", token }));
    await call("auth/password/forgot", { body: { email: user.email } }); // a live reset token (hash) in D1
    await waitForMail(user.email, "password_reset");

    const { text, doc } = await exportOf(token);
    expect(doc.format).toBe("keel-export/1");
    expect(doc.user_id).toBe(user.id);
    expect(Object.keys(doc.sections)).toEqual(EXPORTERS.map((e) => e.section));
    expect(doc.sections.user).toEqual([expect.objectContaining({ id: user.id, email: user.email, full_name: user.fullName })]);
    expect(doc.sections.profile?.[0]).toMatchObject({ company_name: "Export Works", pan_number: "ABCDE1234F", timezone: "Asia/Kolkata" });
    expect(doc.sections.preferences?.[0]).toMatchObject({ email_digest_time: "09:00" });
    expect(doc.sections.memberships).toEqual([expect.objectContaining({ organization_id: orgId, organization_name: `Org ${orgId}`, role: "admin" })]);
    expect(doc.sections.api_keys).toEqual([expect.objectContaining({ name: "ci", prefix: key.slice(0, 12) })]);
    expect(doc.sections.sessions?.length).toBe(1);
    expect(doc.sections.two_factor).toEqual([expect.objectContaining({ enabled: false })]);
    expect(doc.sections.audit_events?.map((e) => e.action)).toEqual(expect.arrayContaining(["user.registered", "auth.login_succeeded", "gdpr.exported"]));
    expect(doc.sections.emails?.map((e) => e.template)).toEqual(expect.arrayContaining(["verification", "password_reset"]));

    // No secret: neither the columns nor any stored credential value, nor the key or TOTP secret.
    for (const column of ["password_hash", "key_hash", "token_hash", "secret_encrypted", "code_hash", "text_body", "html_body"]) expect(text).not.toContain(column);
    const secretsQuery = [
      "SELECT password_hash AS v FROM users WHERE id = ?",
      "SELECT key_hash AS v FROM api_keys WHERE user_id = ?",
      "SELECT token_hash AS v FROM refresh_tokens WHERE user_id = ?",
      "SELECT token_hash AS v FROM one_time_tokens WHERE user_id = ?",
      "SELECT secret_encrypted AS v FROM mfa_totp WHERE user_id = ?",
      "SELECT password_hash AS v FROM password_history WHERE user_id = ?",
    ];
    const stored = { results: (await d1().batch(secretsQuery.map((q) => d1().prepare(q).bind(user.id)))).flatMap((r) => r.results as { v: string }[]) };
    expect(stored.results.length).toBeGreaterThanOrEqual(5);
    for (const { v } of stored.results) expect(text).not.toContain(v);
    expect(text).not.toContain(key);
    expect(text).not.toContain(secret);
    const resetLink = tokenFromMail(await waitForMail(user.email, "password_reset"));
    expect(text).not.toContain(resetLink);
  });

  it("pages through large sections without losing or repeating a row", async () => {
    const { user, token } = await signedInUser();
    const statements = Array.from({ length: 1203 }, (_, i) =>
      d1()
        .prepare("INSERT INTO audit_log (id, user_id, action, details) VALUES (?, ?, 'user.bulk_test', ?)")
        .bind(`aud_bulk_${String(i).padStart(5, "0")}_${user.id}`, user.id, JSON.stringify({ i })),
    );
    await d1().batch(statements);
    const { doc } = await exportOf(token);
    const bulk = doc.sections.audit_events!.filter((e) => e.action === "user.bulk_test").map((e) => (e.details as { i: number }).i);
    expect(bulk).toHaveLength(1203);
    expect(new Set(bulk).size).toBe(1203);
  });

  it("registry completeness: every D1 table with a user_id column is exported or explicitly left out", async () => {
    const withUserId = await tablesWithColumn("user_id");
    const exported = new Set(EXPORTERS.flatMap((e) => e.tables));
    const missing = withUserId.filter((t) => !exported.has(t) && !(t in NOT_EXPORTED));
    // A table listed here needs a line in EXPORTERS (src/features/gdpr/exporters.repo.ts), or an
    // entry in NOT_EXPORTED saying why it must not be exported.
    expect(missing).toEqual([]);
    // And the allow-list does not go stale or overlap the registry.
    expect(Object.keys(NOT_EXPORTED).filter((t) => !withUserId.includes(t) || exported.has(t))).toEqual([]);
    expect(withUserId).toEqual(expect.arrayContaining(["favorites", "alerts", "sessions", "organization_members"]));
  });
});

describe("DELETE /me", () => {
  it("needs the password, then deactivates at once: tokens, refresh tokens and API keys stop working", async () => {
    const { user, tokens, token } = await signedInUser();
    const second = await login(user);
    const { key } = await json<{ key: string }>(await call("me/api-keys", { token, body: { name: "ci", scopes: ["read:profile"] } }));
    expect((await call("me", { apiKey: key })).status).toBe(200); // key cached at the edge

    await expectProblem(await call("me", { method: "DELETE", token, body: { password: "wrong-password-here" } }), 401, "invalid_credentials");
    // (An empty body is a step-up request since issue 16: right after a sign-in it would delete; see auth.step-up.test.ts.)
    await expectProblem(await call("me", { method: "DELETE", token, body: { password: "" } }), 422, "validation_failed");
    expect((await call("me", { token })).status).toBe(200);

    const res = await call("me", { method: "DELETE", token, body: { password: user.password } });
    expect(res.status).toBe(202);
    const body = await json<{ status: string; deletion_requested_at: string; purge_after: string }>(res);
    expect(body.status).toBe("inactive");
    expect(Date.parse(body.purge_after) - Date.parse(body.deletion_requested_at)).toBe(30 * DAY);

    for (const t of [token, second.access_token]) expect([401, 403]).toContain((await call("me", { token: t })).status);
    expect([401, 403]).toContain((await call("me", { apiKey: key })).status);
    expect([401, 403]).toContain((await call("auth/refresh", { body: { refresh_token: tokens.refresh_token } })).status);
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 403, "account_inactive");

    const row = await d1()
      .prepare(
        `SELECT status, deletion_requested_at AS requested,
           (SELECT count(*) FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL) AS live_sessions,
           (SELECT count(*) FROM api_keys WHERE user_id = ?1 AND revoked_at IS NULL) AS live_keys,
           (SELECT count(*) FROM audit_log WHERE user_id = ?1 AND action = 'gdpr.deletion_requested') AS audited
         FROM users WHERE id = ?1`,
      )
      .bind(user.id)
      .first();
    expect(row).toMatchObject({ status: "inactive", live_sessions: 0, live_keys: 0, audited: 1 });
    expect(row?.requested).toBe(Date.parse(body.deletion_requested_at));
  });

  it("the last owner of an organization with other members must transfer ownership first (409)", async () => {
    const { user, token } = await signedInUser();
    const other = await signedInUser();
    const orgId = await orgWith([
      [user.id, "owner"],
      [other.user.id, "member"],
    ]);
    await orgWith([[user.id, "owner"]]); // alone in this one: no obstacle
    const problem = await expectProblem(await call("me", { method: "DELETE", token, body: { password: user.password } }), 409, "conflict");
    expect((problem as unknown as { organization_ids: string[] }).organization_ids).toEqual([orgId]);
    expect((await call("me", { token })).status).toBe(200);

    await setMemberRole(orgId, other.user.id, "owner");
    expect((await call("me", { method: "DELETE", token, body: { password: user.password } })).status).toBe(202);
  });
});

describe("purge (cron)", () => {
  it("after ACCOUNT_PURGE_DAYS the user's addresses appear nowhere in D1, but the audit events remain without personal fields", async () => {
    const { user, token } = await signedInUser();
    const partner = await signedInUser();
    // Personal data in many places: profile, an email change (outbox, audit details), an API
    // key, a favorite, a membership, an organization it alone belongs to, a billing email, an
    // invitation to its address.
    await call("me/profile", { method: "PATCH", token, body: { company_name: "Erase Me Ltd", gst_number: "27ABCDE1234F1Z5" } });
    const newEmail = `${unique("purged")}@example.com`;
    expect((await call("me/email", { token, body: { new_email: newEmail, password: user.password } })).status).toBe(202);
    expect((await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(newEmail, "email_change")) } })).status).toBe(200);
    await waitForMail(user.email, "email_changed");
    await call("me/api-keys", { token, body: { name: "ci", scopes: ["read:profile"] } });
    await insertFavorite(user.id, await insertTender({ title: "Bridge" }), { notes: "ask Test Person" });
    // A search (recorded after the response): the event outlives the account, without its user.
    expect((await call("tenders?q=Bridge", { token })).status).toBe(200);
    const searchesOf = async () => (await d1().prepare("SELECT count(*) AS n FROM tender_searches WHERE user_id = ?").bind(user.id).first<{ n: number }>())!.n;
    await eventually(async () => expect(await searchesOf()).toBe(1));
    const sharedOrg = await orgWith(
      [
        [partner.user.id, "owner"],
        [user.id, "member"],
      ],
      { billingEmail: newEmail },
    );
    const soloOrg = await orgWith([[user.id, "owner"]]);
    await insertInvitation(sharedOrg, newEmail, partner.user.id);
    // A row about someone else that quotes the address (e.g. the partner invited it).
    await insertAuditRow(partner.user.id, { action: "org.invitation_created", actor_id: partner.user.id, details: { email: newEmail, org_id: sharedOrg }, ip_address: "198.51.100.7" });
    // The organization's list of recent SSO sign-ins names the address.
    await recordSsoSignIn(serviceContext(env), sharedOrg, { email: newEmail, outcome: "signed_in" });
    // An event for the user's own webhook endpoints quotes their company (issue 18).
    await d1()
      .prepare("INSERT INTO webhook_events (id, type, scope, user_id, org_id, data, created_at) VALUES (?, 'notification.created', 'user', ?, NULL, ?, ?)")
      .bind(unique("evt"), user.id, JSON.stringify({ title: "Erase Me Ltd, a new match" }), Date.now())
      .run();

    expect((await call("me", { method: "DELETE", token, body: { password: user.password } })).status).toBe(202);
    const { results: before } = await d1().prepare("SELECT id, action FROM audit_log WHERE user_id = ? ORDER BY id").bind(user.id).all<{ id: string; action: string }>();
    expect(before.map((r) => r.action)).toEqual(expect.arrayContaining(["user.registered", "user.email_changed", "gdpr.deletion_requested"]));
    expect(await whereInD1(newEmail)).not.toEqual([]);

    const run = (at: number) => worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), env);
    // Inside the grace period nothing is erased.
    await run(Date.now() + 29 * DAY);
    expect(await d1().prepare("SELECT id FROM users WHERE id = ?").bind(user.id).first()).not.toBeNull();

    await run(Date.now() + 31 * DAY);
    expect(await d1().prepare("SELECT id FROM users WHERE id = ?").bind(user.id).first()).toBeNull();
    expect(await whereInD1(newEmail)).toEqual([]);
    expect(await whereInD1(user.email)).toEqual([]);
    expect(await whereInD1("Erase Me Ltd")).toEqual([]);
    expect(await whereInD1("27ABCDE1234F1Z5")).toEqual([]);
    expect(await searchesOf()).toBe(0);

    // The events remain, without user id, IP, user agent or address.
    const ids = before.map((r) => r.id);
    const { results: after } = await d1()
      .prepare(`SELECT id, action, user_id, ip_address, user_agent, details FROM audit_log WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
      .bind(JSON.stringify(ids))
      .all<{ id: string; action: string; user_id: string | null; ip_address: string | null; user_agent: string | null; details: string }>();
    expect(after.map((r) => r.action)).toEqual(before.map((r) => r.action));
    for (const r of after) expect(r).toMatchObject({ user_id: null, ip_address: null, user_agent: null });
    expect(after.find((r) => r.action === "user.email_changed")?.details).toBe("{}");
    expect(await d1().prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'gdpr.account_purged' AND details LIKE ?").bind(`%${user.id}%`).first()).toEqual({ n: 1 });

    // The partner and the shared organization stay; the organization the user was alone in goes.
    expect(await d1().prepare("SELECT billing_email FROM organizations WHERE id = ?").bind(sharedOrg).first()).toEqual({ billing_email: null });
    expect(await d1().prepare("SELECT id FROM organizations WHERE id = ?").bind(soloOrg).first()).toBeNull();
    expect((await call("me", { token: partner.token })).status).toBe(200);
    const partnerEvent = await d1().prepare("SELECT ip_address, details FROM audit_log WHERE user_id = ? AND action = 'org.invitation_created'").bind(partner.user.id).first<{ ip_address: string; details: string }>();
    expect(partnerEvent?.ip_address).toBe("198.51.100.7");
    expect(JSON.parse(partnerEvent!.details)).toEqual({ email: "[erased]", org_id: sharedOrg });

    // Idempotent: a rerun finds nothing more to do.
    const count = await d1().prepare("SELECT count(*) AS n FROM audit_log").first<{ n: number }>();
    await run(Date.now() + 31 * DAY);
    expect(await d1().prepare("SELECT count(*) AS n FROM audit_log").first<{ n: number }>()).toEqual(count);
  });
});

describe("purge query plans", () => {
  /** The plan's lines; a bare `SCAN <table>` (no index) means the statement reads the whole table. */
  async function plan(query: { sql: string; params: unknown[] }) {
    const { results } = await d1().prepare(`EXPLAIN QUERY PLAN ${query.sql}`).bind(...query.params).all<{ detail: string }>();
    return results.map((r) => r.detail);
  }

  it("finds a user's audit rows and mail through indexes, not by scanning the tables", async () => {
    const db = createDb(d1());
    const auditPlan = await plan(auditRowsToAnonymise(db, systemOwner("usr_x", "cron"), 50).toSQL());
    expect(auditPlan.filter((d) => /^SCAN audit_log\b(?!.*USING)/.test(d))).toEqual([]);
    expect(auditPlan.join("\n")).toContain("audit_log_actor_idx");

    const account = { id: "usr_x", email: "x@example.com", fullName: "X", phone: null, createdAt: new Date(), deletionRequestedAt: new Date() };
    const statements = eraseAccountStatements(db, account, new Date(), DAY);
    for (const statement of statements) {
      const lines = await plan(statement.toSQL());
      // The tables that grow with users and history. (Small ones are scanned: invitations by
      // address, organizations by billing email, and, by the cascade of the user row, the
      // foreign keys without an index of their own.)
      expect(lines.filter((d) => /^SCAN (audit_log|email_outbox|users|organization_members|sessions|api_keys)\b(?!.*USING)/.test(d)), statement.toSQL().sql).toEqual([]);
    }
  });
});
