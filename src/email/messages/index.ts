/**
 * One message catalogue for alert, digest and notification emails: English (the reference) and
 * Hindi. `messagesFor(language_preference)` picks by the language's primary subtag ("hi", "hi-IN");
 * anything else, or a key a catalogue lacks at run time, falls back to English.
 */
import { en, type Messages } from "./en";
import { hi } from "./hi";

export type { Messages } from "./en";
export const CATALOGUES: Readonly<Record<string, Partial<Messages>>> = { en, hi };

export function messagesFor(language: string | null | undefined): Messages {
  const primary = (language ?? "en").toLowerCase().split(/[-_]/)[0] ?? "en";
  const catalogue = CATALOGUES[primary];
  if (!catalogue || catalogue === en) return en;
  // Fallback per key: a catalogue loaded without a key (or with undefined) still renders English.
  const merged: Record<string, unknown> = { ...en };
  for (const [k, v] of Object.entries(catalogue)) if (v !== undefined) merged[k] = v;
  return merged as Messages;
}
