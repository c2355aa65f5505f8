/**
 * Pure rules of the profile and preferences: formats the API accepts and the completion score.
 * No runtime, no clock, no database, so they are unit- and property-tested beside this file.
 */

/** Indian Permanent Account Number: five letters, four digits, one letter (e.g. `ABCDE1234F`). */
export const PAN_PATTERN = /^[A-Z]{5}[0-9]{4}[A-Z]$/;

/**
 * GSTIN, 15 characters: 2-digit state code, the holder's PAN, the entity number (1-9, A-Z),
 * the letter `Z`, and a check character (e.g. `27ABCDE1234F1Z5`).
 */
export const GSTIN_PATTERN = /^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;

/** A time of day "HH:MM", 00:00 to 23:59. */
export const HHMM_PATTERN = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** A BCP 47-style language tag as short as the seed's `VARCHAR(10)` (`en`, `hi`, `en-IN`). */
export const LANGUAGE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$/;

let zones: Set<string> | null | undefined;

/**
 * Whether `tz` is an IANA time zone the runtime knows. `Intl.supportedValuesOf` lists canonical
 * names only, so an accepted alias (`Asia/Calcutta`) is checked by constructing a formatter.
 */
export function isIanaTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64) return false;
  if (zones === undefined) {
    try {
      zones = new Set(Intl.supportedValuesOf("timeZone"));
    } catch {
      zones = null;
    }
  }
  if (zones?.has(tz)) return true;
  // Offsets such as "+05:30" are valid for Intl but are not IANA names: refuse them.
  if (!/^[A-Za-z]/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The profile fields that `profile_completion_percentage` counts, each worth the same. */
export interface CompletionInput {
  companyName: string | null;
  designation: string | null;
  industrySector: readonly string[];
  gstNumber: string | null;
  panNumber: string | null;
  companyRegistrationNumber: string | null;
  annualTurnoverRange: string | null;
  employeeCountRange: string | null;
  yearsInBusiness: number | null;
  operatingStates: readonly string[];
  headOfficeCity: string | null;
  headOfficeState: string | null;
  preferredTenderTypes: readonly string[];
  minTenderValue: number | null;
  maxTenderValue: number | null;
  specializations: readonly string[];
}

/**
 * Which parts of a profile count as filled. Fields that always have a value (timezone, language,
 * notification preferences: they start with defaults) do not count; the tender value range
 * counts once, when either bound is set.
 */
export const COMPLETION_PARTS: readonly ((p: CompletionInput) => boolean)[] = [
  (p) => !!p.companyName,
  (p) => !!p.designation,
  (p) => p.industrySector.length > 0,
  (p) => !!p.gstNumber,
  (p) => !!p.panNumber,
  (p) => !!p.companyRegistrationNumber,
  (p) => !!p.annualTurnoverRange,
  (p) => !!p.employeeCountRange,
  (p) => p.yearsInBusiness !== null,
  (p) => p.operatingStates.length > 0,
  (p) => !!p.headOfficeCity,
  (p) => !!p.headOfficeState,
  (p) => p.preferredTenderTypes.length > 0,
  (p) => p.minTenderValue !== null || p.maxTenderValue !== null,
  (p) => p.specializations.length > 0,
];

/** 0–100: the share of `COMPLETION_PARTS` that are filled, rounded down (100 only when all are). */
export function profileCompletion(p: CompletionInput): number {
  const filled = COMPLETION_PARTS.filter((part) => part(p)).length;
  return Math.floor((filled * 100) / COMPLETION_PARTS.length);
}
