/**
 * Text normalisation for matching tenders (API.md's keyword rule). Pure; no I/O.
 *
 * One place decides what a "word" is, so the alert matcher, saved searches and `/tenders?q=` can
 * never disagree. The rules follow the FTS5 index of migration 0001 (`unicode61
 * remove_diacritics 2`): case folded, accents removed, a word is a run of letters, digits or
 * private-use characters (Unicode L*, N*, Co) and everything else separates words.
 *
 * Agreement with FTS5 (pinned by text.test.ts against a real FTS5 table in workerd):
 * - For Latin-script text (English, accented or not, precomposed or combining accents),
 *   `tokenize(s)` equals the terms FTS5 indexes for `s`.
 * - For every string, `tokenize(s)` equals the terms FTS5 indexes for `normalizeText(s)`. The two
 *   differ on raw text only where NFKD folds more than FTS5 does: compatibility characters
 *   ("ﬁ" → "fi", full-width "ｒｏａｄ" → "road", "²" → "2") and the combining vowel signs of Indic
 *   scripts, which FTS5 treats as separators and this module removes. An index fed with
 *   `normalizeText(title)` agrees exactly, in every script.
 *
 * Known limit: removing every combining mark reduces Devanagari words to their consonants
 * ("निर्माण" → "नरमण"), so Hindi keywords match by that skeleton. Keyword and tender go through
 * the same function, so a Hindi keyword still finds its own word; it may also find a word that
 * differs only in vowel signs.
 */

// Combining marks (Mn, Mc, Me) left after NFKD: the accents to drop.
const MARKS = /\p{M}+/gu;
/** The characters of a word (a RegExp character class, needs the `u` flag): letters, digits and
 * private-use characters, FTS5 unicode61's default token categories. */
export const WORD_CHAR_CLASS = "[\\p{L}\\p{N}\\p{Co}]";
const WORD = new RegExp(`${WORD_CHAR_CLASS}+`, "gu");
const WHITESPACE = /\s+/g;

/**
 * Lower case, compatibility-decomposed (NFKD) and without combining marks. Idempotent.
 *
 * @example normalizeText("Réfection de la Route") // "refection de la route"
 */
export function normalizeText(text: string): string {
  // NFKD first, so "É" becomes "E" + U+0301 and the mark can go; lower-casing after it because
  // NFKD can produce capitals ("ℌ" → "H"), and lower-casing can produce marks ("İ" → "i" + U+0307),
  // which the final pass removes.
  return text.normalize("NFKD").toLowerCase().replace(MARKS, "");
}

/**
 * The whole words of a text, normalised, in order, duplicates kept.
 *
 * @example tokenize("IT/Software-hardware, Café 3.5km") // ["it", "software", "hardware", "cafe", "3", "5km"]
 */
export function tokenize(text: string): string[] {
  return normalizeText(text).match(WORD) ?? [];
}

/**
 * The comparison key of a label such as a state or department: normalised as {@link normalizeText},
 * trimmed, inner whitespace collapsed to one space. Punctuation stays significant, so
 * "Jammu & Kashmir" and "Jammu and Kashmir" remain different labels.
 *
 * @example normalizeLabel("  Tamil   NADU ") // "tamil nadu"
 */
export function normalizeLabel(label: string): string {
  return normalizeText(label).trim().replace(WHITESPACE, " ");
}
