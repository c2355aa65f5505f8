import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt, bool, json } from "../columns";

export const USER_STATUSES = ["active", "inactive", "suspended"] as const;

export type UserStatus = (typeof USER_STATUSES)[number];

export const ACCOUNT_TYPES = ["free", "basic", "premium", "enterprise"] as const;

export type AccountType = (typeof ACCOUNT_TYPES)[number];

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
    /**
     * The newest password sign-in of this email that opened a session, as its sign-in guard
     * reservation (`seq`): the next attempt hands it to the guard, which then forgives it and
     * every attempt before it (what `succeed()` did in a Durable Object call of its own).
     */
    signInSettled: integer("sign_in_settled"),
    passwordChangedAt: ts("password_changed_at").notNull().default(sql`(unixepoch() * 1000)`),
    /** GDPR erasure: set by DELETE /me; personal data is erased after the grace period. */
    deletionRequestedAt: ts("deletion_requested_at"),
    /**
     * When the user's one organization trial started (their first organization). Kept on the
     * user, so deleting that organization and creating another gives no second trial.
     */
    trialStartedAt: ts("trial_started_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    // status (and account type) + created_at: the admin list walks the index in its order and stops at the page.
    index("users_status_created_idx").on(t.status, t.createdAt, t.id),
    index("users_account_type_created_idx").on(t.accountType, t.createdAt, t.id),
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
    /** The local weekday of the weekly digest (and of weekly-digest alerts' matches in a daily digest). */
    emailDigestWeekday: text("email_digest_weekday", { enum: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] })
      .notNull()
      .default("monday"),
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
    /**
     * When the digest job next looks at this user (ms): the next digest slot in the user's time
     * zone, computed by the job after each look. 0 = "look at the next tick" (new rows, and set by
     * a trigger when the digest time, frequency or the profile's time zone changes); NULL = never.
     */
    nextDigestAt: integer("next_digest_at").default(0),
    /**
     * When the digest was last turned back on (frequency from `never` to another): an
     * unsubscribe token issued before it is refused, so a replayed link cannot undo that choice.
     */
    digestResumedAt: ts("digest_resumed_at"),
    /** Days before a favorite's closing at which to remind (bid_status planning/preparing). */
    reminderDays: json<number[]>("reminder_days").notNull().default([7, 3, 1]),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("user_preferences_digest_idx").on(t.emailDigestFrequency),
    // The digest job reads due users in order: WHERE next_digest_at <= now ORDER BY next_digest_at.
    index("user_preferences_next_digest_idx").on(t.nextDigestAt).where(sql`next_digest_at IS NOT NULL`),
  ],
);
