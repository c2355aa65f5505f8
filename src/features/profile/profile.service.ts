import { ownerOf } from "../../identity/owner";
import { runBatch } from "../../platform/db";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { assertVersion, preconditionFailed, versionMatches, type IfMatch } from "../../platform/etag";
import { suppressionsRepo } from "../../email/suppressions.repo";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { profileRepo, type PreferencesPatch, type PreferencesRow, type ProfilePatch, type ProfileRow } from "./profile.repo";
import { profileCompletion } from "./profile.rules";
import type { UpdatePreferencesInput, UpdateProfileInput } from "./profile.schemas";

/** Created with the user; missing only if the account was erased meanwhile. */
const gone = () => new AppError("unauthenticated", "Session has ended");

export function toProfileOut(row: ProfileRow) {
  return {
    company_name: row.companyName,
    designation: row.designation,
    industry_sector: row.industrySector,
    gst_number: row.gstNumber,
    pan_number: row.panNumber,
    company_registration_number: row.companyRegistrationNumber,
    annual_turnover_range: row.annualTurnoverRange,
    employee_count_range: row.employeeCountRange,
    years_in_business: row.yearsInBusiness,
    operating_states: row.operatingStates,
    head_office_city: row.headOfficeCity,
    head_office_state: row.headOfficeState,
    preferred_tender_types: row.preferredTenderTypes,
    min_tender_value: row.minTenderValue,
    max_tender_value: row.maxTenderValue,
    specializations: row.specializations,
    notification_preferences: row.notificationPreferences,
    timezone: row.timezone,
    language_preference: row.languagePreference,
    profile_completion_percentage: profileCompletion(row),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** An active suppression of the user's address (email/suppressions.repo.ts), as /me/preferences shows it. */
export type SuppressionRow = { reason: "rejected" | "bounced"; since: Date } | undefined;

export function toPreferencesOut(row: PreferencesRow, suppressed: SuppressionRow = undefined) {
  return {
    default_view: row.defaultView,
    tenders_per_page: row.tendersPerPage,
    default_sort: row.defaultSort,
    quiet_hours_start: row.quietHoursStart,
    quiet_hours_end: row.quietHoursEnd,
    max_alerts_per_day: row.maxAlertsPerDay,
    email_digest_frequency: row.emailDigestFrequency,
    email_digest_time: row.emailDigestTime,
    email_digest_weekday: row.emailDigestWeekday,
    show_expired_tenders: row.showExpiredTenders,
    highlight_urgent_tenders: row.highlightUrgentTenders,
    profile_visibility: row.profileVisibility,
    enable_ai_recommendations: row.enableAiRecommendations,
    enable_smart_suggestions: row.enableSmartSuggestions,
    preferences_json: row.preferencesJson,
    reminder_days: row.reminderDays,
    email_suppressed: suppressed ? { reason: suppressed.reason, since: suppressed.since.toISOString() } : null,
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function getProfile(ctx: RequestContext, actor: Actor) {
  const row = await profileRepo(ctx.db, ownerOf(actor)).getProfile();
  if (!row) throw gone();
  return toProfileOut(row);
}

/** The stored-column patch of a profile input: only the fields sent (null clears). Shared with the admin import. */
export function profilePatchFrom(input: UpdateProfileInput): ProfilePatch {
  const patch: ProfilePatch = {};
  const set = <K extends keyof ProfilePatch>(key: K, value: ProfilePatch[K] | undefined) => {
    if (value !== undefined) patch[key] = value;
  };
  set("companyName", input.company_name);
  set("designation", input.designation);
  set("industrySector", input.industry_sector);
  set("gstNumber", input.gst_number);
  set("panNumber", input.pan_number);
  set("companyRegistrationNumber", input.company_registration_number);
  set("annualTurnoverRange", input.annual_turnover_range);
  set("employeeCountRange", input.employee_count_range);
  set("yearsInBusiness", input.years_in_business);
  set("operatingStates", input.operating_states);
  set("headOfficeCity", input.head_office_city);
  set("headOfficeState", input.head_office_state);
  set("preferredTenderTypes", input.preferred_tender_types);
  set("minTenderValue", input.min_tender_value);
  set("maxTenderValue", input.max_tender_value);
  set("specializations", input.specializations);
  set("notificationPreferences", input.notification_preferences);
  set("timezone", input.timezone);
  set("languagePreference", input.language_preference);
  return patch;
}

/** Only the fields sent change; null clears a nullable field. min ≤ max holds after the write. */
export async function updateProfile(ctx: RequestContext, actor: Actor, input: UpdateProfileInput, ifMatch?: IfMatch) {
  const repo = profileRepo(ctx.db, ownerOf(actor));
  const patch = profilePatchFrom(input);
  if (Object.keys(patch).length === 0) {
    const current = await getProfile(ctx, actor);
    assertVersion(ifMatch, new Date(current.updated_at));
    return current;
  }

  // Field names only: the values (PAN, GSTIN…) are personal data and stay out of the audit log.
  const [updated] = await runBatch(ctx, [
    repo.updateProfile(patch, ctx.now, ifMatch),
    auditInsertIf(ctx.db, ctx, { userId: actor.userId, action: "user.profile_updated", details: { fields: Object.keys(input).sort() } }, repo.profileWrittenAt(ctx.now)),
  ]);
  const row = updated[0];
  if (!row) {
    const stored = await repo.getProfile();
    if (!stored) throw gone();
    if (!versionMatches(ifMatch, stored.updatedAt)) throw preconditionFailed();
    const path = "minTenderValue" in patch ? "min_tender_value" : "max_tender_value";
    throw new AppError("validation_failed", "min_tender_value must not exceed max_tender_value", {
      errors: [{ path, message: "min_tender_value must not exceed max_tender_value (the other bound is the stored one)" }],
    });
  }
  return toProfileOut(row);
}

export async function getPreferences(ctx: RequestContext, actor: Actor) {
  const [row, suppressed] = await Promise.all([profileRepo(ctx.db, ownerOf(actor)).getPreferences(), suppressionsRepo(ctx.db).active(actor.userId)]);
  if (!row) throw gone();
  return toPreferencesOut(row, suppressed);
}

export async function updatePreferences(ctx: RequestContext, actor: Actor, input: UpdatePreferencesInput, ifMatch?: IfMatch) {
  const patch: PreferencesPatch = {};
  const set = <K extends keyof PreferencesPatch>(key: K, value: PreferencesPatch[K] | undefined) => {
    if (value !== undefined) patch[key] = value;
  };
  set("defaultView", input.default_view);
  set("tendersPerPage", input.tenders_per_page);
  set("defaultSort", input.default_sort);
  set("quietHoursStart", input.quiet_hours_start);
  set("quietHoursEnd", input.quiet_hours_end);
  set("maxAlertsPerDay", input.max_alerts_per_day);
  set("emailDigestFrequency", input.email_digest_frequency);
  set("emailDigestTime", input.email_digest_time);
  set("emailDigestWeekday", input.email_digest_weekday);
  set("showExpiredTenders", input.show_expired_tenders);
  set("highlightUrgentTenders", input.highlight_urgent_tenders);
  set("profileVisibility", input.profile_visibility);
  set("enableAiRecommendations", input.enable_ai_recommendations);
  set("enableSmartSuggestions", input.enable_smart_suggestions);
  set("preferencesJson", input.preferences_json as Record<string, unknown> | undefined);
  set("reminderDays", input.reminder_days);
  if (Object.keys(patch).length === 0) {
    const current = await getPreferences(ctx, actor);
    assertVersion(ifMatch, new Date(current.updated_at));
    return current;
  }
  const repo = profileRepo(ctx.db, ownerOf(actor));
  const audit = { userId: actor.userId, action: "user.preferences_updated" as const, details: { fields: Object.keys(input).sort() } };
  const [updated] = await runBatch(ctx, [
    repo.updatePreferences(patch, ctx.now, ifMatch),
    // Under If-Match the write may not happen: the audit row only if it did.
    ifMatch ? auditInsertIf(ctx.db, ctx, audit, repo.preferencesWrittenAt(ctx.now)) : auditInsert(ctx.db, ctx, audit),
  ]);
  const row = updated[0];
  if (!row) {
    if (ifMatch && (await repo.getPreferences())) throw preconditionFailed();
    throw gone();
  }
  return toPreferencesOut(row, await suppressionsRepo(ctx.db).active(actor.userId));
}
