/**
 * The whole keel data model, for D1 (SQLite) through drizzle.
 *
 * Conventions: ids are prefixed sortable strings (`usr_…`, see platform/ids.ts); timestamps are
 * integer milliseconds since the epoch (drizzle maps them to Date; the API prints ISO 8601);
 * arrays and objects are JSON text; booleans are 0/1 integers. Foreign keys follow the seeds'
 * ON DELETE rules (D1 always enforces them). Only `*.repo.ts` files and the migrations-facing
 * code import this module.
 */
import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const ts = (name: string) => integer(name, { mode: "timestamp_ms" });
const createdAt = () => ts("created_at").notNull().default(sql`(unixepoch() * 1000)`);
const updatedAt = () => ts("updated_at").notNull().default(sql`(unixepoch() * 1000)`);
const bool = (name: string) => integer(name, { mode: "boolean" });
const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();

export const USER_STATUSES = ["active", "inactive", "suspended"] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const ACCOUNT_TYPES = ["free", "basic", "premium", "enterprise"] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

// ─── identity ──────────────────────────────────────────────────────────────────────────────

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Stored lowercased and trimmed; unique. */
    email: text("email").notNull(),
    emailVerified: bool("email_verified").notNull().default(false),
    emailVerifiedAt: ts("email_verified_at"),
    /** Self-describing hash string (`$scrypt$ln=…`, or an imported bcrypt/Werkzeug hash). */
    passwordHash: text("password_hash").notNull(),
    fullName: text("full_name").notNull(),
    phone: text("phone"),
    status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
    accountType: text("account_type", { enum: ACCOUNT_TYPES }).notNull().default("free"),
    failedLoginAttempts: integer("failed_login_attempts").notNull().default(0),
    lastFailedLoginAt: ts("last_failed_login_at"),
    lockedUntil: ts("locked_until"),
    twoFactorEnabled: bool("two_factor_enabled").notNull().default(false),
    lastLoginAt: ts("last_login_at"),
    lastLoginIp: text("last_login_ip"),
    passwordChangedAt: ts("password_changed_at").notNull().default(sql`(unixepoch() * 1000)`),
    /** GDPR erasure: set by DELETE /me; personal data is erased after the grace period. */
    deletionRequestedAt: ts("deletion_requested_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    index("users_status_idx").on(t.status),
    index("users_account_type_idx").on(t.accountType),
    index("users_created_at_idx").on(t.createdAt),
  ],
);

export const userProfiles = sqliteTable("user_profiles", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  companyName: text("company_name"),
  designation: text("designation"),
  industrySector: json<string[]>("industry_sector").notNull().default([]),
  gstNumber: text("gst_number"),
  panNumber: text("pan_number"),
  companyRegistrationNumber: text("company_registration_number"),
  annualTurnoverRange: text("annual_turnover_range"),
  employeeCountRange: text("employee_count_range"),
  yearsInBusiness: integer("years_in_business"),
  operatingStates: json<string[]>("operating_states").notNull().default([]),
  headOfficeCity: text("head_office_city"),
  headOfficeState: text("head_office_state"),
  preferredTenderTypes: json<string[]>("preferred_tender_types").notNull().default([]),
  minTenderValue: real("min_tender_value"),
  maxTenderValue: real("max_tender_value"),
  specializations: json<string[]>("specializations").notNull().default([]),
  notificationPreferences: json<Record<string, boolean>>("notification_preferences")
    .notNull()
    .default({ email: true, sms: false, push: true }),
  timezone: text("timezone").notNull().default("Asia/Kolkata"),
  languagePreference: text("language_preference").notNull().default("en"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const userPreferences = sqliteTable(
  "user_preferences",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    defaultView: text("default_view", { enum: ["grid", "list", "compact"] }).notNull().default("grid"),
    tendersPerPage: integer("tenders_per_page").notNull().default(25),
    defaultSort: text("default_sort", { enum: ["closing_date", "value", "published_at", "relevance"] })
      .notNull()
      .default("closing_date"),
    /** "HH:MM" in the profile's timezone. */
    quietHoursStart: text("quiet_hours_start"),
    quietHoursEnd: text("quiet_hours_end"),
    maxAlertsPerDay: integer("max_alerts_per_day").notNull().default(50),
    emailDigestFrequency: text("email_digest_frequency", { enum: ["immediate", "daily", "weekly", "never"] })
      .notNull()
      .default("daily"),
    emailDigestTime: text("email_digest_time").notNull().default("09:00"),
    showExpiredTenders: bool("show_expired_tenders").notNull().default(false),
    highlightUrgentTenders: bool("highlight_urgent_tenders").notNull().default(true),
    profileVisibility: text("profile_visibility", { enum: ["public", "organization", "private"] })
      .notNull()
      .default("private"),
    enableAiRecommendations: bool("enable_ai_recommendations").notNull().default(true),
    enableSmartSuggestions: bool("enable_smart_suggestions").notNull().default(true),
    preferencesJson: json<Record<string, unknown>>("preferences_json").notNull().default({}),
    /** When the last digest went out, so a rerun of the cron sends nothing twice. */
    lastDigestSentAt: ts("last_digest_sent_at"),
    updatedAt: updatedAt(),
  },
  (t) => [index("user_preferences_digest_idx").on(t.emailDigestFrequency)],
);

// ─── RBAC ──────────────────────────────────────────────────────────────────────────────────

export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    isBuiltin: bool("is_builtin").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("roles_name_unique").on(t.name)],
);

export const permissions = sqliteTable(
  "permissions",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("permissions_name_unique").on(t.name)],
);

export const rolePermissions = sqliteTable(
  "role_permissions",
  {
    roleId: text("role_id")
      .notNull()
      .references(() => roles.id, { onDelete: "cascade" }),
    permissionId: text("permission_id")
      .notNull()
      .references(() => permissions.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.roleId, t.permissionId] })],
);

export const userRoles = sqliteTable(
  "user_roles",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roleId: text("role_id")
      .notNull()
      .references(() => roles.id, { onDelete: "cascade" }),
    grantedBy: text("granted_by").references(() => users.id, { onDelete: "set null" }),
    grantedAt: ts("granted_at").notNull().default(sql`(unixepoch() * 1000)`),
    /** An expired role grants nothing. */
    expiresAt: ts("expires_at"),
  },
  (t) => [uniqueIndex("user_roles_user_role_unique").on(t.userId, t.roleId), index("user_roles_role_idx").on(t.roleId)],
);

// ─── organizations ─────────────────────────────────────────────────────────────────────────

export const ORG_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  orgType: text("org_type"),
  billingEmail: text("billing_email"),
  billingAddress: text("billing_address"),
  subscriptionPlan: text("subscription_plan", { enum: ["free", "team", "business", "enterprise"] })
    .notNull()
    .default("team"),
  subscriptionStatus: text("subscription_status").notNull().default("active"),
  subscriptionStartsAt: ts("subscription_starts_at"),
  subscriptionEndsAt: ts("subscription_ends_at"),
  maxUsers: integer("max_users").notNull().default(5),
  maxAlerts: integer("max_alerts").notNull().default(50),
  maxSavedSearches: integer("max_saved_searches").notNull().default(25),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const organizationMembers = sqliteTable(
  "organization_members",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ORG_ROLES }).notNull().default("member"),
    joinedAt: ts("joined_at").notNull().default(sql`(unixepoch() * 1000)`),
  },
  (t) => [
    uniqueIndex("organization_members_org_user_unique").on(t.organizationId, t.userId),
    index("organization_members_user_idx").on(t.userId),
  ],
);

export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ORG_ROLES }).notNull().default("member"),
    /** SHA-256 of the emailed token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: ts("expires_at").notNull(),
    acceptedAt: ts("accepted_at"),
    revokedAt: ts("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("invitations_token_hash_unique").on(t.tokenHash),
    index("invitations_org_email_idx").on(t.organizationId, t.email),
  ],
);

// ─── sessions and credentials ──────────────────────────────────────────────────────────────

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deviceName: text("device_name"),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
    lastUsedAt: ts("last_used_at").notNull().default(sql`(unixepoch() * 1000)`),
    expiresAt: ts("expires_at").notNull(),
    revokedAt: ts("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId, t.revokedAt), index("sessions_expires_idx").on(t.expiresAt)],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the opaque token. */
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: ts("expires_at").notNull(),
    /** Set exactly once, by the guarded rotation statement; a second use is reuse. */
    usedAt: ts("used_at"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_session_idx").on(t.sessionId),
    index("refresh_tokens_expires_idx").on(t.expiresAt),
  ],
);

/** Devices (user-agent fingerprints) a user has signed in from: drives the "new sign-in" email. */
export const userDevices = sqliteTable(
  "user_devices",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.fingerprint] })],
);

export const passwordHistory = sqliteTable(
  "password_history",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("password_history_user_idx").on(t.userId, t.createdAt)],
);

export const ONE_TIME_PURPOSES = ["email_verification", "password_reset", "mfa_login"] as const;
export type OneTimePurpose = (typeof ONE_TIME_PURPOSES)[number];

/** Single-use tokens: only their SHA-256 is stored; consuming one is a guarded DELETE … RETURNING. */
export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ONE_TIME_PURPOSES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    data: json<Record<string, unknown>>("data").notNull().default({}),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("one_time_tokens_hash_unique").on(t.tokenHash),
    index("one_time_tokens_user_purpose_idx").on(t.userId, t.purpose),
    index("one_time_tokens_expires_idx").on(t.expiresAt),
  ],
);

export const mfaTotp = sqliteTable("mfa_totp", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** AES-GCM ciphertext of the base32 secret (`v1.<iv>.<ciphertext>`), never the secret itself. */
  secretEncrypted: text("secret_encrypted").notNull(),
  enabled: bool("enabled").notNull().default(false),
  enabledAt: ts("enabled_at"),
  /** Highest 30 s time step accepted; a code of that step or earlier is a replay. */
  lastUsedStep: integer("last_used_step"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const mfaBackupCodes = sqliteTable(
  "mfa_backup_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** HMAC-SHA-256 of the code under a server key. */
    codeHash: text("code_hash").notNull(),
    usedAt: ts("used_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mfa_backup_codes_user_code_unique").on(t.userId, t.codeHash)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The visible start of the key, shown in lists so users can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key. */
    keyHash: text("key_hash").notNull(),
    scopes: json<string[]>("scopes").notNull(),
    allowedIps: json<string[]>("allowed_ips"),
    rateLimitPerHour: integer("rate_limit_per_hour").notNull().default(1000),
    expiresAt: ts("expires_at"),
    revokedAt: ts("revoked_at"),
    lastUsedAt: ts("last_used_at"),
    useCount: integer("use_count").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_key_hash_unique").on(t.keyHash), index("api_keys_user_idx").on(t.userId)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    /** Who did it, when not the user themselves (an administrator, a job). */
    actorId: text("actor_id"),
    action: text("action").notNull(),
    details: json<Record<string, unknown>>("details").notNull().default({}),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_log_user_idx").on(t.userId, t.createdAt),
    index("audit_log_action_idx").on(t.action, t.createdAt),
    index("audit_log_created_idx").on(t.createdAt),
  ],
);

// ─── tenders and personalization ───────────────────────────────────────────────────────────

export const tenders = sqliteTable(
  "tenders",
  {
    id: text("id").primaryKey(),
    externalId: text("external_id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    department: text("department"),
    state: text("state"),
    portal: text("portal"),
    value: real("value"),
    currency: text("currency").notNull().default("INR"),
    publishedAt: ts("published_at"),
    closingDate: ts("closing_date"),
    url: text("url"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("tenders_external_id_unique").on(t.externalId),
    index("tenders_closing_date_idx").on(t.closingDate),
    index("tenders_published_at_idx").on(t.publishedAt),
    index("tenders_state_idx").on(t.state),
    index("tenders_department_idx").on(t.department),
    index("tenders_value_idx").on(t.value),
  ],
);

export const FAVORITE_PRIORITIES = ["high", "medium", "low"] as const;
export const BID_STATUSES = ["planning", "preparing", "submitted", "won", "lost", "withdrawn"] as const;

export const favorites = sqliteTable(
  "favorites",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    folder: text("folder"),
    tags: json<string[]>("tags").notNull().default([]),
    notes: text("notes"),
    priority: text("priority", { enum: FAVORITE_PRIORITIES }),
    bidStatus: text("bid_status", { enum: BID_STATUSES }),
    bidAmount: real("bid_amount"),
    bidSubmittedAt: ts("bid_submitted_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("favorites_user_tender_unique").on(t.userId, t.tenderId),
    index("favorites_user_created_idx").on(t.userId, t.createdAt),
    index("favorites_tender_idx").on(t.tenderId),
    index("favorites_user_folder_idx").on(t.userId, t.folder),
    index("favorites_user_bid_status_idx").on(t.userId, t.bidStatus),
  ],
);

/** Alert criteria and saved-search queries share this shape (shared/API.md). */
export interface TenderCriteria {
  keywords?: string[];
  exclude_keywords?: string[];
  states?: string[];
  departments?: string[];
  min_value?: number;
  max_value?: number;
  closing_date_range?: "next_7_days" | "next_30_days" | "next_90_days" | "any";
}

export const savedSearches = sqliteTable(
  "saved_searches",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    query: json<TenderCriteria>("query").notNull(),
    lastUsedAt: ts("last_used_at"),
    useCount: integer("use_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("saved_searches_user_idx").on(t.userId, t.lastUsedAt)],
);

export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    isActive: bool("is_active").notNull().default(true),
    criteria: json<TenderCriteria>("criteria").notNull(),
    notificationMethods: json<("email" | "in_app")[]>("notification_methods").notNull().default(["email"]),
    notificationFrequency: text("notification_frequency", {
      enum: ["immediate", "daily_digest", "weekly_digest"],
    })
      .notNull()
      .default("immediate"),
    notificationTime: text("notification_time"),
    lastMatchedAt: ts("last_matched_at"),
    lastNotifiedAt: ts("last_notified_at"),
    totalMatches: integer("total_matches").notNull().default(0),
    totalNotificationsSent: integer("total_notifications_sent").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("alerts_user_idx").on(t.userId), index("alerts_active_idx").on(t.isActive)],
);

export const MATCH_STATUSES = ["pending", "sent", "failed", "dismissed"] as const;

export const alertMatches = sqliteTable(
  "alert_matches",
  {
    id: text("id").primaryKey(),
    alertId: text("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    /** Denormalised owner, so digests and scoping need no join through alerts. */
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    matchedAt: ts("matched_at").notNull().default(sql`(unixepoch() * 1000)`),
    notifiedAt: ts("notified_at"),
    notificationStatus: text("notification_status", { enum: MATCH_STATUSES }).notNull().default("pending"),
    viewedAt: ts("viewed_at"),
    clickedAt: ts("clicked_at"),
  },
  (t) => [
    uniqueIndex("alert_matches_alert_tender_unique").on(t.alertId, t.tenderId),
    index("alert_matches_alert_idx").on(t.alertId, t.matchedAt),
    index("alert_matches_pending_idx").on(t.userId, t.notificationStatus, t.matchedAt),
  ],
);

export const notes = sqliteTable(
  "notes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    noteText: text("note_text").notNull(),
    noteType: text("note_type", { enum: ["general", "technical", "financial", "risk"] })
      .notNull()
      .default("general"),
    /** Visible to the members of the author's organizations. */
    isShared: bool("is_shared").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("notes_user_idx").on(t.userId, t.createdAt), index("notes_tender_idx").on(t.tenderId)],
);

export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    title: text("title").notNull(),
    message: text("message").notNull(),
    actionUrl: text("action_url"),
    relatedTenderId: text("related_tender_id").references(() => tenders.id, { onDelete: "set null" }),
    relatedAlertId: text("related_alert_id").references(() => alerts.id, { onDelete: "set null" }),
    isRead: bool("is_read").notNull().default(false),
    readAt: ts("read_at"),
    deliveryMethod: text("delivery_method"),
    createdAt: createdAt(),
    expiresAt: ts("expires_at"),
  },
  (t) => [
    index("notifications_user_idx").on(t.userId, t.createdAt),
    index("notifications_unread_idx").on(t.userId, t.isRead),
  ],
);

export const engagementDaily = sqliteTable(
  "engagement_daily",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** UTC calendar day, "YYYY-MM-DD". */
    date: text("date").notNull(),
    loginCount: integer("login_count").notNull().default(0),
    searchCount: integer("search_count").notNull().default(0),
    tenderViews: integer("tender_views").notNull().default(0),
    favoritesAdded: integer("favorites_added").notNull().default(0),
    alertsTriggered: integer("alerts_triggered").notNull().default(0),
    totalSessionDurationMinutes: integer("total_session_duration_minutes").notNull().default(0),
    engagementScore: real("engagement_score"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.date] }), index("engagement_daily_date_idx").on(t.date)],
);

export const tenderInteractions = sqliteTable(
  "tender_interactions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    interactionType: text("interaction_type").notNull(),
    source: text("source"),
    deviceType: text("device_type"),
    createdAt: createdAt(),
  },
  (t) => [
    index("tender_interactions_user_idx").on(t.userId, t.createdAt),
    index("tender_interactions_tender_idx").on(t.tenderId),
    index("tender_interactions_type_idx").on(t.interactionType, t.createdAt),
  ],
);

// ─── email ─────────────────────────────────────────────────────────────────────────────────

export const OUTBOX_STATUSES = ["pending", "sent", "failed"] as const;

/**
 * Transactional outbox: an email row is written in the same batch as the change that causes
 * it, then delivered by the `email` queue consumer. Locally it is also the mailbox.
 */
export const emailOutbox = sqliteTable(
  "email_outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    htmlBody: text("html_body").notNull(),
    template: text("template").notNull(),
    status: text("status", { enum: OUTBOX_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    providerMessageId: text("provider_message_id"),
    createdAt: createdAt(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    index("email_outbox_status_idx").on(t.status, t.createdAt),
    index("email_outbox_created_idx").on(t.createdAt),
  ],
);
