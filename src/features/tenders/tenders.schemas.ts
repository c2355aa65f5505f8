import { z } from "@hono/zod-openapi";
import { SYNC_CURSOR } from "../../platform/feed";
import { pageOf } from "../../platform/pagination";
import type { TenderRow } from "./tenders.repo";

export const MAX_TENDERS_PER_INGEST = 500;
export const TENDER_SORTS = ["closing_date", "value", "published_at", "relevance"] as const;
export type TenderSort = (typeof TENDER_SORTS)[number];
export const VIEW_SOURCES = ["search", "alert", "favorite", "recommendation", "direct"] as const;

const optionalText = (max: number) => z.string().trim().max(max).nullish();
const optionalDate = z.iso.datetime({ offset: true }).nullish();

export const TenderInput = z
  .strictObject({
    external_id: z.string().trim().min(1).max(200),
    title: z.string().trim().min(1).max(1000),
    description: z.string().max(50_000).nullish(),
    department: optionalText(200),
    state: optionalText(200),
    portal: optionalText(200),
    value: z.number().nonnegative().finite().nullish(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "An ISO 4217 code such as INR")
      .optional(),
    published_at: optionalDate,
    closing_date: optionalDate,
    // A link that reaches a mailbox: https (http only in development, checked by the ingest service).
    url: z
      .url({ protocol: /^https?$/, error: "Expected an https: URL" })
      .max(2000)
      .nullish()
      .openapi({ description: "https only (http is accepted in development only)" }),
  })
  .openapi("TenderInput");

export type TenderInput = z.infer<typeof TenderInput>;

export const IngestTendersInput = z
  .strictObject({
    tenders: z.array(TenderInput).min(1).max(MAX_TENDERS_PER_INGEST),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.tenders.forEach((t, i) => {
      if (seen.has(t.external_id)) ctx.addIssue({ code: "custom", path: ["tenders", i, "external_id"], message: "Duplicate external_id in this request" });
      seen.add(t.external_id);
    });
  })
  .openapi("IngestTendersInput", {
    description: "Each tender replaces the stored one with the same external_id (omitted fields become null; currency defaults to INR).",
  });

export const IngestTendersResult = z
  .object({
    inserted: z.number().int().openapi({ description: "Tenders that were new" }),
    updated: z.number().int().openapi({ description: "Existing tenders that changed (unchanged ones count in neither)" }),
  })
  .openapi("IngestTendersResult");

export const TenderSchema = z
  .object({
    id: z.string(),
    external_id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    department: z.string().nullable(),
    state: z.string().nullable(),
    portal: z.string().nullable(),
    value: z.number().nullable(),
    currency: z.string(),
    published_at: z.string().nullable(),
    closing_date: z.string().nullable(),
    url: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    urgent: z.boolean().openapi({ description: "Closes within 7 days (only when the user's highlight_urgent_tenders preference is on)" }),
  })
  .openapi("Tender");

export type TenderOut = z.infer<typeof TenderSchema>;

export function toTenderOut(row: TenderRow, urgent: boolean): TenderOut {
  return {
    id: row.id,
    external_id: row.externalId,
    title: row.title,
    description: row.description,
    department: row.department,
    state: row.state,
    portal: row.portal,
    value: row.value,
    currency: row.currency,
    published_at: row.publishedAt?.toISOString() ?? null,
    closing_date: row.closingDate?.toISOString() ?? null,
    url: row.url,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    urgent,
  };
}

const csvList = z
  .string()
  .max(4000)
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .optional();

const boolFlag = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1")
  .optional();

export const ListTendersQuery = z
  .object({
    q: z
      .string()
      .trim()
      .max(200)
      .optional()
      .openapi({ description: "One keyword (the keyword rule of docs/api.md): every word in the title or description, ignoring case and accents; `word*` is a prefix" }),
    states: csvList.openapi({ type: "string", description: "Comma-separated; exact, ignoring case" }),
    departments: csvList.openapi({ type: "string", description: "Comma-separated; exact, ignoring case" }),
    min_value: z.coerce.number().nonnegative().optional(),
    max_value: z.coerce.number().nonnegative().optional(),
    closing_after: z.iso.datetime({ offset: true }).optional(),
    closing_before: z.iso.datetime({ offset: true }).optional(),
    sort: z.enum(TENDER_SORTS).optional().openapi({
      description:
        "Default: the user's default_sort preference. closing_date: soonest first; value and published_at: largest/newest first; relevance: bm25 (needs q; without q, newest first)",
    }),
    include_expired: boolFlag.openapi({ type: "string", description: "Show tenders whose closing date has passed (default: the show_expired_tenders preference)" }),
    limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "Default: the user's tenders_per_page preference" }),
    cursor: z.string().max(500).optional(),
    updated_since: z.iso.datetime({ offset: true }).optional().openapi({
      description:
        "Change feed: every tender inserted or changed at or after this instant (expired ones included), oldest change first, with `limit` and `cursor` only. Keep `sync_cursor` and call again with it for what changed since: no gaps, no repeats",
    }),
  })
  .refine((v) => v.min_value === undefined || v.max_value === undefined || v.min_value <= v.max_value, {
    path: ["max_value"],
    message: "Must be greater than or equal to min_value",
  });

export type ListTendersQuery = z.infer<typeof ListTendersQuery>;

export const TenderPage = pageOf(TenderSchema)
  .extend({ sync_cursor: SYNC_CURSOR.optional() })
  .openapi("TenderPage");

export const TenderViewQuery = z.object({
  source: z.enum(VIEW_SOURCES).default("direct").openapi({ description: "Where the user came from; recorded as a view interaction" }),
});

export const TenderNoteSchema = z
  .object({
    id: z.string(),
    note_text: z.string(),
    note_type: z.enum(["general", "technical", "financial", "risk"]),
    is_shared: z.boolean(),
    organization_id: z.string().nullable().openapi({ description: "The organization the note is shared with; null when private" }),
    own: z.boolean().openapi({ description: "Written by the caller" }),
    author: z.object({ id: z.string(), full_name: z.string() }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("TenderNote");

export const TenderDetailSchema = TenderSchema.extend({
  notes: z.array(TenderNoteSchema).optional().openapi({
    description:
      "The caller's own notes and the notes shared with an organization the caller belongs to (by an author who still belongs to it), the newest 50. " +
      "Present for sessions and for API keys holding read:notes; read:tenders alone returns no notes.",
  }),
  notes_total: z.number().int().optional().openapi({ description: "How many notes the caller may read on this tender (notes holds the newest 50); present with notes" }),
}).openapi("TenderDetail");
