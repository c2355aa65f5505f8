import { z } from "@hono/zod-openapi";
import { PageQuery, pageOf } from "../../platform/pagination";
import { TenderCriteria } from "../tenders/criteria.schema";
import { TenderSchema } from "../tenders/tenders.schemas";
import type { SavedSearchRow } from "./saved-searches.repo";

export const CreateSavedSearchInput = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    query: TenderCriteria,
  })
  .openapi("CreateSavedSearchInput");
export type CreateSavedSearchInput = z.infer<typeof CreateSavedSearchInput>;

export const SavedSearchSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    query: TenderCriteria,
    use_count: z.number().int(),
    last_used_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("SavedSearch");

export const SavedSearchPage = pageOf(SavedSearchSchema).openapi("SavedSearchPage");

export const RunSavedSearchQuery = PageQuery.partial({ limit: true }).extend({
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "Default: the user's tenders_per_page preference" }),
});

export const SavedSearchRunSchema = pageOf(TenderSchema)
  .extend({ saved_search: SavedSearchSchema })
  .openapi("SavedSearchRun", { description: "The tenders that match the query now (first page counts as one use), in the user's default sort" });

export function toSavedSearchOut(row: SavedSearchRow): z.infer<typeof SavedSearchSchema> {
  return {
    id: row.id,
    name: row.name,
    query: row.query,
    use_count: row.useCount,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
