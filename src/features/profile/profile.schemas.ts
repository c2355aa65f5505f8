import { z } from "@hono/zod-openapi";
import { GSTIN_PATTERN, HHMM_PATTERN, isIanaTimeZone, LANGUAGE_PATTERN, PAN_PATTERN } from "./profile.rules";

const MAX_ITEMS = 50;
const MAX_ITEM_CHARS = 100;
/** preferences_json and notification_preferences are free-form: bounded by their JSON size. */
const MAX_JSON_BYTES = 8 * 1024;

const text = (max: number) => z.string().trim().min(1).max(max);
/** A list of short labels: trimmed, 1–100 characters each, at most 50, duplicates dropped. */
const labels = z
  .array(text(MAX_ITEM_CHARS))
  .max(MAX_ITEMS)
  .transform((items) => [...new Set(items)]);
const money = z.number().min(0).max(1e15);
const hhmm = z.string().regex(HHMM_PATTERN, 'Expected "HH:MM" between 00:00 and 23:59').openapi({ example: "22:00" });
const jsonSized = <T extends z.ZodType>(schema: T) =>
  schema.refine((v) => new TextEncoder().encode(JSON.stringify(v)).length <= MAX_JSON_BYTES, `At most ${MAX_JSON_BYTES} bytes of JSON`);

export const TimeZoneInput = z
  .string()
  .refine(isIanaTimeZone, "Expected an IANA time zone such as Asia/Kolkata")
  .openapi({ example: "Asia/Kolkata" });

export const UpdateProfileInput = z
  .strictObject({
    company_name: text(300).nullable(),
    designation: text(100).nullable(),
    industry_sector: labels,
    gst_number: z
      .string()
      .trim()
      .toUpperCase()
      .regex(GSTIN_PATTERN, "Expected a 15-character GSTIN such as 27ABCDE1234F1Z5")
      .nullable(),
    pan_number: z.string().trim().toUpperCase().regex(PAN_PATTERN, "Expected a PAN such as ABCDE1234F").nullable(),
    company_registration_number: text(50).nullable(),
    annual_turnover_range: text(50).nullable().openapi({ example: "5-10cr" }),
    employee_count_range: text(50).nullable().openapi({ example: "50-100" }),
    years_in_business: z.number().int().min(0).max(500).nullable(),
    operating_states: labels,
    head_office_city: text(100).nullable(),
    head_office_state: text(100).nullable(),
    preferred_tender_types: labels,
    min_tender_value: money.nullable(),
    max_tender_value: money.nullable(),
    specializations: labels,
    notification_preferences: jsonSized(z.record(z.string().min(1).max(50), z.boolean())).openapi({ example: { email: true, sms: false, push: true } }),
    timezone: TimeZoneInput,
    language_preference: z.string().regex(LANGUAGE_PATTERN, "Expected a language tag such as en or hi-IN"),
  })
  .partial()
  .refine(
    (p) => p.min_tender_value == null || p.max_tender_value == null || p.min_tender_value <= p.max_tender_value,
    { message: "min_tender_value must not exceed max_tender_value", path: ["min_tender_value"] },
  )
  .openapi("UpdateProfileInput", {
    description: "Only the fields sent change; null clears a nullable field; an array or object replaces the stored one.",
  });

export type UpdateProfileInput = z.infer<typeof UpdateProfileInput>;

export const ProfileSchema = z
  .object({
    company_name: z.string().nullable(),
    designation: z.string().nullable(),
    industry_sector: z.array(z.string()),
    gst_number: z.string().nullable(),
    pan_number: z.string().nullable(),
    company_registration_number: z.string().nullable(),
    annual_turnover_range: z.string().nullable(),
    employee_count_range: z.string().nullable(),
    years_in_business: z.number().int().nullable(),
    operating_states: z.array(z.string()),
    head_office_city: z.string().nullable(),
    head_office_state: z.string().nullable(),
    preferred_tender_types: z.array(z.string()),
    min_tender_value: z.number().nullable(),
    max_tender_value: z.number().nullable(),
    specializations: z.array(z.string()),
    notification_preferences: z.record(z.string(), z.boolean()),
    timezone: z.string(),
    language_preference: z.string(),
    profile_completion_percentage: z.number().int().min(0).max(100).openapi({
      description: "Share of the 15 descriptive fields that are filled (timezone, language and notification preferences have defaults and do not count)",
    }),
    updated_at: z.string(),
  })
  .openapi("Profile");

export const DEFAULT_VIEWS = ["grid", "list", "compact"] as const;
export const DEFAULT_SORTS = ["closing_date", "value", "published_at", "relevance"] as const;
export const DIGEST_FREQUENCIES = ["immediate", "daily", "weekly", "never"] as const;
export const VISIBILITIES = ["public", "organization", "private"] as const;
export const DIGEST_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

/** Reminder marks in days before closing: 1–10 distinct whole days of 1–90, stored nearest last. */
export const MAX_REMINDER_MARKS = 10;
export const MAX_REMINDER_DAY = 90;
const ReminderDays = z
  .array(z.number().int().min(1).max(MAX_REMINDER_DAY))
  .max(MAX_REMINDER_MARKS)
  .transform((days) => [...new Set(days)].sort((a, b) => b - a))
  .openapi({ example: [7, 3, 1] });

export const UpdatePreferencesInput = z
  .strictObject({
    default_view: z.enum(DEFAULT_VIEWS),
    tenders_per_page: z.number().int().min(5).max(100),
    default_sort: z.enum(DEFAULT_SORTS),
    quiet_hours_start: hhmm.nullable(),
    quiet_hours_end: hhmm.nullable(),
    max_alerts_per_day: z.number().int().min(0).max(1000),
    email_digest_frequency: z.enum(DIGEST_FREQUENCIES),
    email_digest_time: hhmm,
    email_digest_weekday: z.enum(DIGEST_WEEKDAYS),
    show_expired_tenders: z.boolean(),
    highlight_urgent_tenders: z.boolean(),
    profile_visibility: z.enum(VISIBILITIES),
    enable_ai_recommendations: z.boolean(),
    enable_smart_suggestions: z.boolean(),
    preferences_json: jsonSized(z.record(z.string().max(100), z.unknown())),
    reminder_days: ReminderDays,
  })
  .partial()
  .openapi("UpdatePreferencesInput", {
    description: "Only the fields sent change. Quiet hours apply when both ends are set (they may wrap midnight).",
  });

export type UpdatePreferencesInput = z.infer<typeof UpdatePreferencesInput>;

export const PreferencesSchema = z
  .object({
    default_view: z.enum(DEFAULT_VIEWS).openapi({ default: "grid" }),
    tenders_per_page: z.number().int().openapi({ default: 25 }),
    default_sort: z.enum(DEFAULT_SORTS).openapi({ default: "closing_date" }),
    quiet_hours_start: z.string().nullable(),
    quiet_hours_end: z.string().nullable(),
    max_alerts_per_day: z.number().int().openapi({ default: 50 }),
    email_digest_frequency: z.enum(DIGEST_FREQUENCIES).openapi({ default: "daily" }),
    email_digest_time: z.string().openapi({ default: "09:00", description: "In the profile's timezone" }),
    email_digest_weekday: z.enum(DIGEST_WEEKDAYS).openapi({ default: "monday", description: "The weekly digest's day, in the profile's timezone" }),
    show_expired_tenders: z.boolean().openapi({ default: false }),
    highlight_urgent_tenders: z.boolean().openapi({ default: true }),
    profile_visibility: z.enum(VISIBILITIES).openapi({ default: "private" }),
    enable_ai_recommendations: z.boolean().openapi({ default: true }),
    enable_smart_suggestions: z.boolean().openapi({ default: true }),
    preferences_json: z.record(z.string(), z.unknown()),
    reminder_days: z.array(z.number().int()).openapi({ default: [7, 3, 1], description: "Days before a favorite's closing (bid_status planning or preparing) at which a reminder is sent" }),
    email_suppressed: z
      .object({
        reason: z.enum(["rejected", "bounced"]).openapi({ description: "rejected: the email provider refused the address for good when keel sent to it" }),
        since: z.string().openapi({ description: "ISO 8601" }),
      })
      .nullable()
      .openapi({
        description:
          "Non-null while alert and digest emails are not sent to the account's address, because the provider refused it. Changing the address, or verifying it again (POST /auth/resend-verification, then the link), lifts it.",
      }),
    updated_at: z.string(),
  })
  .openapi("Preferences");
