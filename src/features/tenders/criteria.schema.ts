/**
 * The one schema for alert criteria and saved-search queries (API.md, "Alert criteria"). Routes
 * for alerts, saved searches and anything else that accepts criteria use it as is, so the rules
 * live in one place. Every issue carries a `path` (`["keywords", 3]`, `["max_value"]`, `[]` for
 * the whole object), which `zodFieldErrors` turns into `errors[{path, message}]`.
 *
 * The refinements make this a refined object: zod 4 refuses `.partial()`/`.extend()` on it, so a
 * PATCH replaces `criteria` as a whole instead of merging fields.
 */
import { z } from "@hono/zod-openapi";
import { compileKeyword } from "./match";

export const MAX_KEYWORDS = 20;
export const MAX_KEYWORD_LENGTH = 100;
/** India has 28 states and 8 union territories; the cap leaves room for spelling variants. */
export const MAX_STATES = 50;
export const MAX_DEPARTMENTS = 50;
export const MAX_LABEL_LENGTH = 200;

export const CLOSING_DATE_RANGES = ["next_7_days", "next_30_days", "next_90_days", "any"] as const;

const Keyword = z
  .string()
  .trim()
  // abort: one message per bad keyword, not also "must contain a letter" for a blank one.
  .min(1, { error: "Must not be empty", abort: true })
  .max(MAX_KEYWORD_LENGTH, { error: `Must be at most ${MAX_KEYWORD_LENGTH} characters`, abort: true })
  // A keyword without a word would match nothing (match.ts), so say so instead of storing it.
  .refine((k) => {
    const c = compileKeyword(k);
    return c.words.length + c.prefixes.length > 0;
  }, "Must contain at least one letter or digit");

const keywordList = (description: string) =>
  z
    .array(Keyword)
    .max(MAX_KEYWORDS, `At most ${MAX_KEYWORDS} keywords`)
    .optional()
    .openapi({ description, example: ["road construction", "bridge*"] });

const labelList = (max: number, description: string, example: string[]) =>
  z
    .array(z.string().trim().min(1, "Must not be empty").max(MAX_LABEL_LENGTH, `Must be at most ${MAX_LABEL_LENGTH} characters`))
    .max(max, `At most ${max} entries`)
    .optional()
    .openapi({ description, example });

const Amount = z.number().nonnegative("Must not be negative");

/** Whether criteria set at least one positive criterion (excludes alone, or "any", are not one). */
export function hasPositiveCriterion(c: {
  keywords?: readonly string[] | undefined;
  states?: readonly string[] | undefined;
  departments?: readonly string[] | undefined;
  min_value?: number | undefined;
  max_value?: number | undefined;
  closing_date_range?: string | undefined;
}): boolean {
  return (
    (c.keywords?.length ?? 0) > 0 ||
    (c.states?.length ?? 0) > 0 ||
    (c.departments?.length ?? 0) > 0 ||
    c.min_value !== undefined ||
    c.max_value !== undefined ||
    (c.closing_date_range !== undefined && c.closing_date_range !== "any")
  );
}

/**
 * Alert criteria / saved-search query.
 *
 * @example
 * const parsed = TenderCriteria.safeParse(body.criteria);
 * if (!parsed.success) throw new AppError("validation_failed", undefined, { errors: zodFieldErrors(parsed.error.issues) });
 */
export const TenderCriteria = z
  .strictObject({
    keywords: keywordList(
      "A tender matches when at least one keyword matches: every word of the keyword appears as a whole word " +
        "in the title or description, ignoring case and accents; a word ending in `*` matches as a prefix.",
    ),
    exclude_keywords: keywordList("A tender is removed when any of these matches, on the same rule."),
    states: labelList(MAX_STATES, "Exact state names, ignoring case and accents.", ["Bihar", "Tamil Nadu"]),
    departments: labelList(MAX_DEPARTMENTS, "Exact department names, ignoring case and accents.", ["Public Works Department"]),
    min_value: Amount.optional().openapi({ description: "Minimum tender value; tenders without a value fail it.", example: 1_000_000 }),
    max_value: Amount.optional().openapi({ description: "Maximum tender value; tenders without a value fail it.", example: 50_000_000 }),
    closing_date_range: z
      .enum(CLOSING_DATE_RANGES)
      .optional()
      .openapi({ description: "Tenders closing within this window from the time of matching; tenders without a closing date fail it." }),
  })
  .superRefine((c, ctx) => {
    if (!hasPositiveCriterion(c)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "Set at least one of keywords, states, departments, min_value, max_value or closing_date_range (other than any)",
      });
    }
    if (c.min_value !== undefined && c.max_value !== undefined && c.min_value > c.max_value) {
      ctx.addIssue({ code: "custom", path: ["max_value"], message: "Must be greater than or equal to min_value" });
    }
  })
  .openapi("TenderCriteria", {
    example: { keywords: ["road construction", "bridge"], exclude_keywords: ["supply only"], states: ["Bihar"], min_value: 1_000_000 },
  });

export type TenderCriteria = z.infer<typeof TenderCriteria>;
