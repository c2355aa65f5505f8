/**
 * Named fixtures for state the public API cannot set up cheaply, or at all: a role granted in D1
 * (how the first administrator of a deployment is made), a suspended account, a clock moved
 * back, rows of a kind only a job or an import writes. Tests read as what they arrange; the SQL
 * stays here, in one place. Reads of D1 for assertions stay in the tests.
 */
import { env } from "cloudflare:workers";
import { newId } from "../../src/platform/ids";
import { unique } from "./harness";

const DAY = 86_400_000;

type Value = string | number | null | ArrayBuffer;
type Row = Record<string, Value | undefined>;

/** One INSERT of a row given as snake_case column → value (undefined columns take their defaults). */
function insert(table: string, row: Row) {
  const columns = Object.keys(row).filter((k) => row[k] !== undefined);
  return env.DB.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
    .bind(...columns.map((c) => row[c]))
    .run();
}

/** One UPDATE of `table` setting snake_case columns where `key` = `id`. */
function update(table: string, key: string, id: string, sets: Row) {
  const columns = Object.keys(sets).filter((k) => sets[k] !== undefined);
  return env.DB.prepare(`UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE ${key} = ?`)
    .bind(...columns.map((c) => sets[c]), id)
    .run();
}

// ---------------------------------------------------------------------------
// Roles

/** Grants role `role_<role>` directly in D1 (how the first administrator of a deployment is made). */
export const grantRole = (userId: string, role: string, expiresAt: number | null = null) =>
  insert("user_roles", { id: `uro_${userId}_${role}`, user_id: userId, role_id: `role_${role}`, expires_at: expiresAt });

/** A custom role carrying exactly `permissionIds` (e.g. `perm_admin_users`); returns its name for `grantRole`. */
export async function customRole(permissionIds: string[], description = "custom"): Promise<string> {
  const name = unique("custom_");
  await insert("roles", { id: `role_${name}`, name: `role_${name}`, description });
  for (const permission of permissionIds) await insert("role_permissions", { role_id: `role_${name}`, permission_id: permission });
  return name;
}

/** Takes every role of the user away, in D1. */
export const revokeRoles = (userId: string) => env.DB.prepare("DELETE FROM user_roles WHERE user_id = ?").bind(userId).run();

// ---------------------------------------------------------------------------
// Users

/** A user row written straight to D1, without a password (as an import or an administrator creates one). */
export async function insertUser(fields: { id?: string; email: string; full_name: string; status?: string; account_type?: string; created_at?: number }): Promise<string> {
  const id = fields.id ?? newId("usr");
  await insert("users", { password_hash: "!none", ...fields, id });
  return id;
}

/** `n` users in one statement (fast setup for bulk cases); returns their ids, in order. */
export async function insertUsers(n: number): Promise<string[]> {
  const tag = unique("b");
  const ids = Array.from({ length: n }, (_, i) => `usr_${tag}_${String(i).padStart(3, "0")}`);
  await env.DB.prepare(
    `INSERT INTO users (id, email, password_hash, full_name) SELECT value, value || '@bulk.example.com', '!none', 'Bulk ' || value FROM json_each(?)`,
  )
    .bind(JSON.stringify(ids))
    .run();
  return ids;
}

/** A day of engagement for the user, as the analytics job records it. */
export const recordEngagement = (userId: string, date: string, fields: { login_count: number; engagement_score: number }) =>
  insert("engagement_daily", { user_id: userId, date, ...fields });

export const setUserStatus = (userId: string, status: "active" | "suspended" | "inactive") => update("users", "id", userId, { status });

export const setEmailVerified = (userId: string, verified: boolean) => update("users", "id", userId, { email_verified: verified ? 1 : 0 });

/** Stores `hash` as the user's password hash, as an import from a seed system would. */
export const setPasswordHash = (userId: string, hash: string) => update("users", "id", userId, { password_hash: hash });

/** Moves the user's last password change `days` into the past. */
export const agePassword = (userId: string, days: number) => update("users", "id", userId, { password_changed_at: Date.now() - days * DAY });

/** Sets columns of the user's preferences row in D1 (no validation, no derived schedule recomputed by the service). */
export const setPreferences = (userId: string, fields: Row) => update("user_preferences", "user_id", userId, fields);

/** Sets columns of the user's profile row in D1. */
export const setProfile = (userId: string, fields: Row) => update("user_profiles", "user_id", userId, fields);

// ---------------------------------------------------------------------------
// Sessions and tokens

/** Moves the start of a session to `at` (ms since the epoch). */
export const setSessionCreatedAt = (sessionId: string, at: number) => update("sessions", "id", sessionId, { created_at: at });

/** Lets every refresh token of the session expire. */
export const expireRefreshTokens = (sessionId: string) => update("refresh_tokens", "session_id", sessionId, { expires_at: Date.now() - 1 });

/** Lets the user's pending one-time tokens (of `purpose`, or all) expire. */
export const expireOneTimeTokens = (userId: string, purpose?: "email_verification" | "password_reset" | "mfa_login" | "email_change") =>
  env.DB.prepare(`UPDATE one_time_tokens SET expires_at = ? WHERE user_id = ?${purpose ? " AND purpose = ?" : ""}`)
    .bind(Date.now() - 1, userId, ...(purpose ? [purpose] : []))
    .run();

/** Lets an invitation expire. */
export const expireInvitation = (invitationId: string) => update("invitations", "id", invitationId, { expires_at: Date.now() - 1000 });

// ---------------------------------------------------------------------------
// Organizations

export type OrgRole = "owner" | "admin" | "member" | "viewer";

export interface OrgFields {
  id?: string;
  name?: string;
  billing_email?: string | null;
  subscription_plan?: string;
  max_users?: number;
  max_alerts?: number;
  max_saved_searches?: number;
}

/** An organization written straight to D1 (no creator, no trial, no per-user creation cap). */
export async function insertOrg(fields: OrgFields = {}): Promise<string> {
  const id = fields.id ?? unique("org_");
  await insert("organizations", { name: "Org", ...fields, id });
  return id;
}

/** Makes `userId` a member of `orgId` with `role`, in D1 (no invitation). */
export const addMember = (orgId: string, userId: string, role: OrgRole) =>
  insert("organization_members", { id: unique("mem_"), organization_id: orgId, user_id: userId, role });

/** An organization with these members, in D1. */
export async function orgWithMembers(members: [userId: string, role: OrgRole][], fields: OrgFields = {}): Promise<string> {
  const id = await insertOrg(fields);
  for (const [userId, role] of members) await addMember(id, userId, role);
  return id;
}

/** A pending invitation written straight to D1 (no email, no budget); returns its id. */
export async function insertInvitation(orgId: string, email: string, invitedBy: string, expiresAt = Date.now() + 7 * DAY): Promise<string> {
  const id = unique("inv_");
  await insert("invitations", { id, organization_id: orgId, email, token_hash: unique("h"), invited_by: invitedBy, expires_at: expiresAt });
  return id;
}

/** Changes a member's role in D1 (no owner rules, no unsharing). */
export const setMemberRole = (orgId: string, userId: string, role: OrgRole) =>
  env.DB.prepare("UPDATE organization_members SET role = ? WHERE organization_id = ? AND user_id = ?").bind(role, orgId, userId).run();

/** Removes a membership by a path other than the API (as a bulk job or an operator would). */
export const deleteMembership = (orgId: string, userId: string) =>
  env.DB.prepare("DELETE FROM organization_members WHERE organization_id = ? AND user_id = ?").bind(orgId, userId).run();

/** Sets an organization's plan and limits, as billing would. */
export const setOrgPlan = (orgId: string, fields: Omit<OrgFields, "id" | "name" | "billing_email">) => update("organizations", "id", orgId, { ...fields });

// ---------------------------------------------------------------------------
// Audit and email

/** An audit row written straight to D1 (`details` as an object). */
export const insertAuditRow = (userId: string, fields: { action: string; actor_id?: string; details?: unknown; ip_address?: string }) =>
  insert("audit_log", {
    id: unique("aud_"),
    user_id: userId,
    action: fields.action,
    actor_id: fields.actor_id,
    details: fields.details === undefined ? undefined : JSON.stringify(fields.details),
    ip_address: fields.ip_address,
  });

/** A bare outbox row created at `createdAt`, not yet handed to the email queue. */
export async function insertOutboxRow(createdAt: number): Promise<string> {
  const id = newId("eml");
  await insert("email_outbox", { id, to_address: "x@example.com", subject: "s", text_body: "", html_body: "", template: "test", created_at: createdAt });
  return id;
}

/** Sets an outbox row's delivery status, as the email consumer would. */
export const setOutboxStatus = (outboxId: string, status: "pending" | "sent" | "failed") => update("email_outbox", "id", outboxId, { status });

// ---------------------------------------------------------------------------
// Tenders, favorites, alerts, notifications

export interface TenderFields {
  id?: string;
  external_id?: string;
  title?: string;
  description?: string | null;
  department?: string | null;
  state?: string | ArrayBuffer | null;
  value?: number | null;
  closing_date?: number | null;
  created_at?: number;
  updated_at?: number;
  match_pending_since?: number | null;
}

/** A tender written straight to D1 (no ingest, no matching); returns its id. */
export async function insertTender(fields: TenderFields = {}): Promise<string> {
  const id = fields.id ?? newId("tnd");
  await insert("tenders", { title: "Tender", ...fields, id, external_id: fields.external_id ?? unique("ext") });
  return id;
}

/** A tender closing in `days` days (30 by default). */
export const closingIn = (days = 30) => Date.now() + days * DAY;

/** Moves a tender's last update to `at` (as if written by an isolate whose clock ran elsewhere). */
export const setTenderUpdatedAt = (tenderId: string, at: number) => update("tenders", "id", tenderId, { updated_at: at });

export interface FavoriteFields {
  id?: string;
  priority?: string;
  notes?: string;
  organization_id?: string | null;
}

export async function insertFavorite(userId: string, tenderId: string, fields: FavoriteFields = {}): Promise<string> {
  const id = fields.id ?? newId("fav");
  await insert("favorites", { ...fields, id, user_id: userId, tender_id: tenderId });
  return id;
}

/** An alert written straight to D1 (so no match is run at creation); returns its id. */
export async function insertAlert(
  userId: string,
  fields: { id?: string; name?: string; criteria: unknown; notification_methods: string[]; notification_frequency?: string },
): Promise<string> {
  const id = fields.id ?? newId("alr");
  await insert("alerts", {
    id,
    user_id: userId,
    name: fields.name ?? "Alert",
    criteria: JSON.stringify(fields.criteria),
    notification_methods: JSON.stringify(fields.notification_methods),
    notification_frequency: fields.notification_frequency,
  });
  return id;
}

/** A recorded interaction with a tender (a view from an alert email, …). */
export const insertInteraction = (userId: string, tenderId: string, fields: { interaction_type: string; source?: string }) =>
  insert("tender_interactions", { id: newId("int"), user_id: userId, tender_id: tenderId, ...fields });

/** Changes how often the alert notifies, in D1. */
export const setAlertFrequency = (alertId: string, frequency: "immediate" | "daily_digest" | "weekly_digest") =>
  update("alerts", "id", alertId, { notification_frequency: frequency });

/** A match of `tenderId` for the alert, not yet delivered. */
export const insertAlertMatch = (alertId: string, tenderId: string, userId: string) =>
  insert("alert_matches", { id: newId("amt"), alert_id: alertId, tender_id: tenderId, user_id: userId });

/** A note written straight to D1 (no per-user write limit, any timestamps); returns its id. */
export async function insertNote(
  userId: string,
  tenderId: string,
  fields: { id?: string; note_text?: string; created_at?: number; updated_at?: number } = {},
): Promise<string> {
  const id = fields.id ?? newId("note");
  await insert("notes", { note_text: "note", ...fields, id, user_id: userId, tender_id: tenderId });
  return id;
}

export interface NotificationFields {
  id?: string;
  title?: string;
  message?: string;
  is_read?: boolean;
  created_at?: number;
  expires_at?: number | null;
}

export async function insertNotification(userId: string, fields: NotificationFields = {}): Promise<string> {
  const id = fields.id ?? newId("ntf", fields.created_at);
  const { is_read, ...rest } = fields;
  await insert("notifications", { type: "alert_match", title: "t", message: "m", ...rest, is_read: is_read === undefined ? undefined : is_read ? 1 : 0, id, user_id: userId });
  return id;
}
