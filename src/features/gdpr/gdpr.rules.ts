/**
 * Pure rules of erasure: what of an audit row's details survives the purge of its user.
 * The event stays (its keys and non-personal values: ids, methods, reasons); addresses, names,
 * phone numbers, IPs and user agents go.
 */

/** Keys whose values are personal whatever they hold. */
const PERSONAL_KEYS = new Set(["email", "old_email", "new_email", "full_name", "phone", "ip", "ip_address", "user_agent", "device", "device_name"]);

export const ERASED = "[erased]";

/**
 * Returns `details` without personal data: personal keys removed; any string holding an `@`
 * (an address) or one of `personal` (the user's name, phone: case-insensitive, when at least
 * 3 characters long) replaced by `[erased]`; keys holding an `@` removed. The result never
 * contains an `@`, which the purge relies on to know a row is done.
 */
export function scrubDetails(details: unknown, personal: readonly (string | null)[]): Record<string, unknown> {
  const needles = personal.filter((p): p is string => typeof p === "string" && p.trim().length >= 3).map((p) => p.trim().toLowerCase());
  const scrub = (value: unknown): unknown => {
    if (typeof value === "string") {
      const lower = value.toLowerCase();
      return value.includes("@") || needles.some((n) => lower.includes(n)) ? ERASED : value;
    }
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        if (PERSONAL_KEYS.has(key.toLowerCase()) || key.includes("@")) continue;
        out[key] = scrub(v);
      }
      return out;
    }
    return value;
  };
  const result = scrub(details);
  return result && typeof result === "object" && !Array.isArray(result) ? (result as Record<string, unknown>) : {};
}
