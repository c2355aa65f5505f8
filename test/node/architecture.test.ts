import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "..", "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.tsx?$/.test(full) && !/\.test\.tsx?$/.test(full) ? [full] : [];
  });
}

const sources = files(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, "utf8") }));

// Tenant scoping must be impossible to forget: only repositories touch tables (STYLE.md §6).
describe("architecture rules", () => {
  it("only *.repo.ts files (and the db factory) import table definitions at runtime", () => {
    const importsTables = (text: string) =>
      /^import\s+(?!type\b)[^;]*from\s+"[^"]*db\/(schema|tables)"/m.test(text);
    const allowed = (file: string) => file.endsWith(".repo.ts") || file.startsWith(`db${path.sep}`);
    const offenders = sources.filter(({ file, text }) => importsTables(text) && !allowed(file));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  // DESIGN.md's dependency direction: features → platform/email/db; jobs → features.
  const importsOf = (text: string) => [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
  const resolved = (file: string, spec: string) => (spec.startsWith(".") ? path.join(path.dirname(file), spec) : spec);

  it("identity, audit, email, db and platform import no feature and no job", () => {
    const lower = ["identity", "audit", "email", "db", "platform", "durable-objects"];
    const offenders = sources
      .filter(({ file }) => lower.some((top) => file.startsWith(`${top}${path.sep}`)))
      .flatMap(({ file, text }) => importsOf(text).map((spec) => [file, resolved(file, spec)] as const))
      .filter(([, target]) => target.startsWith(`features${path.sep}`) || target.startsWith(`jobs${path.sep}`));
    expect(offenders).toEqual([]);
  });

  it("features, email and platform import no job", () => {
    const offenders = sources
      .filter(({ file }) => !file.startsWith(`jobs${path.sep}`) && file !== "index.ts")
      .flatMap(({ file, text }) => importsOf(text).map((spec) => [file, resolved(file, spec)] as const))
      .filter(([, target]) => target.startsWith(`jobs${path.sep}`));
    expect(offenders).toEqual([]);
  });

  it("jobs import no repo: each calls a service verb", () => {
    const offenders = sources
      .filter(({ file }) => file.startsWith(`jobs${path.sep}`))
      .flatMap(({ file, text }) => importsOf(text).map((spec) => [file, resolved(file, spec)] as const))
      .filter(([, target]) => /\.repo$/.test(target) || target.startsWith(path.join("db", "tables")));
    expect(offenders).toEqual([]);
  });

  // DESIGN.md, layering: no folder imports one above it, so no two folders import each other.
  it("folders import each other in no cycle", () => {
    expect(folderCycles()).toEqual([]);
  });

  // Scope brands are minted only by identity (ownerOf, systemOwner, requireMembership): a cast
  // elsewhere would forge a scope. Caught: `x as Owner`, `x as unknown as Owner`, `<Owner>x`, and
  // a renamed import (`Owner as O`) that would let `as O` slip by.
  it("no cast to a scope brand (Owner, OrgMembership) outside identity", () => {
    const brand = "(?:Owner|OrgMembership)";
    const forges = [new RegExp(`\\bas\\s+${brand}\\b`), new RegExp(`(?<![\\w$.\\]])<${brand}>`), new RegExp(`\\b${brand}\\s+as\\s+[\\w$]`)];
    const offenders = sources.filter(({ file, text }) => !file.startsWith(`identity${path.sep}`) && forges.some((re) => re.test(text)));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("routes are declared through securedRoute or as documented public routes, never with hand-written security", () => {
    const offenders = sources.filter(({ file, text }) => /\.routes\.tsx?$/.test(file) && /\bsecurity\s*:/.test(text));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("every table is written only by the repos that own it", () => {
    const problems: string[] = [];
    const written = new Map<string, Set<string>>();
    for (const { file, text } of sources) {
      if (file.startsWith(`db${path.sep}`)) continue;
      for (const table of tablesWrittenBy(text)) {
        if (!written.has(table)) written.set(table, new Set());
        written.get(table)!.add(file);
        if (!file.endsWith(".repo.ts")) problems.push(`${file} writes ${table} outside a repo`);
        else if (!TABLE_OWNERS[table]?.includes(file) && !WRITE_EXCEPTIONS.some((e) => e.repo === file && e.tables.includes(table)))
          problems.push(`${file} writes ${table}, owned by ${TABLE_OWNERS[table]?.join(", ") ?? "nobody (add it to TABLE_OWNERS)"}`);
      }
    }
    expect(problems).toEqual([]);
    // The map stays true: every table has an owner, and every listed owner and exception still writes it.
    expect(Object.keys(TABLE_OWNERS).sort()).toEqual([...TABLES.values()].filter((v, i, a) => a.indexOf(v) === i).sort());
    const stale = [
      ...Object.entries(TABLE_OWNERS).flatMap(([table, repos]) => repos.filter((r) => !written.get(table)?.has(r) && !READ_ONLY_OWNERS.has(table)).map((r) => `${r} owns ${table} but no longer writes it`)),
      ...WRITE_EXCEPTIONS.flatMap((e) => e.tables.filter((t) => !written.get(t)?.has(e.repo)).map((t) => `${e.repo}: stale exception for ${t}`)),
    ];
    expect(stale).toEqual([]);
  });

  it("drizzle clients are built in one place only", () => {
    const offenders = sources.filter(({ file, text }) => /\bdrizzle\(/.test(text) && file !== path.join("platform", "db.ts"));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });

  it("no route handler builds an error body itself: errors go through AppError and onError", () => {
    const offenders = sources.filter(({ file, text }) => /\.routes\.tsx?$/.test(file) && /c\.json\(\s*\{\s*(error|code)\s*:/.test(text));
    expect(offenders.map((o) => o.file)).toEqual([]);
  });
});

// ─── folder graph ─────────────────────────────────────────────────────────────────────────

/** A file's folder: features/<name>, or the top folder of src (src/*.ts files are their own). */
const folderOf = (file: string) => {
  const parts = file.split(path.sep);
  if (parts.length === 1) return parts[0]!.replace(/\.tsx?$/, "");
  return parts[0] === "features" && parts.length > 2 ? `features/${parts[1]}` : parts[0]!;
};

/** Strongly connected groups of more than one folder in the relative-import graph (Tarjan). */
function folderCycles(): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*["'](\.[^'"]+)["']|import\(\s*["'](\.[^'"]+)["']\s*\)/g)) {
      const target = path.normalize(path.join(path.dirname(file), m[1] ?? m[2]!));
      if (target.startsWith("..")) continue;
      const a = folderOf(file), b = folderOf(`${target}.ts`);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [], groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++; stack.push(v); onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); group.push(w); } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups;
}

// ─── table ownership ────────────────────────────────────────────────────────────────────────

/** Every drizzle table, by its variable name and by its SQL name (both map to the variable name). */
const TABLES = new Map<string, string>(
  sources
    .filter(({ file }) => file.startsWith(path.join("db", "tables")))
    .flatMap(({ text }) => [...text.matchAll(/export const (\w+) = sqliteTable\(\s*"(\w+)"/g)].flatMap((m) => [[m[1]!, m[1]!], [m[2]!, m[1]!]] as [string, string][])),
);

/**
 * The tables a source file writes (insert, update, delete), through drizzle (`db.insert(t)`), the
 * batch helpers of platform/db.ts (`insertIf(db, t, …)`) or raw SQL (`INSERT INTO ${t}`,
 * `UPDATE tenders`). A local alias (`const om = organizationMembers;`) is followed.
 */
function tablesWrittenBy(text: string): Set<string> {
  const names = new Map(TABLES);
  for (const m of text.matchAll(/const (\w+) = (\w+);/g)) if (TABLES.has(m[2]!)) names.set(m[1]!, TABLES.get(m[2]!)!);
  const re = /\.(?:insert|update|delete)\(\s*(\w+)\s*\)|(?:insertIf|insertJsonRows|updateJsonRows)\(\s*\w+\s*,\s*(\w+)|(?:INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM)\s+(?:\$\{(\w+)\}|(\w+))/g;
  const out = new Set<string>();
  for (const m of text.matchAll(re)) {
    const table = names.get(m[1] ?? m[2] ?? m[3] ?? m[4] ?? "");
    if (table) out.add(table);
  }
  return out;
}

const repo = (p: string) => path.join(...p.split("/"));

/** Which repos may write each table: the repos of the area that owns the concept. */
const TABLE_OWNERS: Record<string, string[]> = {
  users: [repo("features/users/users.repo.ts")],
  webhookEndpoints: [repo("features/webhooks/webhooks.repo.ts")],
  webhookEvents: [repo("features/webhooks/webhooks.repo.ts"), repo("features/webhooks/webhook-outbox.repo.ts")],
  webhookDeliveries: [repo("features/webhooks/webhooks.repo.ts"), repo("features/webhooks/webhook-outbox.repo.ts")],
  passwordHistory: [repo("features/users/users.repo.ts")],
  // The 1:1 rows are created with the account (users.repo), then edited by profile.
  userProfiles: [repo("features/profile/profile.repo.ts"), repo("features/users/users.repo.ts")],
  // Preferences are edited by profile; the digest schedule (next/last digest) is delivery state kept on the same row.
  userPreferences: [repo("features/profile/profile.repo.ts"), repo("features/users/users.repo.ts"), repo("features/alert-delivery/digests.repo.ts")],
  roles: [repo("features/admin/admin-roles.repo.ts")],
  rolePermissions: [repo("features/admin/admin-roles.repo.ts")],
  permissions: [],
  userRoles: [repo("features/admin/admin-roles.repo.ts"), repo("features/admin/admin-lifecycle.repo.ts"), repo("identity/bootstrap-admin.repo.ts")],
  organizations: [repo("features/orgs/orgs.repo.ts")],
  organizationMembers: [repo("features/orgs/orgs.repo.ts"), repo("features/orgs/invitations.repo.ts")],
  invitations: [repo("features/orgs/invitations.repo.ts")],
  invitationSends: [repo("features/orgs/invitations.repo.ts")],
  sessions: [repo("features/sessions/sessions.repo.ts")],
  refreshTokens: [repo("features/sessions/sessions.repo.ts")],
  userDevices: [repo("features/sessions/sessions.repo.ts")],
  oneTimeTokens: [repo("features/auth/one-time-tokens.repo.ts")],
  emailCodes: [repo("features/auth/email-codes.repo.ts")],
  mfaTotp: [repo("features/auth/mfa.repo.ts")],
  orgSsoConnections: [repo("features/sso/sso.repo.ts")],
  orgDomains: [repo("features/sso/sso.repo.ts")],
  ssoSignIns: [repo("features/sso/sso.repo.ts")],
  oidcStates: [repo("features/federation/oidc-flows.repo.ts")],
  oidcLoginCodes: [repo("features/federation/oidc-flows.repo.ts")],
  userIdentities: [repo("features/federation/identities.repo.ts")],
  mfaBackupCodes: [repo("features/auth/mfa.repo.ts")],
  passkeys: [repo("features/auth/passkeys.repo.ts")],
  webauthnChallenges: [repo("features/auth/passkeys.repo.ts")],
  // Key management writes keys; identity counts their use.
  apiKeys: [repo("features/api-keys/api-keys.repo.ts"), repo("identity/credentials.repo.ts")],
  // Organization key management writes keys; identity counts their use.
  orgApiKeys: [repo("features/api-keys/org-api-keys.repo.ts"), repo("identity/credentials.repo.ts")],
  auditLog: [repo("audit/audit.repo.ts"), repo("features/retention/retention.repo.ts")],
  tenders: [repo("features/tenders/tenders.repo.ts")],
  // Tenders record views; delivery records clicks on emailed links.
  tenderInteractions: [repo("features/tenders/tenders.repo.ts"), repo("features/alert-delivery/tender-links.repo.ts"), repo("features/retention/retention.repo.ts")],
  tenderSearches: [repo("features/tenders/tenders.repo.ts")],
  favorites: [repo("features/favorites/favorites.repo.ts")],
  // Alerts are edited by alerts, counted by matching and delivery, and lose their email channel by one-click unsubscribe.
  alerts: [repo("features/alerts/alerts.repo.ts"), repo("features/alerts/alert-matching.repo.ts"), repo("features/alert-delivery/delivery.repo.ts")],
  alertsVersion: [repo("features/alerts/alerts.repo.ts")],
  // Matching records matches; delivery claims them for an email and records the outcome.
  alertMatches: [repo("features/alerts/alert-matching.repo.ts"), repo("features/alert-delivery/delivery.repo.ts")],
  savedSearches: [repo("features/saved-searches/saved-searches.repo.ts")],
  notes: [repo("features/notes/notes.repo.ts")],
  notifications: [repo("features/notifications/notifications.repo.ts"), repo("features/reminders/reminders.repo.ts"), repo("features/retention/retention.repo.ts")],
  reminderMarks: [repo("features/reminders/reminders.repo.ts")],
  tenderChanges: [repo("features/tenders/tender-changes.repo.ts"), repo("features/reminders/tender-changes.repo.ts")],
  engagementDaily: [repo("features/analytics/engagement.repo.ts")],
  emailOutbox: [repo("email/outbox.repo.ts")],
  emailSuppressions: [repo("email/suppressions.repo.ts")],
  userConsents: [repo("features/consents/consents.repo.ts")],
  idempotencyKeys: [repo("identity/idempotency.repo.ts")],
};

/** Tables seeded by migrations and never written by the application. */
const READ_ONLY_OWNERS = new Set(["permissions"]);

/**
 * Writes outside the owner, each with its reason. Keep this list short: prefer moving the
 * statement into the owning repo and calling it.
 */
const WRITE_EXCEPTIONS: { repo: string; tables: string[]; reason: string }[] = [
  {
    repo: repo("features/admin/admin-import.repo.ts"),
    tables: ["users", "userProfiles", "userPreferences", "passwordHistory", "userRoles", "sessions", "apiKeys", "oneTimeTokens"],
    reason: "bulk import writes whole accounts as multi-row JSON statements (one bound parameter per chunk) and revokes the changed accounts' credentials in the same batch",
  },
  {
    repo: repo("features/gdpr/gdpr.repo.ts"),
    tables: ["users", "apiKeys", "auditLog", "invitations", "organizations", "emailOutbox"],
    reason: "erasure is one batch across the account, every statement guarded by `stillDue` so a reactivation leaves everything in place",
  },
  { repo: repo("features/sessions/sessions.repo.ts"), tables: ["oneTimeTokens"], reason: "the expired-credentials sweep deletes expired tokens with expired sessions" },
];
