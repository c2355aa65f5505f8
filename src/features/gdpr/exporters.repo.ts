import type { Owner } from "../../identity/owner";
import { and, eq, getTableColumns, getTableName, gt, sql, type Column } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import {
  alertMatches,
  alerts,
  apiKeys,
  auditLog,
  emailOutbox,
  emailSuppressions,
  engagementDaily,
  favorites,
  mfaTotp,
  notes,
  notifications,
  organizationMembers,
  organizations,
  savedSearches,
  sessions,
  tenderInteractions,
  tenderSearches,
  userConsents,
  userDevices,
  userIdentities,
  passkeys,
  userPreferences,
  userProfiles,
  userRoles,
  users,
  reminderMarks,
  webhookEndpoints,
  webhookEvents,
} from "../../db/tables";
import type { Db } from "../../platform/db";
import { asSeenBySubject } from "../../audit/audit.repo";

export type ExportRow = Record<string, unknown>;

/** A page of a section: rows oldest first, and the cursor (rowid) of the last one. */
export interface ExportPage {
  rows: ExportRow[];
  last: number | null;
}

/**
 * One section of the GDPR export (GET /me/export): every row a table holds about the user.
 * `tables` names the D1 tables whose user-keyed rows the section covers; the completeness test
 * (test/gdpr.test.ts) fails when a table with a `user_id` column is neither covered here nor in
 * `NOT_EXPORTED`, so a new feature's table cannot be forgotten.
 */
export interface Exporter {
  section: string;
  tables: readonly string[];
  page(db: Db, userId: Owner, after: number, limit: number): Promise<ExportPage>;
}

/**
 * Column names never exported, whatever the table: credentials and their hashes. A new column
 * named like these stays out of the export without anyone remembering to omit it.
 */
export const SECRET_COLUMN = /(hash|secret|encrypted|token)/i;

/** DB column name → value, secrets dropped; Dates print as ISO 8601 through JSON. */
function publicRow(columns: Record<string, Column>, row: Record<string, unknown>, omit: readonly string[]): ExportRow {
  const out: ExportRow = {};
  for (const [key, column] of Object.entries(columns)) {
    if (SECRET_COLUMN.test(column.name) || omit.includes(column.name)) continue;
    out[column.name] = row[key];
  }
  return out;
}

/** Every row of `table` whose `owner` column is the user, paged by rowid (each row through `view`, if given). */
function rowsOf<T extends SQLiteTable>(
  section: string,
  table: T,
  owner: Column,
  opts: { omit?: readonly string[]; view?: (row: T["$inferSelect"]) => T["$inferSelect"] } = {},
): Exporter {
  const columns = getTableColumns(table) as Record<string, Column>;
  const rowid = sql<number>`${table}.rowid`;
  return {
    section,
    tables: [getTableName(table)],
    async page(db, userId, after, limit) {
      const rows = (await db
        .select({ ...columns, __rowid: rowid })
        .from(table as SQLiteTable)
        .where(and(eq(owner, userId), gt(rowid, after)))
        .orderBy(rowid)
        .limit(limit)) as (Record<string, unknown> & { __rowid: number })[];
      const view = opts.view ?? ((r) => r);
      return { rows: rows.map((r) => publicRow(columns, view(r as T["$inferSelect"]), opts.omit ?? [])), last: rows.at(-1)?.__rowid ?? null };
    },
  };
}

/** Memberships, with the organization's name so the document reads on its own. */
const memberships: Exporter = {
  section: "memberships",
  tables: [getTableName(organizationMembers)],
  async page(db, userId, after, limit) {
    const rowid = sql<number>`${organizationMembers}.rowid`;
    const rows = await db
      .select({
        __rowid: rowid,
        organization_id: organizationMembers.organizationId,
        organization_name: organizations.name,
        role: organizationMembers.role,
        joined_at: organizationMembers.joinedAt,
      })
      .from(organizationMembers)
      .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
      .where(and(eq(organizationMembers.userId, userId), gt(rowid, after)))
      .orderBy(rowid)
      .limit(limit);
    return { rows: rows.map(({ __rowid: _, ...r }) => r), last: rows.at(-1)?.__rowid ?? null };
  },
};

/**
 * THE registry: one line per table that holds rows about a user. A feature that adds such a
 * table adds its line here (or, if it must not be exported, to `NOT_EXPORTED` with the reason).
 */
export const EXPORTERS: readonly Exporter[] = [
  rowsOf("user", users, users.id),
  rowsOf("profile", userProfiles, userProfiles.userId),
  rowsOf("preferences", userPreferences, userPreferences.userId),
  rowsOf("roles", userRoles, userRoles.userId),
  memberships,
  rowsOf("sessions", sessions, sessions.userId),
  rowsOf("devices", userDevices, userDevices.userId),
  rowsOf("consents", userConsents, userConsents.userId),
  rowsOf("api_keys", apiKeys, apiKeys.userId),
  rowsOf("two_factor", mfaTotp, mfaTotp.userId),
  rowsOf("linked_identities", userIdentities, userIdentities.userId),
  // Which passkeys exist and when they were used; the key material and counter are credentials.
  rowsOf("passkeys", passkeys, passkeys.userId, { omit: ["public_key", "counter"] }),
  rowsOf("favorites", favorites, favorites.userId),
  rowsOf("alerts", alerts, alerts.userId),
  rowsOf("alert_matches", alertMatches, alertMatches.userId),
  rowsOf("saved_searches", savedSearches, savedSearches.userId),
  rowsOf("notes", notes, notes.userId),
  rowsOf("notifications", notifications, notifications.userId),
  rowsOf("tender_interactions", tenderInteractions, tenderInteractions.userId),
  rowsOf("searches", tenderSearches, tenderSearches.userId),
  rowsOf("engagement", engagementDaily, engagementDaily.userId),
  // IP address and user agent only on the user's own acts: on others' they are the actor's.
  rowsOf("audit_events", auditLog, auditLog.userId, { view: asSeenBySubject }),
  // The bodies carry single-use links (tokens): the envelope says what was sent and when.
  rowsOf("emails", emailOutbox, emailOutbox.userId, { omit: ["text_body", "html_body", "provider_message_id", "last_error"] }),
  rowsOf("email_suppressions", emailSuppressions, emailSuppressions.userId),
  // Which reminder marks were sent for which tender (issue 19).
  rowsOf("reminders_sent", reminderMarks, reminderMarks.userId),
  // The user's webhook endpoints: where their events go; the signing secrets are credentials.
  rowsOf("webhook_endpoints", webhookEndpoints, webhookEndpoints.userId, { omit: ["secret_sealed", "previous_secret_sealed"] }),
  // The events sent (or being sent) to them, as their endpoints received them (kept 30 days).
  rowsOf("webhook_events", webhookEvents, webhookEvents.userId),
];

/**
 * Tables with a `user_id` column that are deliberately left out of the export, each with why.
 * They hold only credentials (hashes, encrypted secrets), which are never handed out.
 */
export const NOT_EXPORTED: Readonly<Record<string, string>> = {
  password_history: "only password hashes",
  refresh_tokens: "only refresh-token hashes (the sessions section lists the sessions)",
  one_time_tokens: "single-use link and MFA tokens (hashes) in flight",
  webauthn_challenges: "passkey ceremony challenges in flight (5 minutes)",
  email_codes: "the hash of a live emailed sign-in code and link (10 minutes)",
  mfa_backup_codes: "only backup-code hashes (two_factor says whether 2FA is on)",
  idempotency_keys: "stored responses of the user's own retried POSTs (24 hours): what they created is exported in its own section",
};
