// Human words for the API's field names and fixed-choice values, so the console never shows
// `email_digest_frequency` or `closing_date` to a person. Unknown names fall back to a
// readable form of the field name ("head_office_city" → "Head office city").

const LABELS: Record<string, string> = {
  company_name: "Company name",
  designation: "Job title",
  gst_number: "GSTIN",
  pan_number: "PAN",
  company_registration_number: "Company registration number",
  annual_turnover_range: "Annual turnover",
  employee_count_range: "Employees",
  years_in_business: "Years in business",
  industry_sector: "Industry sectors",
  operating_states: "Operating states",
  head_office_city: "Head office city",
  head_office_state: "Head office state",
  preferred_tender_types: "Preferred tender types",
  min_tender_value: "Smallest tender value (₹)",
  max_tender_value: "Largest tender value (₹)",
  specializations: "Specializations",
  timezone: "Time zone",
  language_preference: "Language",
  default_view: "Tender list layout",
  tenders_per_page: "Tenders per page",
  default_sort: "Sort tenders by",
  quiet_hours_start: "Quiet hours from (HH:MM)",
  quiet_hours_end: "Quiet hours until (HH:MM)",
  max_alerts_per_day: "Most alert emails a day",
  email_digest_frequency: "Digest email",
  email_digest_time: "Digest time (HH:MM)",
  profile_visibility: "Who can see my profile",
  highlight_urgent_tenders: "Highlight tenders closing soon",
  show_expired_tenders: "Show closed tenders",
  enable_ai_recommendations: "Recommendations",
  enable_smart_suggestions: "Smart suggestions",
  email_suppressed: "Email stopped (bounces)",
};

/** The label of an API field. */
export function fieldLabel(name: string): string {
  const known = LABELS[name];
  if (known) return known;
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** India's states and union territories: the values a tender's `state` takes. */
export const INDIAN_STATES = [
  "Andaman and Nicobar Islands", "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chandigarh", "Chhattisgarh",
  "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Goa", "Gujarat", "Haryana", "Himachal Pradesh", "Jammu and Kashmir",
  "Jharkhand", "Karnataka", "Kerala", "Ladakh", "Lakshadweep", "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya",
  "Mizoram", "Nagaland", "Odisha", "Puducherry", "Punjab", "Rajasthan", "Sikkim", "Tamil Nadu", "Telangana", "Tripura",
  "Uttar Pradesh", "Uttarakhand", "West Bengal",
] as const;

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : ["Asia/Kolkata", "UTC"];
  } catch {
    return ["Asia/Kolkata", "UTC"];
  }
}

/** Fixed-choice settings: [value, label] pairs, shown as a picker instead of a text box. */
export function choicesFor(name: string): [string, string][] | null {
  switch (name) {
    case "email_digest_frequency":
      return [["immediate", "As it happens"], ["daily", "Daily"], ["weekly", "Weekly"], ["never", "Never"]];
    case "default_view":
      return [["grid", "Grid"], ["list", "List"], ["compact", "Compact"]];
    case "default_sort":
      return [["closing_date", "Closing date"], ["value", "Value"], ["published_at", "Newest"], ["relevance", "Relevance"]];
    case "profile_visibility":
      return [["public", "Everyone"], ["organization", "My organizations"], ["private", "Only me"]];
    case "timezone":
      return timeZones().map((z) => [z, z.replace(/_/g, " ")]);
    case "head_office_state":
      return INDIAN_STATES.map((s) => [s, s]);
    default:
      return null;
  }
}

/** Words for user states, account types and organization roles in lists and filters. */
export const STATUS_LABELS: Record<string, string> = { active: "Active", inactive: "Inactive", suspended: "Suspended" };
